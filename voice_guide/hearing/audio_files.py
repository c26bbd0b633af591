"""Reading recorded speech from files: any WAV flavour (and whatever else libsndfile decodes, MP3
included), mixed to mono and resampled to the recogniser's rate.

`read_utterance` loads one short utterance; `iter_blocks` streams a file of any length in
microphone-sized blocks. Both read a bounded number of samples at a time (however many channels the
file claims) and resample as a stream (`voice_guide.audio.resampler`), so the cost follows the
file's length, never what its header claims. Only regular files are opened (a pipe or a device
would never end), and a rate no recording has is refused from the header. Every failure is an
AudioInputError naming the file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Iterator

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio, resampler
from voice_guide.schema import MAX_RATE, MIN_RATE
from voice_guide.errors import AudioInputError
from voice_guide.fileio import kind_of

CHUNK_FRAMES = 65536
"""Samples (over all channels) read from a file at a time."""


def _check_regular(path: Path) -> None:
    """Refuse what is not a readable, regular file with content, saying what it really is."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise AudioInputError(f"{path}: this link points back to itself (a loop); give the recording "
                                  "itself.") from exc
        if exc.errno == errno.ENOENT:
            if path.is_symlink():
                raise AudioInputError(f"{path}: this link points to a file that does not exist; give the "
                                      "recording itself.") from exc
            raise AudioInputError(f"{path}: there is no such file; check the name and the folder.") from exc
        if exc.errno == errno.EISDIR:
            raise AudioInputError(f"{path}: this is a folder, not a sound file; give a WAV file.") from exc
        raise AudioInputError(f"{path}: cannot be read ({exc.strerror}); check its permissions.") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise AudioInputError(f"{path}: this is a folder, not a sound file; give a WAV file.")
        if not stat.S_ISREG(info.st_mode):
            raise AudioInputError(f"{path}: this is {kind_of(info.st_mode)}, not a sound file, so it would "
                                  "never end; give a WAV file.")
        if info.st_size == 0:
            try:
                has_content = bool(os.read(fd, 1))
            except OSError as exc:
                raise AudioInputError(f"{path}: cannot be read ({exc.strerror}).") from exc
            if has_content:
                raise AudioInputError(f"{path}: this is a system file (like those under /proc), not a sound "
                                      "file; give a WAV file.")
            raise AudioInputError(f"{path}: the file is empty (0 bytes); record the utterance again.")
    finally:
        os.close(fd)


def _open(path: Path):
    """Open `path` with soundfile, turning every way it can fail into one clear sentence."""
    import soundfile

    _check_regular(path)
    try:
        f = soundfile.SoundFile(str(path))
    except (soundfile.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioInputError(
            f"{path}: this is not a WAV file or any sound format that can be read; "
            "give a WAV file (16 kHz mono is best)."
        ) from exc
    if not MIN_RATE <= f.samplerate <= MAX_RATE:
        f.close()
        raise AudioInputError(
            f"{path}: its header says {f.samplerate} samples a second, which no recording has "
            f"({MIN_RATE // 1000} to {MAX_RATE // 1000} kHz); the file is damaged, record it again."
        )
    return f


def _mono(frames: np.ndarray) -> np.ndarray:
    """Mix channels down and make any NaN or infinity (broken float files) silent."""
    mono = frames.mean(axis=1, dtype=np.float32) if frames.ndim == 2 else frames.astype(np.float32)
    return np.clip(np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0)


def _check_not_empty(path: Path, frames: int) -> None:
    if frames <= 0:
        raise AudioInputError(f"{path}: the file holds no sound (no samples); record the utterance again.")


def _check_utterance(path: Path, f, max_seconds: float) -> None:
    frames, source_rate = f.frames, f.samplerate
    _check_not_empty(path, frames)
    if frames > max_seconds * source_rate:
        raise AudioInputError(
            f"{path}: it lasts {frames / source_rate:.0f} seconds, too long for one utterance "
            f"(at most {max_seconds:g}); cut out the spoken command."
        )


def check_utterance(path: Path | str, max_seconds: float = 30.0) -> None:
    """Everything `read_utterance` checks before it reads a sample (the file, its header, its
    length), so a batch of recordings is checked at once and then read one at a time."""
    path = Path(path)
    with _open(path) as f:
        _check_utterance(path, f, max_seconds)


def read_utterance(path: Path | str, rate: int = SPEECH_RATE, max_seconds: float = 30.0) -> Audio:
    """One utterance, whole: mono float32 at `rate`. Longer than `max_seconds` is refused, since
    one spoken command is a few seconds and a long file would be held in memory."""
    path = Path(path)
    with _open(path) as f:
        _check_utterance(path, f, max_seconds)
        pieces = list(_resampled_chunks(path, f, rate, CHUNK_FRAMES))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    if len(samples) == 0:
        _check_not_empty(path, 0)
    return Audio(samples, rate)


def iter_blocks(path: Path | str, rate: int = SPEECH_RATE, block: int = 1600,
                chunk: int = CHUNK_FRAMES) -> Iterator[np.ndarray]:
    """Stream a sound file as float32 mono blocks of `block` samples at `rate` (the last may be
    shorter), like a microphone would, holding only a few chunks of `chunk` samples in memory however
    long the file."""
    path = Path(path)
    if block <= 0:
        raise ValueError("block must be positive")
    f = _open(path)
    with f:
        _check_not_empty(path, f.frames)
        pending = np.zeros(0, dtype=np.float32)
        for piece in _resampled_chunks(path, f, rate, chunk):
            pending = np.concatenate([pending, piece]) if len(pending) else piece
            whole = len(pending) - len(pending) % block
            for i in range(0, whole, block):
                yield pending[i : i + block].copy()
            pending = pending[whole:]
        if len(pending):
            yield pending


def _resampled_chunks(path: Path, f, rate: int, chunk: int) -> Iterator[np.ndarray]:
    """The file as mono chunks at `rate`, read at most `chunk` samples at a time; together they
    equal resampling the whole file at once."""
    import soundfile

    frames = max(1, chunk // max(1, f.channels))
    stream = resampler(f.samplerate, rate) if f.samplerate != rate else None
    while True:
        try:
            piece = _mono(f.read(frames, dtype="float32", always_2d=True))
        except (soundfile.SoundFileError, RuntimeError) as exc:
            raise AudioInputError(f"{path}: the sound data is damaged ({exc}); record it again.") from exc
        if stream is None:
            if not len(piece):
                return
            yield piece
        else:
            out = stream.resample_chunk(piece, last=not len(piece))
            if len(out):
                yield out
            if not len(piece):
                return
