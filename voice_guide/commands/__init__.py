"""One module per CLI subcommand; each has `register(subparsers)` that sets `func(args) -> int`.

`cli.main` hands every command what it talks to on `args`: `args.devices` (how engines are opened) and
`args.library` (the topics and sessions), each None for this machine's own; commands take them through
`devices_of` and `library_of`, so tests pass fakes in rather than patch them in.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from voice_guide import settings as settings_mod

if TYPE_CHECKING:
    from voice_guide.content.loader import Library
    from voice_guide.wiring import Devices


def load_settings() -> settings_mod.Settings:
    """The user's settings; when the file had to be set aside, say so once on stderr."""
    settings = settings_mod.load()
    if settings.notice:
        print(f"voice-guide: {settings.notice}", file=sys.stderr)
    return settings


def devices_of(args: argparse.Namespace) -> Devices:
    """The devices `cli.main` was handed, else this machine's."""
    from voice_guide.wiring import Devices

    return getattr(args, "devices", None) or Devices()


def library_of(args: argparse.Namespace) -> Library:
    """The library `cli.main` was handed, else the package's own content."""
    from voice_guide.content.loader import load_library

    return getattr(args, "library", None) or load_library()
