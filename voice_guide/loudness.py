"""Loudness of a finished track, and the gain that brings it to a target: plain numpy, no devices.

Integrated loudness is ITU-R BS.1770-4 (K-weighting, 400 ms blocks overlapping by 75 %, the -70 LUFS
absolute and -10 LU relative gates) with the K-weighting filters designed for the track's own rate,
as pyloudnorm does (scripts/bench_export.py measures the exported files with pyloudnorm itself). True
peak is the peak of the signal ideally oversampled four times. `to_loudness` is the one place exported
tracks get their level: one gain, and a smooth look-ahead limiter where the gain would push a peak
over the ceiling.
"""

from __future__ import annotations

import numpy as np

from voice_guide.engines import DEFAULT_LUFS

PEAK_DBTP = -1.0
"""No exported sample, nor any peak between samples, goes above this."""
BLOCK_SECONDS, BLOCK_OVERLAP = 0.4, 0.75
ABSOLUTE_GATE, RELATIVE_GATE = -70.0, -10.0
OVERSAMPLE = 4
LIMITER_SECONDS = 0.005
"""The limiter's look-ahead and release: short enough to touch only the peak, long enough not to click."""
LIMITER_MARGIN_DB = 1.0
"""The limiter aims this far under the ceiling: for the little a smooth gain lets through and the
overshoot a lossy encoder adds (up to 0.5 dB in mp3 at 64 kb/s, measured by scripts/measure_loudness.py)."""
CORRECTIONS, CLOSE_ENOUGH_LU = 4, 0.05
"""The limiter lowers the loudness a little: the gain is raised again (secant steps) until within
CLOSE_ENOUGH_LU."""
_FILTER_HISTORY = 8192
"""Samples of the K-weighting's past kept between blocks (its response has died away by then)."""


