"""Figures for personal voice enrolment (issue 6): prints what the templates and the switch achieve.

- Command accuracy on held-out takes of a synthetic degraded speaker (tests/degraded_speaker.py:
  one espeak-ng voice, lip sounds lost, low-passed to 1.2 kHz, smeared, noisy), with the recogniser
  alone and with the recogniser + the speaker's enrolled templates; the takes used for enrolment are
  never tested on.
- False accepts: other words (and command-like words) taken for a command.
- The no-words switch: detection of synthetic clicks, taps and hums; false triggers on speech
  (synthetic, and the real clips in ../shared/speech-dev when present) and on room noises.
- How long enrolling 12 commands takes a user (guide's prompts + takes + reaction time).

Usage: .venv/bin/python scripts/eval_personal.py [--held-out 8] [--takes 3 5]
    [--recogniser pocketsphinx|whisper|none] [--command-model on|off]

With --command-model on (and --recogniser whisper), "recogniser alone" means Whisper + matcher + the shipped command
model, as the guide hears without enrolment.
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
from voice_guide.voice.templates import TemplateSet  # noqa: E402
from voice_guide.testing import MemoryAudioOut, ScriptedRecognizer  # noqa: E402
from voice_guide.understanding.understand import Understander  # noqa: E402

SPEECH_DEV = ROOT.parent / "shared" / "speech-dev"
REACTION = 1.0
"""Assumed seconds between the end of a prompt and the start of the user's take."""


def recogniser(name: str, vocab):
    if name == "none":
        return ScriptedRecognizer([]), "none (hears nothing)"
    from voice_guide.engine_table import open_recognizer_for

    rec = open_recognizer_for(Settings(recogniser=name), vocab)
    return rec, rec.name


class DecodeOnce:
    """Decodes each utterance once, so every configuration is judged on the same recogniser guesses."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self._seen = inner, inner.name, {}

    def decode(self, audio: Audio):
        if id(audio) not in self._seen:
            self._seen[id(audio)] = (audio, self.inner.decode(audio))
        return self._seen[id(audio)][1]


def pct(k: int, n: int) -> str:
    return f"{100.0 * k / n:5.1f}% ({k}/{n})" if n else "  n/a"


SPEAKERS = {"A": {}, "B": {"voice": "en-gb-scotland", "pitch": 60}}
"""A: the test suite's degraded speaker; B: another espeak-ng voice and pitch, degraded the same way."""


def held_out_sets(speaker: str, n: int):
    voice = SPEAKERS[speaker]
    tests = [(w, take(w, 100 + i, True, **voice)) for w in COMMANDS for i in range(n)]
    others = [(w, take(w, 100 + i, True, **voice)) for w in OTHER_WORDS for i in range(2)]
    near = [(w, take(w, 100 + i, True, **voice)) for w in NEAR_WORDS for i in range(2)]
    return tests, others, near


def commands_eval(rec, vocab, speaker: str, takes_per_command: int, tests, others, near, commands=None) -> None:
    templates = TemplateSet()
    for word in COMMANDS:
        templates.replace(word, [utterance_features(take(word, i, **SPEAKERS[speaker]))
                                 for i in range(takes_per_command)])
    model = PersonalModel(templates)
    rows = {"recogniser alone": Understander(rec, vocab, commands=commands),
            "with enrolment": Understander(rec, vocab, model, commands=commands)}
    print(f"\n== Commands: degraded speaker {speaker}, {takes_per_command} enrolment takes per command, "
          f"{len(tests)} held-out takes, {len(others)} other-word and {len(near)} command-like-word takes")
    print(f"{'':18} {'correct act':>18} {'wrong act':>16} {'asked':>16} {'FA other words':>18} {'FA command-like':>18}"
          f"  paths (template/switch)")
    for label, und in rows.items():
        heard = [(w, und.understand(a)) for w, a in tests]
        correct = sum(h.match.decision == "act" and h.match.command == Command(w) for w, h in heard)
        wrong = sum(h.match.decision == "act" and h.match.command != Command(w) for w, h in heard)
        asked = sum(h.match.decision == "ask" for _, h in heard)
        fa = sum(und.understand(a).match.decision == "act" for _, a in others)
        fa_near = sum(und.understand(a).match.decision == "act" for _, a in near)
        paths = [h.path for _, h in heard]
        print(f"{label:18} {pct(correct, len(tests)):>18} {pct(wrong, len(tests)):>16} {pct(asked, len(tests)):>16}"
              f" {pct(fa, len(others)):>18} {pct(fa_near, len(near)):>18}"
              f"  {paths.count('template')}/{paths.count('switch')}")


