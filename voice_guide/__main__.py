"""Lets `python -m voice_guide` behave exactly like the `voice-guide` command."""

from voice_guide.cli import run

if __name__ == "__main__":
    run()
