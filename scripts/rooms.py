"""Where the training speech is heard: a room's reverberation (synthetic impulse responses), a far
microphone, room noise (make_corpus's fan, kitchen and babble) and the guide's own voice as an echo
underneath. Pure numpy/scipy on 16 kHz float arrays."""

from __future__ import annotations

import numpy as np

from make_corpus import NOISES, lowpass, mix_at_snr


def impulse_response(rate: int, rt60: float, direct_db: float, rng: np.random.Generator) -> np.ndarray:
    """A room: a direct path, a few early reflections in the first 30 ms and an exponentially decaying
    noise tail that falls 60 dB in `rt60` seconds, duller as it decays; `direct_db` is the direct
    path's energy over the rest (a near microphone ~ +10 dB, a far one ~ -3 dB)."""
    n = max(2, int(rt60 * rate))
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    dull = lowpass(tail.astype(np.float32), rate, 3500.0)
    tail = np.where(t < 0.05, tail, dull)
    for _ in range(rng.integers(3, 7)):
        tail[int(rng.uniform(0.002, 0.03) * rate)] += rng.uniform(-1, 1) * 3
    tail[: int(0.002 * rate)] = 0
    h = tail / np.sqrt(np.sum(tail**2)) * 10 ** (-direct_db / 20)
    h[0] = 1.0
    return h.astype(np.float32)


def reverberate(x: np.ndarray, rate: int, rt60: float, direct_db: float, rng: np.random.Generator) -> np.ndarray:
    """`x` heard in that room, as long as `x` (its quiet ending holds the tail), at the same peak."""
    from scipy.signal import fftconvolve

    y = fftconvolve(x, impulse_response(rate, rt60, direct_db, rng))[: len(x)]
    return (y / (np.max(np.abs(y)) + 1e-9) * np.max(np.abs(x))).astype(np.float32)


def far_microphone(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Two or three metres away: mostly room, a little duller and a laptop microphone's thin bass."""
    from scipy.signal import butter, sosfilt

    y = reverberate(x, rate, rng.uniform(0.4, 0.9), rng.uniform(-4, 2), rng)
    y = sosfilt(butter(2, 200, btype="highpass", fs=rate, output="sos"), lowpass(y, rate, rng.uniform(4500, 6500)))
    return y.astype(np.float32)


def noisy(x: np.ndarray, rate: int, kind: str, snr_db: float, seed: int) -> np.ndarray:
    """Room noise of `kind` (fan, kitchen, babble) at `snr_db` under the speech."""
    return mix_at_snr(x, NOISES[kind](len(x), rate, seed), snr_db)


def with_echo(x: np.ndarray, echo: np.ndarray, below_db: float, rng: np.random.Generator) -> np.ndarray:
    """The guide's own voice (a stretch of `echo`, its speech rendered once) `below_db` under `x`."""
    start = int(rng.integers(0, max(1, len(echo) - len(x))))
    return mix_at_snr(x, np.resize(echo[start:], len(x)).astype(np.float32), below_db)


def at_level(x: np.ndarray, peak_db: float) -> np.ndarray:
    """`x` scaled to a peak of `peak_db` dBFS (people speak at many levels and distances)."""
    return (x / (np.max(np.abs(x)) + 1e-9) * 10 ** (peak_db / 20)).astype(np.float32)
