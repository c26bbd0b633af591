"""A synthetic speaker that a speaker-independent recogniser handles badly, for testing enrolment.

One espeak-ng voice, slow, with the lip sounds weakened the same way every time (as when half the face
does not move: p/b/m/f/v lose their closure), heavily low-passed, smeared in time and with a noise
floor. Takes vary in rate, pitch, loudness and noise, more so for the held-out "test" takes than for
the enrolment takes. Shared by tests/test_personal.py, tests/test_enrollment.py and
scripts/eval_personal.py.
"""

from __future__ import annotations

import io
import subprocess
import zlib
from functools import lru_cache

import numpy as np
import soundfile
from scipy.signal import butter, sosfilt

from voice_guide.audio import SPEECH_RATE, Audio, add_noise_floor

COMMANDS = ("next", "back", "repeat", "pause", "resume", "stop", "slower", "louder", "quieter", "help",
            "yes", "no")
OTHER_WORDS = ("water", "purple", "morning", "table", "coffee", "window", "seven", "garden", "doctor",
               "later", "sister", "yellow", "tomorrow", "kitchen", "paper", "music", "garage")
"""Ordinary words that are not commands, for false accepts."""
NEAR_WORDS = ("slow", "loud", "post", "best", "nest", "yet", "stock", "hello")
"""Words that sound like commands: the hardest non-commands."""

_LIPS = str.maketrans({"p": "h", "b": "w", "m": "n", "f": "h", "v": "w"})


def slur(word: str) -> str:
    """The same lip-less respelling every time: 'pause' -> 'hause'."""
    return word.translate(_LIPS)


@lru_cache(maxsize=512)
def espeak(text: str, speed: int, pitch: int, voice: str = "en-us") -> Audio:
    """espeak-ng's rendering of `text`, 16 kHz mono."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-z", "--stdout",
                          text], check=True, capture_output=True).stdout
    samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    return Audio(samples, rate).resample(SPEECH_RATE)


def degrade(audio: Audio, rng: np.random.Generator, snr_db: float) -> Audio:
    """Low-pass at 1.2 kHz, smear through this speaker's fixed ~60 ms response, pad with quiet and add
    noise at `snr_db`."""
    x = sosfilt(butter(6, 1200, btype="low", fs=audio.rate, output="sos"), audio.samples.astype(np.float64))
    x = np.convolve(x, _SMEAR)[: len(x)]
    x = x / (np.abs(x).max() + 1e-9) * 0.5 * 10 ** (rng.uniform(-6, 3) / 20)
    rate = audio.rate
    x = np.concatenate([np.zeros(int(rng.uniform(0.2, 0.4) * rate)), x, np.zeros(int(rng.uniform(0.3, 0.5) * rate))])
    loud = np.abs(x) > 1e-4
    speech_rms = float(np.sqrt(np.mean(np.square(x[loud])))) if loud.any() else 0.01
    noise = rng.standard_normal(len(x)) * speech_rms * 10 ** (-snr_db / 20)
    return add_noise_floor(Audio((x + noise).astype(np.float32), rate), -70, seed=int(rng.integers(1 << 30)))


def _speaker_smear() -> np.ndarray:
    rng = np.random.default_rng(7)
    tail = np.exp(-np.arange(int(0.06 * SPEECH_RATE)) / (0.015 * SPEECH_RATE))
    smear = rng.standard_normal(len(tail)) * tail
    smear[0] = 4.0
    return smear / np.abs(smear).sum()


_SMEAR = _speaker_smear()
PITCH = 35
"""This speaker's espeak-ng pitch."""


def take(word: str, index: int, held_out: bool = False) -> Audio:
    """Take number `index` of `word` by the degraded speaker; held-out takes vary more (rate, pitch,
    loudness, noise) than enrolment takes."""
    rng = np.random.default_rng(zlib.crc32(f"{word}/{index}/{held_out}".encode()))
    if held_out:
        speed, pitch, snr = int(rng.integers(75, 121)), PITCH + int(rng.integers(-8, 9)), rng.uniform(10, 18)
    else:
        speed, pitch, snr = int(rng.integers(85, 106)), PITCH + int(rng.integers(-3, 4)), rng.uniform(14, 20)
    return degrade(espeak(slur(word), speed, pitch), rng, snr)


def clean_take(word: str, index: int = 0) -> Audio:
    """The same voice without the slur or degradation (what a recogniser is good at)."""
    rng = np.random.default_rng(index)
    audio = espeak(word, 140, 50)
    pad = np.zeros(int(0.3 * audio.rate), dtype=np.float32)
    return add_noise_floor(Audio(np.concatenate([pad, audio.samples * 0.5, pad]), audio.rate), -60,
                           seed=int(rng.integers(1 << 30)))
