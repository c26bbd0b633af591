"""Pure audio maths on mono float32 buffers: no devices, no files.

Everything that moves sound around (speech, cues, silences, microphone blocks) is an `Audio`: float32
samples in [-1, 1] at a sample rate. Devices and codecs live in `voice_guide.adapters`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPEECH_RATE = 16000
"""The rate recognisers take."""
RESAMPLE_QUALITY = "HQ"
"""libsoxr's quality for every rate change."""
MIN_RATE, MAX_RATE = 4000, 384000
"""Sample rates a sound can have, in Hz, wherever the rate is read from (a recording's header, a cached
sound, a voice's config, enrolled templates); a file claiming another is broken or hostile."""


@dataclass(frozen=True, eq=False)
class Audio:
    """A mono sound: float32 samples in [-1, 1] and their rate."""

    samples: np.ndarray
    """One-dimensional float32 array."""
    rate: int
    """Samples per second."""

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32).reshape(-1)
        object.__setattr__(self, "samples", samples)
        if self.rate <= 0:
            raise ValueError(f"sample rate must be positive, not {self.rate}")

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate

    def __len__(self) -> int:
        return len(self.samples)

    @classmethod
    def silence(cls, seconds: float, rate: int) -> "Audio":
        return cls(np.zeros(max(0, round(seconds * rate)), dtype=np.float32), rate)

    @classmethod
    def from_pcm16(cls, data: bytes, rate: int, channels: int = 1) -> "Audio":
        """From little-endian signed 16-bit PCM, mixing channels down to mono."""
        pcm = np.frombuffer(data[: len(data) - len(data) % (2 * channels)], dtype="<i2")
        frames = pcm.reshape(-1, channels).astype(np.float32).mean(axis=1) / 32768.0
        return cls(frames, rate)

    def to_pcm16(self) -> bytes:
        """Little-endian signed 16-bit PCM, clipped."""
        return to_int16(self.samples).tobytes()

    def resample(self, rate: int) -> "Audio":
        return Audio(resample(self.samples, self.rate, rate), rate)

    def gain(self, factor: float) -> "Audio":
        return Audio(self.samples * np.float32(factor), self.rate)

    def slice(self, start: float, end: float | None = None) -> "Audio":
        a = max(0, round(start * self.rate))
        b = len(self.samples) if end is None else max(a, round(end * self.rate))
        return Audio(self.samples[a:b], self.rate)


def wav_bytes(audio: Audio) -> bytes:
    """A 16-bit mono WAV of `audio`, built in memory so a caller can write it in one go."""
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.rate)
        out.writeframes(audio.to_pcm16())
    return buf.getvalue()


def to_int16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling (libsoxr, high quality), float32 out; its cost depends on the lengths,
    never on the rates' common factor. `resampler` streams the same."""
    if src_rate == dst_rate or len(samples) == 0:
        return np.asarray(samples, dtype=np.float32)
    import soxr

    return soxr.resample(np.asarray(samples, dtype=np.float32), int(src_rate), int(dst_rate), quality=RESAMPLE_QUALITY)


def resampler(src_rate: int, dst_rate: int):
    """A streaming `resample`: `.resample_chunk(block, last=False)` gives, block after block, exactly
    what `resample` gives for the whole."""
    import soxr

    return soxr.ResampleStream(int(src_rate), int(dst_rate), 1, dtype="float32", quality=RESAMPLE_QUALITY)


def concatenate(parts: list[Audio], rate: int) -> Audio:
    """Join sounds end to end at one rate, resampling where needed."""
    if not parts:
        return Audio(np.zeros(0, dtype=np.float32), rate)
    return Audio(np.concatenate([p.resample(rate).samples for p in parts]), rate)


def tone(freq: float, seconds: float, rate: int, volume: float = 0.2, fade: float = 0.02) -> Audio:
    """A soft sine tone with raised-cosine fades, for cues and earcons."""
    n = max(0, round(seconds * rate))
    t = np.arange(n, dtype=np.float32) / rate
    wave = np.sin(2 * np.pi * freq * t).astype(np.float32) * np.float32(volume)
    f = min(n // 2, max(1, round(fade * rate)))
    if f > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, f))).astype(np.float32)
        wave[:f] *= ramp
        wave[n - f :] *= ramp[::-1]
    return Audio(wave, rate)


def frame_power(samples: np.ndarray, size: int, hop: int | None = None) -> np.ndarray:
    """Mean square of each whole frame of `size` samples, one frame every `hop` samples (by default
    `size`: side by side). The one place frame levels are computed; see `frame_dbfs`."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    size = max(1, int(size))
    if len(x) < size:
        return np.zeros(0)
    return np.mean(np.lib.stride_tricks.sliding_window_view(x * x, size)[:: hop or size], axis=1)


def frame_dbfs(samples: np.ndarray, size: int, hop: int | None = None, floor_db: float = -120.0) -> np.ndarray:
    """Level in dBFS of each frame (see `frame_power`); quieter frames, digital silence among them,
    read `floor_db`."""
    return 10 * np.log10(np.maximum(frame_power(samples, size, hop), 10 ** (floor_db / 10)))


def rms_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level in dB relative to full scale (-inf for silence)."""
    if len(samples) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * np.log10(rms) if rms > 0 else float("-inf")


def add_noise_floor(audio: Audio, dbfs: float = -60.0, seed: int = 0) -> Audio:
    """Add faint white noise: exact digital silence confuses recognisers."""
    rng = np.random.default_rng(seed)
    level = 10 ** (dbfs / 20)
    noise = rng.standard_normal(len(audio.samples)).astype(np.float32) * np.float32(level)
    return Audio(audio.samples + noise, audio.rate)