def _biquad(kind: str, gain_db: float, q: float, fc: float, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ cookbook coefficients (b, a), normalised by a0: the K-weighting's two stages."""
    a_ = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * fc / rate
    cos, alpha = np.cos(w0), np.sin(w0) / (2 * q)
    if kind == "high_shelf":
        b = [a_ * ((a_ + 1) + (a_ - 1) * cos + 2 * np.sqrt(a_) * alpha), -2 * a_ * ((a_ - 1) + (a_ + 1) * cos),
             a_ * ((a_ + 1) + (a_ - 1) * cos - 2 * np.sqrt(a_) * alpha)]
        a = [(a_ + 1) - (a_ - 1) * cos + 2 * np.sqrt(a_) * alpha, 2 * ((a_ - 1) - (a_ + 1) * cos),
             (a_ + 1) - (a_ - 1) * cos - 2 * np.sqrt(a_) * alpha]
    else:  # high pass
        b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
        a = [1 + alpha, -2 * cos, 1 - alpha]
    return np.array(b) / a[0], np.array(a) / a[0]


def _k_response(rate: int, size: int) -> np.ndarray:
    """The K-weighting's frequency response at the `size`-point real FFT's bins."""
    z = np.exp(-1j * np.pi * np.arange(size // 2 + 1) / (size // 2))
    response = np.ones_like(z)
    for stage in (("high_shelf", 4.0, 1 / np.sqrt(2), 1500.0), ("high_pass", 0.0, 0.5, 38.0)):
        b, a = _biquad(*stage, rate)
        response *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    return response


def k_weighted(samples: np.ndarray, rate: int, block: int = 1 << 16) -> np.ndarray:
    """The samples through the K-weighting filter (overlap-save FFT filtering, block by block)."""
    x = np.asarray(samples, dtype=np.float64)
    response = _k_response(rate, block)
    step = block - _FILTER_HISTORY
    padded = np.concatenate([np.zeros(_FILTER_HISTORY), x, np.zeros(block)])
    out = np.zeros(len(x))
    for start in range(0, len(x), step):
        segment = padded[start:start + block]
        if not segment.any():  # a quiet hold: nothing in, nothing out
            continue
        y = np.fft.irfft(np.fft.rfft(segment) * response, block)
        n = min(step, len(x) - start)
        out[start:start + n] = y[_FILTER_HISTORY:_FILTER_HISTORY + n]
    return out


def integrated_lufs(samples: np.ndarray, rate: int) -> float:
    """BS.1770-4 integrated loudness of a mono track in LUFS; -inf when it is all below the gate."""
    weighted = k_weighted(samples, rate)
    size, hop = round(BLOCK_SECONDS * rate), round(BLOCK_SECONDS * (1 - BLOCK_OVERLAP) * rate)
    if len(weighted) < size:
        return float("-inf")
    energy = np.concatenate([[0.0], np.cumsum(weighted * weighted)])
    starts = np.arange(0, len(weighted) - size + 1, hop)
    power = (energy[starts + size] - energy[starts]) / size
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(power)
    gated = power[loudness > ABSOLUTE_GATE]
    if len(gated) == 0:
        return float("-inf")
    relative = -0.691 + 10 * np.log10(np.mean(gated)) + RELATIVE_GATE
    gated = power[(loudness > ABSOLUTE_GATE) & (loudness > relative)]
    return float(-0.691 + 10 * np.log10(np.mean(gated)))


def peak_envelope(samples: np.ndarray, rate: int, chunk: int = 1 << 15, pad: int = 1024) -> np.ndarray:
    """Per sample, the largest magnitude of the signal ideally interpolated OVERSAMPLE times around it
    (its true peak; band-limited by FFT, so nothing near the top of the band is filtered away), worked
    out chunk by chunk so a long track never needs four copies of itself."""
    x = np.asarray(samples, dtype=np.float64)
    out = np.abs(x)
    for start in range(0, len(x), chunk):
        a, b = max(0, start - pad), min(len(x), start + chunk + pad)
        if not x[a:b].any():
            continue
        spectrum = np.fft.rfft(x[a:b])
        if (b - a) % 2 == 0:
            spectrum[-1] /= 2  # the Nyquist bin is shared by both halves once the band widens
        up = np.abs(np.fft.irfft(spectrum, OVERSAMPLE * (b - a))) * OVERSAMPLE
        n = min(chunk, len(x) - start)
        part = up.reshape(-1, OVERSAMPLE).max(axis=1)[start - a:start - a + n]
        out[start:start + n] = np.maximum(out[start:start + n], part)
    return out


def true_peak_dbtp(samples: np.ndarray, rate: int) -> float:
    if len(samples) == 0:
        return float("-inf")
    peak = float(np.max(peak_envelope(samples, rate)))
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def _running_min(values: np.ndarray, width: int) -> np.ndarray:
    """The minimum over each centred window of `width` samples (van Herk / Gil-Werman, all numpy)."""
    half = width // 2
    n = len(values)
    padded = np.concatenate([np.full(half, np.inf), values, np.full(width, np.inf)])
    blocks = -(-len(padded) // width)
    padded = np.concatenate([padded, np.full(blocks * width - len(padded), np.inf)]).reshape(blocks, width)
    forward = np.minimum.accumulate(padded, axis=1).reshape(-1)
    backward = np.minimum.accumulate(padded[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    index = np.arange(n)
    return np.minimum(backward[index], forward[index + width - 1])


def limiter_gain(envelope: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """A smooth gain, never above 1, that keeps every sample of `envelope` at or under `ceiling`: the
    gain each sample needs, its minimum over a window, then averaged over half that window (so each
    averaged value is no more than what the sample at its centre needs). Worked out only around the
    peaks that need it."""
    needed = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-12))
    gain = np.ones(len(envelope))
    over = np.flatnonzero(needed < 1.0)
    if len(over) == 0:
        return gain
    width = max(2, round(LIMITER_SECONDS * rate))
    reach = 2 * width
    breaks = np.flatnonzero(np.diff(over) > 2 * reach) + 1
    for first, last in zip(over[np.r_[0, breaks]], over[np.r_[breaks - 1, len(over) - 1]]):
        a, b = max(0, first - reach), min(len(needed), last + reach + 1)
        floor = _running_min(needed[a:b], 2 * width + 1)
        total = np.concatenate([[0.0], np.cumsum(floor)])
        index = np.arange(len(floor))
        lo, hi = np.maximum(0, index - width // 2), np.minimum(len(floor), index + width // 2 + 1)
        gain[a:b] = (total[hi] - total[lo]) / (hi - lo)
    return gain


def to_loudness(samples: np.ndarray, rate: int, target_lufs: float = DEFAULT_LUFS,
                peak_dbtp: float = PEAK_DBTP) -> np.ndarray:
    """The track at `target_lufs` integrated, its true peak at most `peak_dbtp`: one gain, a limiter on
    the few peaks it would push too high, and the gain corrected for what the limiter took."""
    x = np.asarray(samples, dtype=np.float32)
    level = integrated_lufs(x, rate)
    if not np.isfinite(level):
        return x.copy()
    ceiling = 10 ** ((peak_dbtp - LIMITER_MARGIN_DB) / 20)
    envelope = peak_envelope(x, rate)

    def levelled(gain_db: float) -> np.ndarray:
        gain = 10 ** (gain_db / 20)
        return (x * (gain * limiter_gain(envelope * gain, ceiling, rate))).astype(np.float32)

    tried = [(0.0, level)]
    gain_db = target_lufs - level
    out = levelled(gain_db)
    for _ in range(CORRECTIONS):
        reached = integrated_lufs(out, rate)
        if abs(target_lufs - reached) <= CLOSE_ENOUGH_LU:
            break
        (last_db, last), slope = tried[-1], 1.0
        if reached != last and gain_db != last_db:
            slope = max(0.05, (reached - last) / (gain_db - last_db))
        tried.append((gain_db, reached))
        gain_db += (target_lufs - reached) / slope
        out = levelled(gain_db)
    return out
