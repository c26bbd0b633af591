"""Rendering the training corpus's clips (scripts/make_training_corpus.py plans them): each voice's
take, weak lips on the sound, rooms, the guide's echo and noise, written whole or not at all; in
spawned worker processes, each with its own engines."""

from __future__ import annotations

import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import corpus_text
import palsy
import rooms
from corpus_voices import OUTPUT_RATE, Engines

if TYPE_CHECKING:
    from make_training_corpus import Clip

_WORKER: dict = {}


def _start_worker(kokoro_dir: str | None, echo_file: str | None) -> None:
    _WORKER["engines"] = Engines(Path(kokoro_dir) if kokoro_dir else None)
    _WORKER["echo"] = np.load(echo_file) if echo_file else None


def not_speech(transcript: str, nrng: np.random.Generator, seed: int) -> np.ndarray:
    """A cough, click or breath (make_corpus's), or a stretch of room noise alone."""
    import make_corpus

    what = transcript.strip("[]")
    if what == "noise":
        length = int(nrng.uniform(0.8, 1.6) * OUTPUT_RATE)
        return rooms.NOISES[str(nrng.choice(list(rooms.NOISES)))](length, OUTPUT_RATE, seed) * 0.1
    return {"cough": make_corpus.cough, "click": make_corpus.click, "breath": make_corpus.breath}[what](nrng)


def render(clip: Clip, out: Path) -> float:
    """Render and write one clip; its length in seconds."""
    import soundfile as sf

    from make_corpus import padded

    rng = random.Random(clip.seed)
    nrng = np.random.default_rng(clip.seed)
    if clip.take:
        x, _ = sf.read(out / clip.take, dtype="float32")
        return _write(rooms.at_level(rooms.noisy(x, OUTPUT_RATE, clip.noise[0], clip.noise[1], clip.seed),
                                     clip.peak_db), out / clip.file)
    if clip.voice is None:
        x = not_speech(clip.transcript, nrng, clip.seed)
    else:
        x = _WORKER["engines"].say(clip.transcript, clip.voice, palsy.RATES[clip.rate], clip.severity, rng)
        if clip.severity:
            x = palsy.palsy_sound(x, OUTPUT_RATE, clip.severity, nrng)
    x = padded(np.asarray(x, dtype=np.float32), rng, 0.5)
    if clip.room == "reverb":
        x = rooms.reverberate(x, OUTPUT_RATE, rng.uniform(0.2, 0.6), rng.uniform(2, 10), nrng)
    elif clip.room == "far":
        x = rooms.far_microphone(x, OUTPUT_RATE, nrng)
    if clip.echo_db is not None and _WORKER["echo"] is not None:
        x = rooms.with_echo(x, _WORKER["echo"], clip.echo_db, nrng)
    if clip.noise:
        x = rooms.noisy(x, OUTPUT_RATE, clip.noise[0], clip.noise[1], clip.seed)
    return _write(rooms.at_level(x, clip.peak_db), out / clip.file)


def _write(x: np.ndarray, path: Path) -> float:
    """Write whole or not at all (a rerun renders what is missing); the length in seconds."""
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    sf.write(part, x, OUTPUT_RATE, subtype="PCM_16", format="WAV")
    part.replace(path)
    return len(x) / OUTPUT_RATE


def _render_one(args: tuple[Clip, Path]) -> float:
    return render(*args)


def guide_echo(out: Path, engines: tuple[str, ...]) -> Path | None:
    """The guide's own voice (Piper joe reading a few of its sentences), rendered once for the echoes."""
    if "piper" not in engines:
        return None
    path = out / "echo.npy"
    if not path.exists():
        import corpus_voices

        text = ". ".join(corpus_text.guide_lines("train")[:8]) + "."
        x = corpus_voices.Engines().piper_say(text, 1.0, None, random.Random(0), scales=(0.667, 1.0, 0.8))
        np.save(path, x.astype(np.float32))
    return path


def render_all(clips: list[Clip], out: Path, jobs: int, kokoro_dir: Path | None, echo: Path | None) -> float:
    """Render every clip not yet in `out`: first the new takes, then those made from another take."""
    todo = [c for c in clips if not (out / c.file).exists()]
    seconds, start, done = 0.0, time.perf_counter(), 0
    init = (str(kokoro_dir) if kokoro_dir else None, str(echo) if echo else None)
    # Spawned, not forked: a forked worker inherits the caller's objects without their threads, and a
    # Whisper model the caller had let go of (CTranslate2's thread pool) hung the worker that
    # collected it (a test process).
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn, initializer=_start_worker, initargs=init) as pool:
        for phase in ([c for c in todo if not c.take], [c for c in todo if c.take]):
            for length in pool.map(_render_one, [(c, out) for c in phase], chunksize=8):
                seconds += length
                done += 1
                if done % 250 == 0 or done == len(todo):
                    print(f"  {done}/{len(todo)} clips, {time.perf_counter() - start:.0f} s", flush=True)
    return seconds
