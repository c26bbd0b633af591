"""`voice-guide voices`: the voices to choose among by ear; `voices try NAME` speaks a sample in one,
and `settings set voice NAME` keeps it."""

from __future__ import annotations

import argparse

from voice_guide.commands import devices_of, load_settings
from voice_guide.engines import VoiceSettings
from voice_guide.errors import UsageError

ORDER = 64
PLAY_LIMIT = 60.0
"""Seconds to wait at most for a sample to finish playing."""


def listing(current) -> list[str]:
    """One line per voice (`voices.TABLE`), `current` marked with '*'."""
    from voice_guide.speaking import voices

    lines = [f"{'*' if voice == current else ' '} {voice.name:<8} {voice.label}" for voice in voices.TABLE]
    return lines + ["", "Try one: voice-guide voices try NAME. Keep it: voice-guide settings set voice NAME."]


def run(args: argparse.Namespace) -> int:
    from voice_guide.speaking import voices

    settings = load_settings()
    if args.action == "list":
        if args.name:
            raise UsageError("Use: voice-guide voices, or voice-guide voices try NAME.")
        print("\n".join(listing(voices.current(settings))))
        return 0
    if len(args.name) != 1:
        raise UsageError("Use: voice-guide voices try NAME, e.g. voice-guide voices try bella.")
    voice = voices.named(args.name[0])
    devices = devices_of(args)
    chosen = voices.choose(settings, voice)
    synth = devices.synthesizer(chosen)
    try:
        audio = synth.synthesize(voices.SAMPLE.format(label=voice.label),
                                 VoiceSettings(chosen.rate, chosen.volume, chosen.voice))
    finally:
        synth.close()
    if getattr(synth, "notice", ""):
        print(synth.notice)
    print(f"{voice.name}: {voice.label} ({synth.name}). Keep it: voice-guide settings set voice {voice.name}")
    devices.speaker(settings.output_device).play(audio).wait(PLAY_LIMIT)
    return 0


def register(sub) -> None:
    p = sub.add_parser("voices", help="list the voices; 'try NAME' speaks a sample",
                       description="List the voices the guide can speak with ('*' marks the one in use); "
                       "'try NAME' speaks a sample in one; 'settings set voice NAME' keeps it.")
    p.add_argument("action", nargs="?", choices=["list", "try"], default="list")
    p.add_argument("name", nargs="*", metavar="NAME")
    p.set_defaults(func=run)
