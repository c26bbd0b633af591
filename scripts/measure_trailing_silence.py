"""How much quiet after a word the end-of-speech detector really needs: the shortest trailing silence
that cuts no command in two.

Every phrase the guide understands (commands, item names, "start <item>", steps numbered one to
three) is said by
espeak-ng voices at a normal and a slow rate, and each one-word clip of a real-speech manifest (e.g.
../shared/speech-dev/manifest.csv) is read too; each is padded with quiet over a faint noise floor and
cut by `voice_guide.hearing.listen.Endpointer` at each candidate trailing silence. A take is cut in
two when it gives more than one utterance, or one shorter than with 2 s of trailing silence. Prints,
for each candidate, how many takes were cut and the longest pause inside a take (what the detector
must wait out); the reply to a command comes that much sooner for each tenth of a second saved.

    .venv/bin/python scripts/measure_trailing_silence.py [--real MANIFEST] [--voices en-us en-gb ...]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CANDIDATES = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.8]
RATES = (150, 100)


def utterances(audio, trailing: float) -> list[float]:
    """Durations of the utterances the endpointer cuts from `audio` (padded), in seconds."""
    from voice_guide.audio import SPEECH_RATE, Audio, add_noise_floor, concatenate
    from voice_guide.hearing.listen import Endpointer

    padded = add_noise_floor(concatenate([Audio.silence(0.6, SPEECH_RATE), audio.resample(SPEECH_RATE),
                                          Audio.silence(2.5, SPEECH_RATE)], SPEECH_RATE), -60.0, seed=5)
    ep = Endpointer(SPEECH_RATE, trailing, 6.0)
    found = []
    for i in range(0, len(padded.samples), 1600):
        u = ep.feed(padded.samples[i : i + 1600])
        if u is not None:
            found.append(u.duration)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, help="a manifest (file,transcript,...) of real one-word clips")
    parser.add_argument("--voices", nargs="+", default=["en-us", "en-gb", "en-us+f3", "en+m3"])
    args = parser.parse_args()
    from voice_guide.content.loader import load_library
    from voice_guide.hearing.audio_files import read_utterance
    from voice_guide.testing import espeak_speech
    from voice_guide.understanding.vocabulary import build_vocabulary

    numbers = ("four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
               "eighteen nineteen twenty").split()
    phrases = [p for p in build_vocabulary(load_library().items).phrases() if not set(p.split()) & set(numbers)]
    takes = [(f"{p} ({v}, {r})", espeak_speech(p, v, r)) for p in phrases for v in args.voices for r in RATES]
    if args.real:
        with args.real.open() as f:
            for row in csv.DictReader(f):
                takes.append((row["file"], read_utterance(args.real.parent / row["file"])))
    print(f"{len(takes)} takes ({len(phrases)} phrases x {len(args.voices)} voices x {len(RATES)} rates"
          f"{', and real clips' if args.real else ''})", flush=True)
    whole = [utterances(audio, 2.0) for _, audio in takes]
    for trailing in CANDIDATES:
        cut = [name for (name, audio), full in zip(takes, whole)
               if len(full) == 1 and (u := utterances(audio, trailing)) and (len(u) > 1 or u[0] < full[0] - 0.05)]
        print(f"trailing silence {trailing:.2f} s: {len(cut)} of {len(takes)} takes cut in two"
              f"{': ' + ', '.join(cut[:8]) if cut else ''}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
