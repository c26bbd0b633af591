"""Figures for personal voice enrolment (issues 6 and 18): prints what the enrolled takes and the switch achieve.

- Command accuracy on held-out takes of synthetic degraded speakers (tests/degraded_speaker.py: an
  espeak-ng voice, lip sounds lost, low-passed to 1.2 kHz, smeared, noisy), through the guide's own
  path (by default its default recogniser, Whisper tiny.en, with the command model), three ways: no
  enrolment, the speaker's takes as MFCC templates, and the same takes as prototypes on Whisper's
  encoder (`voice.prototypes`); the takes used for enrolment are never tested on.
- False accepts: other words (and command-like words) taken for a command.
- speech-dev (real voices, ../shared/speech-dev): no speaker there has two takes of one word, so no one
  can be enrolled from it; it shows what a degraded speaker's enrolment does to other people's words
  (the guide hearing a visitor): commands acted on right and wrong, other words acted on.
- The no-words switch: detection of synthetic clicks, taps and hums; false triggers on speech
  (synthetic, and the real clips in ../shared/speech-dev when present) and on room noises.
- How long enrolling 12 commands takes a user (guide's prompts + takes + reaction time).

Usage: .venv/bin/python scripts/eval_personal.py [--held-out 8] [--takes 3 5]
    [--recogniser auto|whisper|pocketsphinx|vosk|none] [--command-model on|off] [--speech-dev]

"--recogniser none" hears nothing, so the takes decide alone; its prototypes are then heard through
tiny.en's encoder on its own. Nothing here is tuned: the factors were chosen by scripts/tune_personal.py
on other synthetic voices.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from degraded_speaker import (COMMANDS, NEAR_WORDS, OTHER_WORDS, clean_take, hum, room,  # noqa: E402
                              room_noise, table_tap, take, tongue_click)

from voice_guide.audio import Audio  # noqa: E402
from voice_guide.content.loader import load_library  # noqa: E402
from voice_guide.engines import VoiceSettings  # noqa: E402
from voice_guide.voice.enrollment import Enroller, recordings_listener  # noqa: E402
from voice_guide.hearing.features import utterance_features  # noqa: E402
from voice_guide.understanding.matching import Command  # noqa: E402
from voice_guide.understanding.vocabulary import build_vocabulary  # noqa: E402
from voice_guide.voice.personal import PersonalModel  # noqa: E402
from voice_guide.settings import Settings  # noqa: E402
from voice_guide.hearing.switch import SwitchDetector, SwitchProfile, TransientWatcher  # noqa: E402
from voice_guide.voice.prototypes import PrototypeSet  # noqa: E402
from voice_guide.voice.templates import TemplateSet  # noqa: E402
from voice_guide.understanding.command_model import POOLING, pool  # noqa: E402
from voice_guide.testing import MemoryAudioOut, ScriptedRecognizer  # noqa: E402
from voice_guide.understanding.understand import Understander  # noqa: E402

SPEECH_DEV = ROOT.parent / "shared" / "speech-dev"
"""Where speech-dev is when this checkout sits beside ../shared (--speech-dev DIR names another place)."""
REACTION = 1.0
"""Assumed seconds between the end of a prompt and the start of the user's take."""


def recogniser(name: str, vocab):
    if name == "none":
        return ScriptedRecognizer([]), "none (hears nothing)"
    from voice_guide.engine_table import open_recognizer_for

    rec = open_recognizer_for(Settings(recogniser=name), vocab)
    return rec, rec.name


class DecodeOnce:
    """Decodes each utterance once, and keeps its encoder output (when the recogniser has an encoder:
    `command_model.Encoding`), so every configuration is judged on the same recogniser guesses."""

    def __init__(self, inner, encoding=None) -> None:
        self.inner, self.name, self._seen, self._states = inner, inner.name, {}, {}
        self._encoding = encoding or (inner if getattr(inner, "encoder", "") else None)
        self.encoder = self._encoding.encoder if self._encoding is not None else ""

    def decode(self, audio: Audio):
        if id(audio) not in self._seen:
            self._seen[id(audio)] = (audio, self.inner.decode(audio))
        return self._seen[id(audio)][1]

    def encoder_states(self, audio: Audio) -> np.ndarray:
        if id(audio) not in self._states:
            self._states[id(audio)] = (audio, self._encoding.encoder_states(audio))
        return self._states[id(audio)][1]


