"""Lets `python -m voice_guide` behave exactly like the `voice-guide` command."""

from voice_guide.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
