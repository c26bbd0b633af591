"""`voice-guide settings`: show, change or reset the saved settings, one plain line each."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import TYPE_CHECKING

from voice_guide import paths, settings as settings_mod
from voice_guide.errors import EngineError, UsageError
from voice_guide.settings import Settings
from voice_guide.commands import devices_of, load_settings

if TYPE_CHECKING:
    from voice_guide.wiring import Devices

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


def check_here(name: str, value, devices: Devices) -> None:
    """Refuse a device, voice or Vosk model this machine does not have, as far as it can tell (no
    sound library or no espeak-ng: the value is taken unchecked); `devices` lists the machine's
    microphones, speakers and voices."""
    if value is None:
        return
    if name in ("input_device", "output_device"):
        try:
            inputs, outputs = devices.listing()
        except (EngineError, OSError):
            return
        devices = inputs if name == "input_device" else outputs
        text = str(value).strip().lower()
        if not any(text == str(d.index) or (not text.isdigit() and text in d.name.lower()) for d in devices):
            kind = "microphone" if name == "input_device" else "speaker"
            listing = "; ".join(f"{d.index}: {d.name}" for d in devices) or "none"
            raise UsageError(f"There is no {kind} {value!r} on this computer. {kind.capitalize()}s: {listing}.")
    elif name == "voice":
        try:
            voices = devices.voices()
        except EngineError:
            return
        wanted = str(value).split("+", 1)[0].strip().lower().replace("_", " ")
        known = {v.lower().replace("_", " ") for voice in voices
                 for v in (voice.identifier, voice.language, voice.name, voice.identifier.rsplit("/", 1)[-1])}
        if wanted not in known:
            raise UsageError(f"There is no voice called {value!r}; 'voice-guide voices' lists the guide's "
                             "voices, and 'espeak-ng --voices=en' espeak-ng's (use its language, e.g. en-gb).")
    elif name == "vosk_model":
        from voice_guide.understanding.recognition import looks_like_vosk_model

        if not looks_like_vosk_model(paths.expand(value, "That Vosk model folder", "give the folder itself")):
            raise UsageError(f"{value} is not a Vosk model folder (it has no am/final.mdl); give the folder of "
                             "an unpacked model, or use: voice-guide model install ZIP_OR_FOLDER.")


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
        from voice_guide.speaking import voices

        value = parse_value(name, text)
        table_voice = voices.find(text) if name == "voice" else None
        if table_voice is not None:  # a voice by its name sets its synthesiser too
            current = voices.choose(current, table_voice)
        else:
            check_here(name, value, devices_of(args))
            current = current.with_changes(**{name: value})
        settings_mod.save(current)
    for name in NAMES:
        value = getattr(current, name)
        shown = f"None (the default voice: {current.speaks_with})" if name == "synthesizer" and value is None else value
        print(f"{name} = {shown}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("settings", help="show, change or reset the settings",
                       description="Show the settings; 'set NAME VALUE' changes one; 'reset' restores "
                       "the defaults. Example: voice-guide settings set trailing_silence 1.5")
    p.add_argument("action", nargs="?", choices=["show", "set", "reset"], default="show")
    p.add_argument("values", nargs="*", metavar="NAME VALUE")
    p.set_defaults(func=run)
