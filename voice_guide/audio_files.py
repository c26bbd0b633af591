"""Reading recorded speech from files: any WAV flavour (and whatever else libsndfile decodes, MP3
included), mixed to mono and resampled to the recogniser's rate.

`read_utterance` loads one short utterance whole; `iter_blocks` streams a file of any length in
microphone-sized blocks with bounded memory, resampling chunk by chunk with enough overlap that the
result equals resampling the whole file at once. Every failure is an AudioInputError naming the file.
"""

from __future__ import annotations

from math import ceil, gcd
from pathlib import Path
from typing import Iterator

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio, resample
from voice_guide.errors import AudioInputError

CHUNK_FRAMES = 65536
"""Input frames resampled at a time by `iter_blocks` (rounded up to the resampler's step)."""


def _open(path: Path):
    """Open `path` with soundfile, turning every way it can fail into one clear sentence."""
    import soundfile

    if not path.exists():
        raise AudioInputError(f"{path}: there is no such file; check the name and the folder.")
    if path.is_dir():
        raise AudioInputError(f"{path}: this is a folder, not a sound file; give a WAV file.")
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise AudioInputError(f"{path}: cannot be read ({exc.strerror}); check its permissions.") from exc
    if size == 0:
        raise AudioInputError(f"{path}: the file is empty (0 bytes); record the utterance again.")
    try:
        return soundfile.SoundFile(str(path))
    except (soundfile.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioInputError(
            f"{path}: this is not a WAV file or any sound format that can be read; "
            "give a WAV file (16 kHz mono is best)."
        ) from exc


def _mono(frames: np.ndarray) -> np.ndarray:
    """Mix channels down and make any NaN or infinity (broken float files) silent."""
    mono = frames.mean(axis=1, dtype=np.float32) if frames.ndim == 2 else frames.astype(np.float32)
    return np.clip(np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0)


def _check_not_empty(path: Path, frames: int) -> None:
    if frames <= 0:
        raise AudioInputError(f"{path}: the file holds no sound (no samples); record the utterance again.")


def read_utterance(path: Path | str, rate: int = SPEECH_RATE, max_seconds: float = 30.0) -> Audio:
    """One utterance, whole: mono float32 at `rate`. Longer than `max_seconds` is refused, since
    one spoken command is a few seconds and a long file would be read into memory."""
    path = Path(path)
    import soundfile

    with _open(path) as f:
        frames, source_rate = f.frames, f.samplerate
        _check_not_empty(path, frames)
        if frames > max_seconds * source_rate:
            raise AudioInputError(
                f"{path}: it lasts {frames / source_rate:.0f} seconds, too long for one utterance "
                f"(at most {max_seconds:g}); cut out the spoken command."
            )
        try:
            data = f.read(dtype="float32", always_2d=True)
        except (soundfile.SoundFileError, RuntimeError) as exc:
            raise AudioInputError(f"{path}: the sound data is damaged ({exc}); record it again.") from exc
    samples = _mono(data)
    if len(samples) == 0:
        _check_not_empty(path, 0)
    return Audio(resample(samples, source_rate, rate), rate)


def iter_blocks(path: Path | str, rate: int = SPEECH_RATE, block: int = 1600) -> Iterator[np.ndarray]:
    """Stream a sound file as float32 mono blocks of `block` samples at `rate` (the last may be
    shorter), like a microphone would, holding only a few chunks in memory however long the file."""
    path = Path(path)
    if block <= 0:
        raise ValueError("block must be positive")
    f = _open(path)
    with f:
        _check_not_empty(path, f.frames)
        pending = np.zeros(0, dtype=np.float32)
        for piece in _resampled_chunks(path, f, rate):
            pending = np.concatenate([pending, piece]) if len(pending) else piece
            whole = len(pending) - len(pending) % block
            for i in range(0, whole, block):
                yield pending[i : i + block].copy()
            pending = pending[whole:]
        if len(pending):
            yield pending


def _resampled_chunks(path: Path, f, rate: int) -> Iterator[np.ndarray]:
    """Chunks of the file at `rate`. Each chunk is resampled with `pad` input frames of context on
    both sides, all lengths multiples of the resampler's step, so the pieces join seamlessly."""
    import soundfile
    from scipy.signal import resample_poly

    source = f.samplerate
    g = gcd(source, rate)
    up, down = rate // g, source // g

    def read(n: int) -> np.ndarray:
        try:
            return _mono(f.read(n, dtype="float32", always_2d=True))
        except (soundfile.SoundFileError, RuntimeError) as exc:
            raise AudioInputError(f"{path}: the sound data is damaged ({exc}); record it again.") from exc

    if up == down:
        while len(piece := read(CHUNK_FRAMES)):
            yield piece
        return
    # resample_poly's filter reaches 10 * max(up, down) samples of the upsampled signal either side.
    pad = down * ceil((ceil(10 * max(up, down) / up) + 2) / down)
    chunk = down * max(ceil(CHUNK_FRAMES / down), ceil(pad / down))
    left = np.zeros(0, dtype=np.float32)
    current = read(chunk)
    while len(current):
        following = read(chunk)
        x = np.concatenate([left, current, following[:pad]])
        y = resample_poly(x, up, down).astype(np.float32)
        start = len(left) * up // down
        count = len(current) * up // down if len(following) else ceil(len(current) * up / down)
        yield y[start : start + count]
        left = current[-pad:]
        current = following
