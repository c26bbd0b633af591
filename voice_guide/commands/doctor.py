"""`voice-guide doctor`: what works here — voice, audio devices, ffmpeg, recogniser model — and what to
do about anything that does not."""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass
from typing import Callable

ORDER = 70


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str


def check_settings(settings) -> Check:
    """A settings file that had to be set aside (a value of the wrong type, out of range) is a problem
    to report, though the guide goes on with the defaults."""
    from voice_guide.settings import settings_path

    if settings.notice:
        return Check("settings", False, settings.notice)
    where = settings_path()
    return Check("settings", True, f"{where}" if where.exists() else "the defaults (nothing has been changed)")


def check_enrolled(settings) -> Check:
    """The user's enrolled voice samples and switch sound, checked as `hear` and the guide load them."""
    from voice_guide.commands.model import encoder_in_use
    from voice_guide.voice.personal import PersonalModel

    model = PersonalModel.load()
    if model.notice:
        return Check("your voice", False, model.notice)
    return Check("your voice", True, model.describe(encoder_in_use(settings)))


def check_voice(settings) -> Check:
    """Which voice speaks, in the words `voice-guide voices` uses, and why; a stand-in for the voice the
    settings choose is a problem (setup brings the chosen one back), said with what was wanted."""
    from voice_guide.engines import VoiceSettings
    from voice_guide.speaking import voices
    from voice_guide.wiring import Devices

    synth = Devices().synthesizer(settings)
    try:
        audio = synth.synthesize("Hello.", VoiceSettings(settings.rate, settings.volume, settings.voice))
    finally:
        synth.close()
    if audio.duration <= 0.1:
        return Check("voice", False, f"{synth.name} gave no sound; run scripts/setup.sh again")
    speaking, wanted = voices.spoken_by(synth.name), voices.current(settings)
    who = f"{speaking.label} ('{speaking.name}', {synth.name})" if speaking else synth.name
    instead = f" instead of {wanted.label} ('{wanted.name}')" if synth.notice and wanted and wanted != speaking else ""
    return Check("voice", not synth.notice,
                 f"{who} speaks{instead} ({audio.duration:.1f} s for 'Hello.'); why: {synth.reason}")


def check_tool(tool: str, why: str) -> Callable[[object], Check]:
    def run(_settings) -> Check:
        path = shutil.which(tool)
        if path:
            return Check(tool, True, path)
        return Check(tool, False, f"not installed ({why}); run scripts/setup.sh or apt-get install {tool}")

    return run


def check_devices(settings, devices: Callable[[], tuple[list, list]] | None = None) -> Check:
    """`devices()` gives (inputs, outputs); this machine's (`wiring.Devices.listing`) by default."""
    if devices is None:
        from voice_guide.wiring import Devices

        devices = Devices().listing

    inputs, outputs = devices()
    if not outputs:
        # Not an error: the guide then runs as text (voice_guide.speaking.text_only), and export needs no speaker.
        return Check("audio", True, "no speaker or sound output found, so the guide will print what it would "
                     "say; connect one to hear it, or use 'export' to make audio files for another player")
    mic = f"{len(inputs)} microphone(s)" if inputs else "no microphone (keyboard control only)"
    return Check("audio", True, f"{len(outputs)} output(s), {mic}")


def check_recogniser(settings) -> Check:
    from voice_guide.engine_table import recognizer_choice

    return Check("recogniser", True, str(recognizer_choice(settings, thorough=True)))


def check_command_model(settings) -> Check:
    """Not a problem when it cannot be used: Whisper and the matcher then decide alone; said so, with why."""
    from voice_guide.commands.model import command_model_line

    return Check("command model", True, command_model_line(settings))


CHECKS = [
    check_settings,
    check_voice,
    check_tool("espeak-ng", "the guide's voice"),
    check_tool("ffmpeg", "export to mp3, ogg and m4a"),
    check_devices,
    check_recogniser,
    check_enrolled,
    check_command_model,
]


def run_checks(settings, checks=CHECKS) -> list[Check]:
    results = []
    for check in checks:
        name = getattr(check, "__name__", "check").removeprefix("check_")
        try:
            results.append(check(settings))
        except Exception as exc:  # a doctor reports every failure, whatever its kind
            results.append(Check(name, False, str(exc) or type(exc).__name__))
    return results


def run(args: argparse.Namespace) -> int:
    from voice_guide import settings as settings_mod

    settings = settings_mod.load()  # a notice is reported by check_settings, not printed first
    results = run_checks(settings)
    for r in results:
        print(f"{'ok     ' if r.ok else 'PROBLEM'}  {r.name}: {r.detail}")
    return 0 if all(r.ok for r in results) else 1


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check what works here: voice, audio devices, ffmpeg, recogniser")
    p.set_defaults(func=run)
