"""How fast the export runs, against bare synthesis of the same texts, and how close sessions come to
their planned time.

Exports the whole library in mp3 into a temporary folder with an EMPTY speech cache (VOICE_GUIDE_HOME
points at a fresh temporary folder), so every text is synthesised; then, in the same run, times bare
synthesis of the same texts, one after another: Piper's (the adapter alone, no cache, no export; also
with onnxruntime's own threading, one thread per core) for the Piper voice, the Kokoro adapter alone
(one thread) for a Kokoro voice, `espeak-ng -w` for the others. Prints seconds of audio per wall second for each, their ratio, the load average (the machine
may be shared) and each session's planned and exported length.

    .venv/bin/python scripts/bench_export.py [--synthesizer piper|kokoro|pyttsx3|espeak-ng] [--voice af_heart]
        [--format mp3] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def spoken_texts(library) -> list[str]:
    """Every distinct text the export speaks: titles as spoken, step words, 'Halfway.'."""
    from voice_guide.speaking.render import spoken_title
    from voice_guide.timeline import HALFWAY_TEXT

    texts: list[str] = []
    for item in library.items:
        texts.append(spoken_title(item))
        texts += [s.say for s in item.steps if s.say]
        if any(s.halfway for s in item.steps):
            texts.append(HALFWAY_TEXT)
    return list(dict.fromkeys(texts))


def bare_espeak(texts: list[str], rate: int, folder: Path) -> tuple[float, float]:
    """(seconds of audio, wall seconds) for `espeak-ng -w` run once per text."""
    folder.mkdir()
    start = time.perf_counter()
    for k, text in enumerate(texts):
        subprocess.run(["espeak-ng", "-s", str(rate), "-w", str(folder / f"{k}.wav"), "--stdin"],
                       input=text.encode("utf-8"), check=True, capture_output=True)
    wall = time.perf_counter() - start
    audio = 0.0
    for path in folder.glob("*.wav"):
        with wave.open(str(path), "rb") as w:
            audio += w.getnframes() / w.getframerate()
    return audio, wall


def bare_piper(texts: list[str], voice, threads: int | None) -> tuple[float, float]:
    """(seconds of audio, wall seconds) for the Piper adapter alone, one text after another."""
    from voice_guide.adapters.piper_tts import PiperSynthesizer

    synth = PiperSynthesizer(threads=threads)
    start = time.perf_counter()
    audio = sum(synth.synthesize(text, voice).duration for text in texts)
    return audio, time.perf_counter() - start


def bare_kokoro(texts: list[str], voice, name: str, cache: Path) -> tuple[float, float]:
    """(seconds of audio, wall seconds) for the Kokoro adapter alone (one thread), one text after another."""
    from voice_guide.adapters.kokoro_tts import KokoroSynthesizer

    synth = KokoroSynthesizer(name, cache_dir=cache)
    start = time.perf_counter()
    audio = sum(synth.synthesize(text, voice).duration for text in texts)
    return audio, time.perf_counter() - start


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


class Counting:
    """Passes synthesis through, adding up the seconds of speech it returns."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.rate, self.seconds = inner, inner.name, inner.rate, 0.0

    def synthesize(self, text, settings):
        audio = self.inner.synthesize(text, settings)
        self.seconds += audio.duration
        return audio

    def close(self) -> None:
        self.inner.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthesizer", default="piper", choices=("piper", "kokoro", "pyttsx3", "espeak-ng"))
    parser.add_argument("--voice", default=None, help="a Kokoro voice for --synthesizer kokoro (e.g. af_heart)")
    parser.add_argument("--format", default="mp3", choices=("mp3", "ogg", "wav", "m4a"))
    parser.add_argument("--jobs", type=int, default=None, help="tracks rendered at once (default: the export's)")
    args = parser.parse_args()
    if not shutil.which("espeak-ng"):
        print("espeak-ng is not installed; run scripts/setup.sh first.", file=sys.stderr)
        return 1

    scratch = Path(tempfile.mkdtemp(prefix="voice-guide-bench-"))
    os.environ["VOICE_GUIDE_HOME"] = str(scratch / "home")  # an empty speech cache
    try:
        from voice_guide.adapters.pydub_export import decode
        from voice_guide.content.loader import load_library
        from voice_guide.export.writer import export_library
        from voice_guide.export.plan import default_jobs, plan_export
        from voice_guide.settings import Settings
        from voice_guide.speaking.speech import voice_settings
        from voice_guide.wiring import Devices

        library = load_library()
        settings = Settings(synthesizer=args.synthesizer, voice=args.voice)
        out = scratch / "out"
        out.mkdir()
        jobs = args.jobs or default_jobs()
        print(f"before: {load()}")
        start = time.perf_counter()
        devices = Devices()
        synth = Counting(devices.synthesizer(settings))
        if synth.inner.notice:
            print(synth.inner.notice)
        try:
            encoder = devices.encoder()
            plan = plan_export(library, [], out, args.format, voice_settings(settings), encoder, jobs=jobs)
            result = export_library(plan, synth, encoder)
        finally:
            synth.close()
        export_wall = time.perf_counter() - start
        export_audio = sum(t.duration for t in result.tracks)
        export_speed = export_audio / export_wall

        texts = spoken_texts(library)
        print(f"library: {len(library.items)} tracks, {len(texts)} distinct texts, "
              f"{sum(len(t.split()) for t in texts)} words, rate {settings.rate} wpm")
        print(f"export ({synth.name}, {args.format}, --jobs {jobs}, empty cache): {export_audio:.1f} s of audio "
              f"in {export_wall:.2f} s wall = {export_speed:.1f} s audio per wall second "
              f"({synth.seconds:.1f} s of it synthesised speech); {load()}")
        if args.synthesizer == "piper":
            bare = [("bare Piper, one thread", bare_piper(texts, voice_settings(settings), 1)),
                    ("bare Piper, onnxruntime threads", bare_piper(texts, voice_settings(settings), None))]
        elif args.synthesizer == "kokoro":
            bare = [("bare Kokoro, one thread", bare_kokoro(texts, voice_settings(settings), synth.name.split(":")[1],
                                                             scratch / "home" / "cache" / "models"))]
        else:
            bare = [("bare espeak-ng -w", bare_espeak(texts, settings.rate, scratch / "espeak"))]
        for label, (audio, wall) in bare:
            print(f"{label}, same texts: {audio:.1f} s of speech in {wall:.2f} s wall = {audio / wall:.1f} s "
                  f"audio per wall second; export is {export_speed / (audio / wall):.2f}x this counting all its "
                  f"audio, {synth.seconds / export_wall / (audio / wall):.2f}x counting only its speech; {load()}")
        print("session            planned s  exported s  difference")
        for track in result.tracks:
            item = library.get(track.names[0])
            if item.kind != "session":
                continue
            exported = decode(out / track.file).duration
            diff = 100 * (exported - item.length) / item.length
            print(f"{item.name:<18} {item.length:9.1f}  {exported:10.2f}  {diff:+9.2f} %")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
