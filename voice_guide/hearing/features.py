"""Acoustic features of one utterance and the distance between two of them: pure numpy.

Template matching compares a new utterance with the user's own enrolled takes, so the features must
ignore what changes between takes of the same word (loudness, the microphone's colour, leading and
trailing quiet, speaking rate) and keep what tells words apart (the shape of the spectrum over time).
Hence: the sounding part only, MFCCs with per-utterance mean and variance normalisation, deltas, and
dynamic time warping (dtaidistance's C implementation) normalised by the two lengths.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from voice_guide.audio import MAX_RATE, SPEECH_RATE, Audio, frame_dbfs
from voice_guide.schema import SampleRate, between


@dataclass(frozen=True)
class FeatureConfig:
    """Everything that shapes a feature matrix; stored with enrolled templates so that a change
    (a new version of these defaults) is noticed instead of silently comparing unlike things. The
    field types are its schema when read from a file (`check` adds what ties fields together)."""

    rate: SampleRate = SPEECH_RATE
    frame: between(0.005, 0.1, "seconds") = 0.025
    """Analysis window in seconds."""
    hop: between(0.010, 0.05, "seconds") = 0.010
    """Step between frames in seconds (finer would make template comparisons slow)."""
    n_fft: between(64, 4096, whole=True) = 512
    n_mels: between(1, 128, whole=True) = 40
    n_mfcc: between(1, 128, whole=True) = 13
    fmin: between(0.0, MAX_RATE / 2, "Hz") = 60.0
    fmax: between(0.0, MAX_RATE / 2, "Hz") = 4000.0
    """Above 4 kHz a slurred or muffled voice carries little, room noise a lot."""
    preemphasis: between(0.0, 1.0) = 0.97
    deltas: bool = True

    @property
    def width(self) -> int:
        """Columns of a feature matrix."""
        return self.n_mfcc * (2 if self.deltas else 1)

    def check(self) -> "FeatureConfig":
        """Itself, when its fields agree with each other; else ValueError saying how they do not."""
        if self.n_mfcc > self.n_mels:
            raise ValueError(f"n_mfcc ({self.n_mfcc}) must be at most n_mels ({self.n_mels})")
        if round(self.frame * self.rate) > self.n_fft:
            raise ValueError(f"a frame of {self.frame:g} s at {self.rate} Hz does not fit n_fft ({self.n_fft})")
        if not self.fmin < self.fmax:
            raise ValueError(f"fmin ({self.fmin:g}) must be below fmax ({self.fmax:g})")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULT = FeatureConfig()

_EPS = 1e-10


def frames(samples: np.ndarray, rate: int, frame: float, hop: float) -> np.ndarray:
    """Overlapping frames (n_frames, frame_len); a short sound gives one zero-padded frame."""
    flen = max(1, round(frame * rate))
    step = max(1, round(hop * rate))
    x = np.asarray(samples, dtype=np.float64)
    if len(x) < flen:
        x = np.pad(x, (0, flen - len(x)))
    n = 1 + (len(x) - flen) // step
    return np.lib.stride_tricks.sliding_window_view(x, flen)[::step][:n]


def frame_energy_db(samples: np.ndarray, rate: int, frame: float = 0.025, hop: float = 0.010) -> np.ndarray:
    """Per-frame RMS level in dBFS."""
    flen = max(1, round(frame * rate))
    x = np.asarray(samples, dtype=np.float64)
    if len(x) < flen:
        x = np.pad(x, (0, flen - len(x)))
    return frame_dbfs(x, flen, max(1, round(hop * rate)), floor_db=-100.0)


def sounding_span(samples: np.ndarray, rate: int, hop: float = 0.010, range_db: float = 35.0,
                  above_floor_db: float = 12.0, pad: float = 0.05) -> tuple[int, int]:
    """(start, end) sample indices of the part that sounds: frames within `range_db` of the loudest
    and `above_floor_db` over the quiet floor, padded a little. Whole buffer when nothing stands out."""
    if len(samples) == 0:
        return 0, 0
    db = frame_energy_db(samples, rate, hop=hop)
    floor = float(np.percentile(db, 10))
    peak = float(db.max())
    threshold = max(peak - range_db, floor + above_floor_db)
    loud = np.flatnonzero(db >= threshold)
    if peak - floor < above_floor_db or len(loud) == 0:
        return 0, len(samples)
    step = round(hop * rate)
    extra = round(pad * rate)
    start = max(0, loud[0] * step - extra)
    end = min(len(samples), (loud[-1] + 1) * step + round(0.025 * rate) + extra)
    return int(start), int(end)


def trim(audio: Audio) -> Audio:
    """The sounding part of `audio` (see `sounding_span`)."""
    a, b = sounding_span(audio.samples, audio.rate)
    return Audio(audio.samples[a:b], audio.rate)


@lru_cache(maxsize=8)
def mel_filterbank(rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Triangular filters on the mel scale (HTK formula), shape (n_mels, n_fft // 2 + 1)."""
    fmax = min(fmax, rate / 2)

    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def mel_to_hz(m):
        return 700.0 * (10 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / rate)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / np.maximum(centre - lower, _EPS)
    falling = (upper - bins) / np.maximum(upper - centre, _EPS)
    bank = np.maximum(0.0, np.minimum(rising, falling))
    bank.setflags(write=False)
    return bank


