"""One module per CLI subcommand; each has `register(subparsers)` that sets `func(args) -> int`."""

from __future__ import annotations

import sys

from voice_guide import settings as settings_mod


def load_settings() -> settings_mod.Settings:
    """The user's settings; when the file had to be set aside, say so once on stderr."""
    settings = settings_mod.load()
    if settings.notice:
        print(f"voice-guide: {settings.notice}", file=sys.stderr)
    return settings
