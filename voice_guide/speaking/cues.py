"""The guide's soft non-speech sounds: the chimes that open and close a timed hold, and the short
earcons the player uses to say "I am listening", "understood" and "not understood".

Pure and deterministic (no randomness, no files), so the export, the player and the committed
audio/cues/*.wav files all carry exactly the same sounds. Sounds are gentle on purpose: low volume,
slow attacks, no sharp clicks; a user sitting with eyes closed should not be startled.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from voice_guide.audio import Audio, tone
from voice_guide.timeline import CUE_SECONDS

RATE = 22050
"""The rate of the committed cue files; the same rate as espeak-ng speech, so nothing resamples."""

# Notes of a soft major chord (C5, E5, G5) and its octave below, in Hz.
_C5, _E5, _G5, _C6 = 523.25, 659.25, 783.99, 1046.50
_G4 = 392.00


def _bell(freq: float, seconds: float, rate: int, volume: float, decay: float) -> Audio:
    """A soft bell: a sine with a faint octave overtone and an exponential fade, built from `tone`."""
    base = tone(freq, seconds, rate, volume=volume, fade=0.012)
    over = tone(2 * freq, seconds, rate, volume=volume * 0.15, fade=0.012)
    t = np.arange(len(base), dtype=np.float32) / np.float32(rate)
    envelope = np.exp(-t / np.float32(decay)).astype(np.float32)
    return Audio((base.samples + over.samples) * envelope, rate)


def _sequence(notes: list[tuple[float, float, float]], seconds: float, rate: int, volume: float,
              decay: float) -> Audio:
    """Notes (frequency, onset seconds, length seconds) mixed into exactly `seconds` of sound."""
    total = round(seconds * rate)
    out = np.zeros(total, dtype=np.float32)
    for freq, onset, length in notes:
        start = round(onset * rate)
        note = _bell(freq, min(length, seconds - onset), rate, volume, decay).samples
        out[start : start + len(note)] += note[: total - start]
    return Audio(out, rate)


def chime(end: bool = False, rate: int = RATE) -> Audio:
    """The chime that opens (rising) or closes (falling) a hold; exactly timeline.CUE_SECONDS long."""
    notes = [(_C5, 0.0, 0.6), (_G5, 0.16, 0.44)]
    if end:
        notes = [(_G5, 0.0, 0.6), (_C5, 0.16, 0.44)]
    return _sequence(notes, CUE_SECONDS, rate, volume=0.12, decay=0.22)


def listening(rate: int = RATE) -> Audio:
    """A single short high note: the guide is listening for a command now."""
    return _sequence([(_C6, 0.0, 0.18)], 0.18, rate, volume=0.10, decay=0.08)


def understood(rate: int = RATE) -> Audio:
    """Two quick rising notes: the command was understood."""
    return _sequence([(_E5, 0.0, 0.14), (_C6, 0.10, 0.16)], 0.26, rate, volume=0.10, decay=0.07)


def not_understood(rate: int = RATE) -> Audio:
    """Two slower falling, lower notes: not understood, please say it again."""
    return _sequence([(_E5, 0.0, 0.2), (_G4, 0.16, 0.24)], 0.40, rate, volume=0.10, decay=0.10)


CUES: dict[str, Callable[[], Audio]] = {
    "chime-start": lambda: chime(end=False),
    "chime-end": lambda: chime(end=True),
    "listening": listening,
    "understood": understood,
    "not-understood": not_understood,
}
"""Every cue by its file name (without .wav) in audio/cues/."""