def power_spectrum(audio: Audio, config: FeatureConfig = DEFAULT) -> np.ndarray:
    """Windowed power spectra (n_frames, n_fft // 2 + 1) of the pre-emphasised sound at config.rate."""
    x = audio.resample(config.rate).samples.astype(np.float64)
    if config.preemphasis and len(x) > 1:
        x = np.append(x[0], x[1:] - config.preemphasis * x[:-1])
    f = frames(x, config.rate, config.frame, config.hop)
    f = f * np.hamming(f.shape[1])
    return np.abs(np.fft.rfft(f, n=config.n_fft, axis=1)) ** 2


def log_mel(audio: Audio, config: FeatureConfig = DEFAULT) -> np.ndarray:
    """Log mel energies (n_frames, n_mels)."""
    bank = mel_filterbank(config.rate, config.n_fft, config.n_mels, config.fmin, config.fmax)
    return np.log(power_spectrum(audio, config) @ bank.T + _EPS)


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The first `n_out` rows of the orthonormal DCT-II of length `n_in` (what cepstra are made with)."""
    k = np.arange(n_out)[:, None]
    m = np.cos(np.pi * k * (2 * np.arange(n_in)[None, :] + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    m[0] /= np.sqrt(2.0)
    return m


def mfcc(audio: Audio, config: FeatureConfig = DEFAULT) -> np.ndarray:
    """Mel-frequency cepstral coefficients (n_frames, n_mfcc), c0 included."""
    return log_mel(audio, config) @ dct_matrix(config.n_mels, config.n_mfcc).T


def deltas(x: np.ndarray, width: int = 2) -> np.ndarray:
    """Regression deltas over +-`width` frames (edges repeated)."""
    if len(x) == 0:
        return x.copy()
    padded = np.pad(x, ((width, width), (0, 0)), mode="edge")
    n = len(x)
    num = sum(k * (padded[width + k : width + k + n] - padded[width - k : width - k + n])
              for k in range(1, width + 1))
    return num / (2 * sum(k * k for k in range(1, width + 1)))


def utterance_features(audio: Audio, config: FeatureConfig = DEFAULT) -> np.ndarray:
    """What templates store and compare: MFCCs (+ deltas) of the sounding part, each coefficient
    normalised to zero mean and unit variance over the utterance. float64, C-contiguous."""
    audio = audio.resample(config.rate)
    c = mfcc(trim(audio), config)
    if config.deltas:
        c = np.hstack([c, deltas(c)])
    c = (c - c.mean(axis=0)) / (c.std(axis=0) + 1e-3)
    return np.ascontiguousarray(c, dtype=np.float64)


def dtw_distance(a: np.ndarray, b: np.ndarray, window: float | None = 0.5) -> float:
    """Dynamic-time-warping distance between two feature matrices, normalised by their lengths:
    the root of the summed squared frame distances along the best path over (len a + len b), so a
    long and a short word compare on the same scale. `window` (fraction of the longer length) bands
    the path; inf when the lengths are too different for the band."""
    from dtaidistance import dtw_ndim

    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return float("inf")
    kwargs = {}
    if window is not None:
        kwargs["window"] = max(abs(n - m) + 1, int(window * max(n, m)))
    a, b = np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64)
    d = dtw_ndim.distance_fast(a, b, **kwargs) if _compiled() else dtw_ndim.distance(a, b, **kwargs)
    return float(np.sqrt(d * d / (n + m)))


@lru_cache(maxsize=1)
def _compiled() -> bool:
    """dtaidistance's C extension (in its wheels) is ~100x faster; its pure-Python path still works."""
    from dtaidistance import dtw

    return bool(dtw.try_import_c(verbose=False))
