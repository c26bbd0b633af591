"""`voice-guide settings`: show, change or reset the saved settings, one plain line each."""

from __future__ import annotations

import argparse
from dataclasses import fields

from voice_guide import settings as settings_mod
from voice_guide.errors import UsageError
from voice_guide.settings import Settings
from voice_guide.commands import load_settings

ORDER = 65
NAMES = [f.name for f in fields(Settings) if f.name != "notice"]


def parse_value(name: str, text: str):
    """Turn the typed text into the field's type; 'none' clears an optional field."""
    default = getattr(Settings(), name)
    if text.lower() in ("none", "default", "") and (default is None or name.endswith("device")):
        return None
    try:
        if isinstance(default, bool):
            return text.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise UsageError(f"{name} takes a number, not {text!r}.") from None
    return text


def run(args: argparse.Namespace) -> int:
    current = load_settings()
    if args.action == "reset":
        path = settings_mod.save(Settings())
        print(f"Settings reset to the defaults in {path}.")
        return 0
    if args.action == "set":
        if len(args.values) != 2:
            raise UsageError("Use: voice-guide settings set NAME VALUE, e.g. settings set rate 130.")
        name, text = args.values
        if name not in NAMES:
            raise UsageError(f"There is no setting called {name!r}. Settings: {', '.join(NAMES)}.")
        current = current.with_changes(**{name: parse_value(name, text)})
        settings_mod.save(current)
    for name in NAMES:
        print(f"{name} = {getattr(current, name)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("settings", help="show, change or reset the settings",
                       description="Show the settings; 'set NAME VALUE' changes one; 'reset' restores "
                       "the defaults. Example: voice-guide settings set trailing_silence 1.5")
    p.add_argument("action", nargs="?", choices=["show", "set", "reset"], default="show")
    p.add_argument("values", nargs="*", metavar="NAME VALUE")
    p.set_defaults(func=run)
