"""Facial-palsy speech for the training corpus: on the phonemes (lip consonants weakened into breath or
left out, rounded vowels unrounded) and on the sound (breathiness, weaker lip bursts, less treble).

With one side of the face paralysed the lips do not close or round fully: a p or b leaks air and turns
into a bilabial fricative (ɸ, β), an m loses its closure, f and v lose the lower lip, a w and the
rounded vowels lose their rounding (u -> ɯ, o -> ɤ, ɔ -> ʌ). Each sound is changed with a chance set by
the severity, so two takes of one phrase differ as a person's do. Pure: text and numpy arrays only.
"""

from __future__ import annotations

import random
import re

import numpy as np

SEVERITIES = {"mild": (0.3, 0.3), "moderate": (0.6, 0.6)}
"""Severity -> (chance a lip consonant is weakened, chance a rounded vowel is unrounded). One side of
the lips still moves (House-Brackmann II-III): many lip sounds still come out, weakly."""
RATES = {"normal": 1.0, "slow": 0.75, "veryslow": 0.55}
"""Speaking rate -> speed factor (1.0: the engine's own pace); people with palsy often speak slowly."""

IPA = {
    "consonants": {"p": ("ɸ",), "b": ("β",), "m": ("ŋ", "n", ""), "f": ("h", "ɸ"), "v": ("β",),
                   "w": ("ɰ", "")},
    "vowels": {"oʊ": "ɤʊ", "əʊ": "əɯ", "aʊ": "aɯ", "ɔɪ": "ʌɪ", "uː": "ɯː", "ɔː": "ʌː", "u": "ɯ",
               "ʊ": "ɯ", "o": "ɤ", "ɔ": "ʌ", "ɒ": "ɑ"},
}
"""Replacements in espeak-ng's IPA (what Piper and Kokoro are given)."""
ESPEAK = {
    "consonants": {"p": ("h",), "b": ("B",), "m": ("N", "n", ""), "f": ("h",), "v": ("B",), "w": ("",)},
    "vowels": {"oU": "@", "aU": "a@", "OI": "aI", "o@": "A@", "O@": "A@", "u:": "@:", "O:": "A:", "U": "@",
               "O": "A:", "0": "A:"},
}
"""The same in espeak-ng's own phoneme names ([[...]] input; its English table has β (B) but no ɸ,
whose nearest is a plain breath, h). Every replacement is a phoneme the English voices say: an unknown
name such as "A" or "AI" is said as nothing, which left "on" silent and "doctor" without its vowel."""
KOKORO = {"consonants": IPA["consonants"],
          "vowels": {**IPA["vowels"], "O": "ɤɯ", "W": "aɯ", "Y": "ʌɪ", "Q": "əɯ"}}
"""The same in Kokoro's phoneme set (espeak-ng's IPA with one letter per diphthong: O is oʊ, W aʊ, Y ɔɪ,
Q the British əʊ)."""
SCHEMES = {"ipa": IPA, "espeak": ESPEAK, "kokoro": KOKORO}


def _pattern(table: dict) -> re.Pattern:
    keys = sorted([*table["consonants"], *table["vowels"]], key=len, reverse=True)
    return re.compile("|".join(re.escape(k) for k in keys))


_PATTERNS = {name: _pattern(table) for name, table in SCHEMES.items()}


def weaken(phonemes: str, severity: str, scheme: str, rng: random.Random) -> str:
    """`phonemes` as said with weak lips: each lip consonant and rounded vowel replaced with the
    severity's chance. `scheme`: 'ipa' (espeak-ng's IPA), 'espeak' (its phoneme names) or 'kokoro'."""
    table = SCHEMES[scheme]
    lips, rounding = SEVERITIES[severity]

    def swap(match: re.Match) -> str:
        sound = match.group(0)
        if sound in table["consonants"]:
            return rng.choice(table["consonants"][sound]) if rng.random() < lips else sound
        return table["vowels"][sound] if rng.random() < rounding else sound

    return _PATTERNS[scheme].sub(swap, phonemes)


def lip_sounds(phonemes: str, scheme: str) -> int:
    """How many lip consonants and rounded vowels `phonemes` holds (what `weaken` may change)."""
    return len(_PATTERNS[scheme].findall(phonemes))


# ---- on the sound -----------------------------------------------------------------------------

def envelope(x: np.ndarray, rate: int, ms: float = 20.0) -> np.ndarray:
    n = max(1, int(rate * ms / 1000))
    return np.sqrt(np.convolve(x.astype(np.float64) ** 2, np.ones(n) / n, mode="same"))


def breathy(x: np.ndarray, rate: int, db: float, rng: np.random.Generator) -> np.ndarray:
    """Add breath: noise band-limited to 500-6000 Hz that follows the speech's loudness, `db` below
    it (a lip that does not seal leaks air through every sound)."""
    from scipy.signal import butter, sosfilt

    noise = sosfilt(butter(2, [500, 6000], btype="band", fs=rate, output="sos"), rng.standard_normal(len(x)))
    noise = noise / (np.std(noise) + 1e-12) * envelope(x, rate)
    return (x + noise * 10 ** (db / 20)).astype(np.float32)


def weaker_bursts(x: np.ndarray, rate: int, db: float) -> np.ndarray:
    """Lower sudden onsets (the release of a p or b) by up to `db`: where the short-time level jumps
    more than 12 dB within 15 ms, that stretch is turned down."""
    env = envelope(x, rate, 5.0) + 1e-6
    lag = int(0.015 * rate)
    rise = 20 * np.log10(env[lag:] / env[:-lag])
    jump = np.concatenate([np.zeros(lag), np.clip((rise - 12) / 12, 0, 1)])
    smooth = np.convolve(jump, np.ones(lag) / lag, mode="same")
    return (x * (1 - smooth * (1 - 10 ** (db / 20)))).astype(np.float32)


SOUND = {"mild": {"breath_db": -26.0, "burst_db": -6.0, "cutoff": 5500.0},
         "moderate": {"breath_db": -18.0, "burst_db": -10.0, "cutoff": 4000.0}}
"""Severity -> what the sound loses: breath noise level, burst cut and low-pass corner."""


def palsy_sound(x: np.ndarray, rate: int, severity: str, rng: np.random.Generator) -> np.ndarray:
    """Weak lips on the sound: weaker bursts, breath, and less treble (lips do not shape it)."""
    from make_corpus import lowpass

    s = SOUND[severity]
    x = weaker_bursts(x, rate, s["burst_db"])
    x = breathy(x, rate, s["breath_db"], rng)
    return lowpass(x, rate, s["cutoff"])