def tiny_encoder():
    """tiny.en's encoder alone, for prototypes when the recogniser is not Whisper."""
    from voice_guide.adapters.whisper_asr import WhisperRecognizer
    from voice_guide.understanding.whisper_models import encoder_name, packaged_tiny

    return WhisperRecognizer(packaged_tiny(), encoder=encoder_name("tiny.en"))


def pct(k: int, n: int) -> str:
    return f"{100.0 * k / n:5.1f}% ({k}/{n})" if n else "  n/a"


SPEAKERS = {"A": {}, "B": {"voice": "en-gb-scotland", "pitch": 60}}
"""A: the test suite's degraded speaker; B: another espeak-ng voice and pitch, degraded the same way."""


def held_out_sets(speaker: str, n: int):
    voice = SPEAKERS[speaker]
    tests = [(w, take(w, 100 + i, True, **voice)) for w in COMMANDS for i in range(n)]
    others = [(w, take(w, 100 + i, True, **voice)) for w in OTHER_WORDS for i in range(2)]
    near = [(w, take(w, 100 + i, True, **voice)) for w in NEAR_WORDS for i in range(2)]
    clear = [(w, clean_take(w, i, **voice)) for w in COMMANDS for i in range(2)]
    return tests, others, near, clear


def enrolled(rec: DecodeOnce, takes: dict[str, list[Audio]]) -> dict[str, PersonalModel | None]:
    """No enrolment, the takes as MFCC templates, and the same takes as Whisper prototypes."""
    templates, prototypes = TemplateSet(), PrototypeSet(rec.encoder, POOLING)
    for word, audios in takes.items():
        templates.replace(word, [utterance_features(a) for a in audios])
        prototypes.replace(word, [pool(rec.encoder_states(a)) for a in audios])
    out = {"no enrolment": None, "MFCC templates": PersonalModel(templates)}
    prototyped = PersonalModel(templates, prototypes=prototypes, encoding=rec)
    assert prototyped.choice(rec.encoder)[0] == "prototype", prototyped.choice(rec.encoder)
    out["Whisper prototypes"] = prototyped
    return out


HEADER = (f"{'':20} {'right act':>14} {'wrong act':>14} {'asked':>14} {'other words':>15} {'command-like':>15}"
          f" {'clear':>14}  right / none's")


def commands_eval(rec, vocab, speaker: str, takes_per_command: int, tests, others, near, clear,
                  commands=None) -> None:
    models = enrolled(rec, {w: [take(w, i, **SPEAKERS[speaker]) for i in range(takes_per_command)]
                            for w in COMMANDS})
    print(f"\n== Commands: degraded speaker {speaker}, {takes_per_command} enrolment takes per command, "
          f"{len(tests)} held-out takes, {len(others)} other-word and {len(near)} command-like-word takes "
          "(other words, command-like: acted on; clear: the same voice undegraded, its lips recovered, "
          "acted on right)")
    print(HEADER)
    base = None
    for label, model in models.items():
        und = Understander(rec, vocab, model, commands=commands)
        heard = [(w, und.understand(a)) for w, a in tests]
        right = sum(h.match.decision == "act" and h.match.command == Command(w) for w, h in heard)
        wrong = sum(h.match.decision == "act" and h.match.command != Command(w) for w, h in heard)
        asked = sum(h.match.decision == "ask" for _, h in heard)
        fa = sum(und.understand(a).match.decision == "act" for _, a in others)
        fa_near = sum(und.understand(a).match.decision == "act" for _, a in near)
        clear_heard = [(w, und.understand(a).match) for w, a in clear]
        ok = sum(m.decision == "act" and m.command == Command(w) for w, m in clear_heard)
        base = right if base is None else base
        print(f"{label:20} {pct(right, len(tests)):>14} {pct(wrong, len(tests)):>14} {pct(asked, len(tests)):>14}"
              f" {pct(fa, len(others)):>15} {pct(fa_near, len(near)):>15} {pct(ok, len(clear)):>14}  "
              f"{f'{right / base:5.2f}' if base else '  n/a'}")


