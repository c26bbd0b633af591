"""`voice-guide enroll`: teach the guide your own way of saying its commands, by voice alone.

Run with no arguments it asks for each core command in turn ("Say 'pause'. ... Again."); name
commands to teach (or re-teach) only those; `--forget` deletes what was learnt; `--switch` sets up a
no-words sound (a click or tap, or a hum) that pauses and resumes. `--input` takes the takes from
recordings instead of the microphone (prompts are then printed, not spoken).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from voice_guide import settings as settings_mod
from voice_guide.engines import VoiceSettings
from voice_guide.errors import NO_INPUT, DeviceError
from voice_guide.commands import devices_of, library_of, load_settings

if TYPE_CHECKING:  # sound maths is imported when enrolling, so other commands start quickly
    from voice_guide.audio import Audio

ORDER = 60


class _Done:
    """A playback that has already finished."""

    def stop(self) -> None:
        pass

    def done(self) -> bool:
        return True

    def wait(self, timeout: float | None = None) -> bool:
        return True


class PrintedPrompts:
    """Synthesiser + speaker for `--input` runs: prompts are only printed (by the enroller's echo)."""

    name = "printed"

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        from voice_guide.audio import Audio

        return Audio.silence(0.0, 16000)

    def play(self, audio: Audio) -> _Done:
        return _Done()

    def close(self) -> None:
        pass


def _echo(text: str) -> None:
    print(text, flush=True)


def _engines(args: argparse.Namespace, settings: settings_mod.Settings):
    """(synthesiser, speaker, listen) for this run."""
    from voice_guide.voice.enrollment import mic_listener, recordings_listener

    if args.input:
        from voice_guide.hearing.audio_files import read_utterance

        printed = PrintedPrompts()
        return printed, printed, recordings_listener([read_utterance(p) for p in args.input])
    devices = devices_of(args)
    inputs, _ = devices.listing()
    if not inputs:
        raise DeviceError(NO_INPUT + " To teach the guide from recordings instead, use --input FILE.wav ...")
    mic = devices.microphone(settings.input_device)
    synth = devices.synthesizer(settings)
    if synth.notice:
        print(f"voice-guide: {synth.notice}", file=sys.stderr)
    return (synth, devices.speaker(settings.output_device),
            mic_listener(mic, settings.trailing_silence, settings.max_utterance))


def run(args: argparse.Namespace) -> int:
    from voice_guide.voice.enrollment import Enroller, commands_to_enrol, forget, switch_off
    from voice_guide.speaking.speech import voice_settings
    from voice_guide.wiring import open_embedder

    if args.forget:
        gone = forget(commands=commands_to_enrol(args.commands) if args.commands else ())
        print("Forgot your samples of: " + ", ".join(gone) + "." if gone else "There was nothing to forget.")
        return 0
    if args.switch == "off":
        print("The switch sound is off." if switch_off() else "No switch sound was set up.")
        return 0
    settings = load_settings()
    commands = commands_to_enrol(args.commands)
    synth, out, listen = _engines(args, settings)
    embedder = None
    if not args.switch:
        embedder, notice = open_embedder(settings, library_of(args).items, devices_of(args))
        if notice:
            print(f"voice-guide: {notice}", file=sys.stderr)
    enroller = Enroller(synth, out, listen, voice=voice_settings(settings), takes=args.takes, echo=_echo,
                        embedder=embedder)
    try:
        if args.switch:
            ok = enroller.enrol_switch(args.switch, args.switch_action)
            return 0 if ok else 1
        report = enroller.enrol(commands)
    finally:
        synth.close()
    if report.enrolled:
        print(f"Learned your voice for: {', '.join(report.enrolled)}.")
    if report.skipped:
        print(f"Left for another time: {', '.join(report.skipped)} "
              f"(run voice-guide enroll {' '.join(report.skipped)}).")
    return 0 if report.enrolled else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "enroll",
        help="teach the guide your own voice for its commands (by voice, no screen needed)",
        description="The guide asks you to say each command a few times and learns how you say it, so "
        "it understands you even when ordinary speech recognition does not. Only sound features are "
        "kept, in your own data folder; nothing leaves the computer.",
    )
    parser.add_argument("commands", nargs="*", metavar="COMMAND",
                        help="teach (or re-teach) only these, e.g. 'pause' (default: next, back, repeat, "
                        "pause, resume, stop, slower, louder, quieter, help, yes, no)")
    parser.add_argument("--forget", action="store_true",
                        help="delete what was learnt (only the named commands, if any are given)")
    parser.add_argument("--takes", type=int, default=3, metavar="N", help="takes per command, 3 to 5 (default 3)")
    parser.add_argument("--input", nargs="+", metavar="FILE", help="use these recordings as the takes, in "
                        "order, instead of the microphone (one utterance per file)")
    parser.add_argument("--switch", choices=("click", "hum", "off"),
                        help="set up a no-words switch sound instead: 'click' (tongue click or tap), 'hum', "
                        "or 'off' to turn it off")
    parser.add_argument("--switch-action", choices=("toggle", "pause"), default="toggle",
                        help="what the switch does: 'toggle' pause and resume (default) or always 'pause'")
    parser.set_defaults(func=run)
