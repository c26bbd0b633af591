"""The audio front-end every recogniser gets: pure numpy, no engine.

Microphones and clips arrive at any rate, level and DC offset, with long quiet stretches around the
word. Recognisers trained on close-talk speech do best on a 16 kHz utterance with the speech at a
steady level, the rumble removed, a little quiet either side and never exact digital silence, so the
adapters run `prepare` before decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio, frame_dbfs

FRAME = 0.02
"""Seconds per analysis frame for the energy voice-activity detector."""


@dataclass(frozen=True)
class FrontEnd:
    """The few knobs of the front-end; the defaults are the tuned ones."""

    highpass_hz: float = 70.0
    """Cut-off of the rumble filter (fans, handling noise, DC)."""
    target_dbfs: float = -22.0
    """Level the speech part is scaled to."""
    max_gain_db: float = 30.0
    """Never amplify more than this: a silent room must not become loud noise."""
    vad_margin_db: float = 9.0
    """A frame is speech when this much louder than the noise floor."""
    pad: float = 0.2
    """Seconds of context kept either side of the detected speech."""
    dither_dbfs: float = -70.0
    """Faint noise added so no frame is digital silence."""
    trim: bool = True
    """Cut the quiet before and after the speech."""

    def prepare(self, audio: Audio) -> Audio:
        """Resample to 16 kHz, filter, trim, level and dither one utterance."""
        audio = audio.resample(SPEECH_RATE) if audio.rate != SPEECH_RATE else audio
        x = highpass(audio.samples, audio.rate, self.highpass_hz)
        if self.trim:
            start, end = speech_bounds(x, audio.rate, self.vad_margin_db, self.pad)
            x = x[start:end]
        x = normalise_gain(x, audio.rate, self.target_dbfs, self.max_gain_db)
        return Audio(dither(x, self.dither_dbfs), audio.rate)


def highpass(samples: np.ndarray, rate: int, cutoff: float) -> np.ndarray:
    """Zero-phase high-pass with a fourth-order Butterworth magnitude (a second-order Butterworth run
    forwards and backwards, as filtfilt does), applied to the whole utterance in the frequency domain;
    it also removes any DC offset. Numpy only: scipy's filters would cost the listening guide 68 MB."""
    x = np.asarray(samples, dtype=np.float32)
    if len(x) == 0:
        return x
    x = x - np.float32(x.mean())
    if cutoff <= 0 or len(x) < 16:
        return x
    size = 2 * len(x)  # room for the filter's ring on both sides, so nothing wraps round
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    gain = 1.0 / (1.0 + (cutoff / np.maximum(freqs, 1e-9)) ** 4)
    return np.fft.irfft(np.fft.rfft(x, size) * gain, size)[: len(x)].astype(np.float32)


def _levels(samples: np.ndarray, rate: int) -> np.ndarray:
    return frame_dbfs(samples, round(FRAME * rate))


def speech_bounds(samples: np.ndarray, rate: int, margin_db: float = 9.0, pad: float = 0.2) -> tuple[int, int]:
    """Sample range holding the speech: frames `margin_db` above the noise floor (the 10th percentile
    frame level), from the first to the last such frame, widened by `pad` seconds. The whole range when
    nothing stands out, so a quiet word is never cut away."""
    levels = _levels(samples, rate)
    if len(levels) < 3:
        return 0, len(samples)
    floor = float(np.percentile(levels, 10))
    loud = np.flatnonzero(levels > floor + margin_db)
    if len(loud) == 0:
        return 0, len(samples)
    n = max(1, round(FRAME * rate))
    extra = round(pad * rate)
    start = max(0, loud[0] * n - extra)
    end = min(len(samples), (loud[-1] + 1) * n + extra)
    return int(start), int(end)


def normalise_gain(samples: np.ndarray, rate: int, target_dbfs: float = -22.0, max_gain_db: float = 30.0) -> np.ndarray:
    """Scale so the loud part (the 90th-percentile frame) sits at `target_dbfs`, never amplifying by
    more than `max_gain_db` and never clipping."""
    x = np.asarray(samples, dtype=np.float32)
    levels = _levels(x, rate)
    if len(levels) == 0 or not np.isfinite(levels).any():
        return x
    loud = float(np.percentile(levels, 90))
    gain_db = min(max_gain_db, target_dbfs - loud)
    gain = 10 ** (gain_db / 20)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak > 0:
        gain = min(gain, 0.98 / peak)
    return (x * np.float32(gain)).astype(np.float32)


def dither(samples: np.ndarray, dbfs: float = -70.0, seed: int = 0) -> np.ndarray:
    """Add faint white noise (deterministic) so that no frame is exact digital silence."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(len(samples)).astype(np.float32) * np.float32(10 ** (dbfs / 20))
    return (np.asarray(samples, dtype=np.float32) + noise).astype(np.float32)
