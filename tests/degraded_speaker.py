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


def take(word: str, index: int, held_out: bool = False, voice: str = "en-us", pitch: int = PITCH) -> Audio:
    """Take number `index` of `word` by the degraded speaker (another one with `voice`/`pitch`);
    held-out takes vary more (rate, pitch, loudness, noise) than enrolment takes."""
    who = "" if (voice, pitch) == ("en-us", PITCH) else f"/{voice}/{pitch}"
    rng = np.random.default_rng(zlib.crc32(f"{word}/{index}/{held_out}{who}".encode()))
    if held_out:
        speed, pitch, snr = int(rng.integers(75, 121)), pitch + int(rng.integers(-8, 9)), rng.uniform(10, 18)
    else:
        speed, pitch, snr = int(rng.integers(85, 106)), pitch + int(rng.integers(-3, 4)), rng.uniform(14, 20)
    return degrade(espeak(slur(word), speed, pitch, voice), rng, snr)


def clean_take(word: str, index: int = 0, voice: str = "en-us", pitch: int = 50) -> Audio:
    """The same voice without the slur or degradation (what a recogniser is good at; a speaker whose
    lips have recovered)."""
    rng = np.random.default_rng(index)
    audio = espeak(word, 140, pitch, voice)
    pad = np.zeros(int(0.3 * audio.rate), dtype=np.float32)
    return add_noise_floor(Audio(np.concatenate([pad, audio.samples * 0.5, pad]), audio.rate), -60,
                           seed=int(rng.integers(1 << 30)))


# Non-speech sounds for the no-words switch.

def _place(sound: np.ndarray, rng: np.random.Generator, rate: int = SPEECH_RATE, room_db: float = -60.0) -> Audio:
    """`sound` with 0.3-0.5 s of room noise before and after."""
    pre, post = (np.zeros(int(rng.uniform(0.3, 0.5) * rate)) for _ in range(2))
    x = np.concatenate([pre, sound, post])
    x = x + rng.standard_normal(len(x)) * 10 ** (room_db / 20)
    return Audio(x.astype(np.float32), rate)


def tongue_click(seed: int, rate: int = SPEECH_RATE) -> Audio:
    """A tongue click: a few milliseconds of a 1.5-4 kHz ring, dying at once."""
    rng = np.random.default_rng(seed)
    n = int(0.03 * rate)
    t = np.arange(n) / rate
    ring = np.sin(2 * np.pi * rng.uniform(1500, 4000) * t) * np.exp(-t / rng.uniform(0.002, 0.005))
    burst = rng.standard_normal(n) * np.exp(-t / 0.0015)
    return _place((ring + 0.5 * burst) * rng.uniform(0.1, 0.6), rng)


def table_tap(seed: int, rate: int = SPEECH_RATE) -> Audio:
    """A knuckle on a table: a thump at a few hundred Hz with a broadband edge, gone in ~30 ms."""
    rng = np.random.default_rng(seed + 1000)
    n = int(0.06 * rate)
    t = np.arange(n) / rate
    thump = sum(np.sin(2 * np.pi * f * t) for f in rng.uniform(150, 900, 3)) * np.exp(-t / rng.uniform(0.006, 0.012))
    edge = rng.standard_normal(n) * np.exp(-t / 0.001)
    return _place((thump / 3 + 0.4 * edge) * rng.uniform(0.1, 0.6), rng)


def hum(seed: int, rate: int = SPEECH_RATE, f0: float | None = None) -> Audio:
    """A closed-lips hum: a steady harmonic tone (a little vibrato), nasal (low-passed), 0.6-1.2 s."""
    rng = np.random.default_rng(seed + 2000)
    seconds = rng.uniform(0.6, 1.2)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f = (f0 or rng.uniform(100, 220)) * (1 + 0.01 * np.sin(2 * np.pi * 5 * t) + 0.003 * rng.standard_normal())
    phase = 2 * np.pi * np.cumsum(f) / rate
    x = sum(np.sin(k * phase) / k**1.5 for k in range(1, 12))
    x = sosfilt(butter(2, 600, btype="low", fs=rate, output="sos"), x)
    env = np.minimum(1, np.minimum(t / 0.08, (seconds - t) / 0.1))
    return _place(x * env / np.abs(x).max() * rng.uniform(0.1, 0.5), rng)


def room_noise(seed: int, rate: int = SPEECH_RATE) -> Audio:
    """Everyday room sounds: a cough-like burst, a rustle, a door bump, fan noise, typing."""
    rng = np.random.default_rng(seed + 3000)
    kind = seed % 5
    if kind == 0:  # cough: 0.2-0.4 s of shaped noise
        n = int(rng.uniform(0.2, 0.4) * rate)
        x = rng.standard_normal(n) * np.hanning(n) * 0.3
        x = sosfilt(butter(2, [300, 3000], btype="band", fs=rate, output="sos"), x)
    elif kind == 1:  # rustle: a second of crackly noise
        n = rate
        x = rng.standard_normal(n) * (rng.random(n) < 0.05) * 0.2
    elif kind == 2:  # door bump: a low thud ringing for a quarter second
        n = int(0.3 * rate)
        t = np.arange(n) / rate
        x = np.sin(2 * np.pi * rng.uniform(60, 120) * t) * np.exp(-t / 0.08) * 0.5
    elif kind == 3:  # fan: steady broadband noise
        x = sosfilt(butter(2, 800, btype="low", fs=rate, output="sos"), rng.standard_normal(2 * rate)) * 0.1
    else:  # typing: clicks every 120-200 ms
        x = np.zeros(int(1.5 * rate))
        pos = 0
        while pos < len(x) - 400:
            x[pos : pos + 200] += rng.standard_normal(200) * np.exp(-np.arange(200) / 30) * 0.2
            pos += int(rng.uniform(0.12, 0.2) * rate)
    return _place(x, rng)


def room(audio: Audio, rt60: float, seed: int, direct_to_echo: float = 2.0) -> Audio:
    """`audio` heard in a room: a diffuse echo decaying 60 dB in `rt60` seconds, with the direct sound
    `direct_to_echo` times the echo's energy."""
    rng = np.random.default_rng(seed + 4000)
    n = int(rt60 * audio.rate)
    t = np.arange(n) / audio.rate
    ir = rng.standard_normal(n) * 10 ** (-3 * t / rt60)
    ir[0] = 0.0
    ir *= np.sqrt(1.0 / direct_to_echo / np.sum(ir**2))
    ir[0] = 1.0
    return Audio(np.convolve(audio.samples, ir)[: len(audio.samples)].astype(np.float32), audio.rate)