def prototypes_eval(speaker: str, takes_per_command: int, tests, others, near, embedding: str) -> None:
    """The enrolled takes alone, without the recogniser: MFCC templates (what the guide uses) against
    nearest prototypes on an embedding (`command_corpus.open_embedder`: "whisper", the command model's,
    or "speech"; pooled, standardised over the takes, cosine distance; accepted within DIST and when
    the next command is MARGIN times further)."""
    from command_corpus import open_embedder
    from voice_guide.understanding.command_model import pool
    from voice_guide.voice.templates import TemplateClassifier

    enrol = {w: [take(w, i, **SPEAKERS[speaker]) for i in range(takes_per_command)] for w in COMMANDS}
    templates = TemplateSet()
    for word, takes in enrol.items():
        templates.replace(word, [utterance_features(a) for a in takes])
    mfcc = TemplateClassifier(templates)
    embedder = open_embedder(embedding)
    vectors = {w: np.stack([pool(embedder.embed(a)) for a in takes]) for w, takes in enrol.items()}
    every = np.concatenate(list(vectors.values()))
    mean, scale = every.mean(0), every.std(0) + 1e-3

    def unit(audio: Audio) -> np.ndarray:
        v = (pool(embedder.embed(audio)) - mean) / scale
        return v / np.linalg.norm(v)

    protos = [(w, (v - mean) / scale / np.linalg.norm((v - mean) / scale)) for w, vs in vectors.items() for v in vs]

    def nearest(audio: Audio, dist: float = 0.4, margin: float = 1.1) -> str | None:
        u = unit(audio)
        d = sorted((1 - float(u @ p), w) for w, p in protos)
        second = next(x for x, w in d if w != d[0][1])
        return d[0][1] if d[0][0] <= dist and second >= margin * d[0][0] else None

    print(f"\n== Enrolled takes alone, speaker {speaker}, {takes_per_command} takes per command")
    for label, say in (("MFCC templates", lambda a: (lambda t: t.command if t.accepted else None)(
                           mfcc.classify(utterance_features(a)))),
                       (f"{embedding} prototypes", nearest)):
        heard = [(w, say(a)) for w, a in tests]
        right = sum(h == w for w, h in heard)
        wrong = sum(h is not None and h != w for w, h in heard)
        fa = sum(say(a) is not None for _, a in others + near)
        print(f"{label:22} right {pct(right, len(tests))}  wrong {pct(wrong, len(tests))}  "
              f"other words taken {pct(fa, len(others) + len(near))}")


def clean_eval(rec, vocab) -> None:
    und = Understander(rec, vocab)
    ok = sum(und.understand(clean_take(w, i)).match.command == Command(w) for w in COMMANDS for i in range(2))
    print(f"\nSame voice, clean and unslurred, recogniser alone: {pct(ok, 2 * len(COMMANDS))} correct")


def speech_dev_clips() -> list[Audio]:
    manifest = SPEECH_DEV / "manifest.csv"
    if not manifest.exists():
        return []
    import soundfile

    out = []
    with open(manifest, newline="") as fh:
        for row in csv.DictReader(fh):
            samples, rate = soundfile.read(SPEECH_DEV / row["file"], dtype="float32")
            out.append(Audio(samples, rate))
    return out


def switch_eval(n: int) -> None:
    print("\n== No-words switch (generic, not enrolled): whole sounds as the endpointer hands them over; "
          "'room' = an echoing room (RT60 0.5 s)")
    speech = [take(w, 200 + i, held_out=True) for w in COMMANDS + OTHER_WORDS + NEAR_WORDS for i in range(2)]
    speech += [clean_take(w, i) for w in COMMANDS + OTHER_WORDS for i in range(2)]
    speech_room = [room(a, 0.5, i) for i, a in enumerate(speech)]
    real = speech_dev_clips()
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
    parser.add_argument("--recogniser", default="pocketsphinx", help="pocketsphinx (default), auto, vosk or none")
    parser.add_argument("--speakers", nargs="+", default=["A", "B"], choices=sorted(SPEAKERS))
    parser.add_argument("--switch-n", type=int, default=30, help="sounds of each switch kind")
    parser.add_argument("--prototypes", nargs="?", const="whisper", choices=["whisper", "speech"],
                        help="also compare MFCC templates with prototypes on an embedding (default whisper)")
    parser.add_argument("--command-model", choices=["on", "off"], default="off",
                        help="the shipped command model decides with the recogniser (on) or not (off)")
    args = parser.parse_args()
    vocab = build_vocabulary(load_library().items)
    rec, name = recogniser(args.recogniser, vocab)
    rec = DecodeOnce(rec)
    commands = None
    if args.command_model == "on":
        from voice_guide.understanding.command_model import open_command_model

        commands = open_command_model(vocab, rec.inner)
        name += " + command model" if commands else " (the command model needs Whisper's encoder: not used)"
    print(f"Recogniser: {name}")
    clean_eval(rec, vocab)
    for speaker in args.speakers:
        sets = held_out_sets(speaker, args.held_out)
        for n in args.takes:
            commands_eval(rec, vocab, speaker, n, *sets, commands=commands)
            if args.prototypes:
                prototypes_eval(speaker, n, *sets, embedding=args.prototypes)
    switch_eval(args.switch_n)
    enrolment_time(args.takes[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