def speech_dev_eval(rec, vocab, speaker: str, takes_per_command: int, clips, commands=None) -> None:
    """Real voices (speech-dev) heard with speaker `speaker`'s enrolment in place, scored as
    scripts/eval_commands.py scores them."""
    from eval_commands import expected_command

    models = enrolled(rec, {w: [take(w, i, **SPEAKERS[speaker]) for i in range(takes_per_command)]
                            for w in COMMANDS})
    said = [(None if row["kind"] == "not-a-command" else expected_command(row["transcript"], vocab), audio)
            for row, audio in clips]
    n_cmd = sum(e is not None for e, _ in said)
    print(f"\n== speech-dev ({len(said)} clips of real voices, none enrolled) with speaker {speaker}'s "
          f"{takes_per_command}-take enrolment in place: commands acted on right / wrong, other words acted on")
    for label, model in models.items():
        und = Understander(rec, vocab, model, commands=commands)
        decided = [(e, und.understand(a).match) for e, a in said]
        right = sum(e is not None and m.decision == "act" and m.command == e for e, m in decided)
        wrong = sum(e is not None and m.decision == "act" and m.command != e for e, m in decided)
        other = sum(e is None and m.decision == "act" for e, m in decided)
        print(f"{label:20} right {pct(right, n_cmd)}  wrong {pct(wrong, n_cmd)}  "
              f"other words {pct(other, len(said) - n_cmd)}")


def speech_dev_clips(folder: Path = SPEECH_DEV) -> list[tuple[dict, Audio]]:
    """(manifest row, sound) of every speech-dev clip; none when it is not there."""
    manifest = folder / "manifest.csv"
    if not manifest.exists():
        return []
    import soundfile

    out = []
    with open(manifest, newline="") as fh:
        for row in csv.DictReader(fh):
            samples, rate = soundfile.read(folder / row["file"], dtype="float32")
            out.append((row, Audio(samples, rate)))
    return out


