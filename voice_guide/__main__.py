"""Lets `python -m voice_guide` behave exactly like the `voice-guide` command."""

from voice_guide.cli import main

raise SystemExit(main())