def switch_eval(n: int, real: list[Audio]) -> None:
    print("\n== No-words switch (generic, not enrolled): whole sounds as the endpointer hands them over; "
          "'room' = an echoing room (RT60 0.5 s)")
    speech = [take(w, 200 + i, held_out=True) for w in COMMANDS + OTHER_WORDS + NEAR_WORDS for i in range(2)]
    speech += [clean_take(w, i) for w in COMMANDS + OTHER_WORDS for i in range(2)]
    speech_room = [room(a, 0.5, i) for i, a in enumerate(speech)]
    noise = [room_noise(i) for i in range(n)]
    noise += [room(a, 0.5, i) for i, a in enumerate(noise)]
    clicks = [tongue_click(i) for i in range(n)] + [table_tap(i) for i in range(n)]
    hums = [hum(i) for i in range(2 * n)]
    positives = {"click": clicks, "hum": hums}
    for kind, sounds in positives.items():
        det = SwitchDetector(SwitchProfile(kind, "toggle", True))
        hits = sum(det.detect(s) for s in sounds)
        hits_room = sum(det.detect(room(s, 0.5, i)) for i, s in enumerate(sounds))
        print(f"{kind:6} detected {pct(hits, len(sounds))}, in a room {pct(hits_room, len(sounds))}; false triggers: "
              f"synthetic speech {pct(sum(det.detect(s) for s in speech), len(speech))}, in a room "
              f"{pct(sum(det.detect(s) for s in speech_room), len(speech_room))}; real speech (speech-dev) "
              f"{pct(sum(det.detect(s) for s in real), len(real))}; room noises "
              f"{pct(sum(det.detect(s) for s in noise), len(noise))}")
    det = SwitchDetector(SwitchProfile("click", "toggle", True))
    rng = np.random.default_rng(5)
    fired = clicks_n = false = 0
    for i in range(n):
        click = room((tongue_click if i % 2 else table_tap)(300 + i), 0.5, i)
        others = [room(take(COMMANDS[i % 12], 300 + i, held_out=True), 0.5, i), room_noise(300 + i)]
        for sound, is_click in [(others[0], False), (click, True), (others[1], False)]:
            watcher = TransientWatcher(det)
            x = np.concatenate([np.zeros(6400), sound.samples, np.zeros(9600)])
            x = (x + rng.standard_normal(len(x)) * 1e-3).astype(np.float32)
            got = any(watcher.feed(b) for b in x[: len(x) // 1600 * 1600].reshape(-1, 1600))
            clicks_n += is_click
            fired += got and is_click
            false += got and not is_click
    print(f"click in a live block stream, in a room (TransientWatcher): detected {pct(fired, clicks_n)}, "
          f"false triggers on speech/noise {pct(false, 2 * n)}")


def enrolment_time(takes_per_command: int) -> None:
    from voice_guide.engine_table import open_synthesizer

    settings = Settings(synthesizer="espeak-ng")
    takes = [take(w, i) for w in COMMANDS for i in range(takes_per_command)]
    with tempfile.TemporaryDirectory() as home:
        synth = open_synthesizer(settings, cache_dir=Path(home) / "cache")
        start = time.perf_counter()
        enroller = Enroller(synth, MemoryAudioOut(), recordings_listener(takes), voice=VoiceSettings(rate=150),
                            data_dir=Path(home), takes=takes_per_command)
        report = enroller.enrol(COMMANDS)
        compute = time.perf_counter() - start
        synth.close()
    n = len(takes)
    user = report.spoken_seconds + report.heard_seconds + n * (REACTION + settings.trailing_silence)
    print(f"\n== Enrolment of 12 commands x {takes_per_command} takes (every take usable): guide speaks "
          f"{report.spoken_seconds:.0f} s, takes last {report.heard_seconds:.0f} s; with {REACTION:.0f} s "
          f"reaction and {settings.trailing_silence} s end-of-speech wait per take: about {user / 60:.1f} "
          f"minutes for the user. Processing time: {compute:.1f} s.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held-out", type=int, default=8, help="held-out takes per command")
    parser.add_argument("--takes", type=int, nargs="+", default=[3, 5], help="enrolment takes per command")
    parser.add_argument("--recogniser", default=Settings().recogniser,
                        help="the guide's default (auto: Whisper tiny.en), whisper, pocketsphinx, vosk or none")
    parser.add_argument("--speakers", nargs="+", default=["A", "B"], choices=sorted(SPEAKERS))
    parser.add_argument("--switch-n", type=int, default=30, help="sounds of each switch kind")
    parser.add_argument("--command-model", choices=["on", "off"], default="on" if Settings().command_model else "off",
                        help="the shipped command model decides with the recogniser (on, the guide's default) or not")
    parser.add_argument("--speech-dev", type=Path, nargs="?", const=SPEECH_DEV, metavar="DIR",
                        help=f"also hear speech-dev's real voices with each speaker's enrolment in place "
                        f"(default folder {SPEECH_DEV}; its clips also test the switch when it is there)")
    parser.add_argument("--no-switch", action="store_true", help="leave out the switch and enrolment-time figures")
    args = parser.parse_args()
    vocab = build_vocabulary(load_library().items)
    clips = speech_dev_clips(args.speech_dev or SPEECH_DEV)
    if args.speech_dev and not clips:
        print(f"No speech-dev clips in {args.speech_dev}.", file=sys.stderr)
        return 2
    inner, name = recogniser(args.recogniser, vocab)
    rec = DecodeOnce(inner, None if getattr(inner, "encoder", "") else tiny_encoder())
    commands = None
    if args.command_model == "on":
        from voice_guide.understanding.command_model import open_command_model

        commands = open_command_model(vocab, rec)
        name += " + command model" if commands else " (the command model needs Whisper's encoder: not used)"
    print(f"Recogniser: {name}; prototypes on {rec.encoder}")
    for speaker in args.speakers:
        sets = held_out_sets(speaker, args.held_out)
        for n in args.takes:
            commands_eval(rec, vocab, speaker, n, *sets, commands=commands)
        if clips and args.speech_dev:
            speech_dev_eval(rec, vocab, speaker, args.takes[0], clips, commands=commands)
    if not args.no_switch:
        switch_eval(args.switch_n, [audio for _, audio in clips])
        enrolment_time(args.takes[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
