"""The speakers of the training corpus and how each engine says a phrase in them, plainly or with weak
lips (palsy.weaken on the phonemes): espeak-ng voices and variants, Piper joe with varied noise and
length scales, Kokoro's 28 English voices (npm kokoro-js 1.2.1) and blends of two.

Held-out voices (split "heldout") are never used for training: the unseen-speaker figures come from
them. A blend is a training voice only when both its voices are.
"""

from __future__ import annotations

import io
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import palsy

ESPEAK_ACCENTS = ["en-us", "en", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029",
                  "en-us-nyc"]
ESPEAK_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m7", "f1", "f2", "f3", "f5", "Andy", "Alicia", "Denis", "Ed",
                   "Gene", "John", "Lee", "Linda", "Michael", "Mike", "Paul", "Rob", "Robert", "Steph", "grandma",
                   "grandpa", "klatt", "klatt3"]
ESPEAK_HELDOUT = ["en-gb-scotland+Annie", "en-us+m6"]
"""Held-out espeak-ng voices: variants (Annie, m6) that no training voice uses."""
KOKORO_VOICES = ["af_alloy", "af_aoede", "af_bella", "af_heart", "af_jessica", "af_kore", "af_nicole", "af_nova",
                 "af_river", "af_sarah", "af_sky", "am_adam", "am_echo", "am_eric", "am_fenrir", "am_liam",
                 "am_michael", "am_onyx", "am_puck", "am_santa", "bf_alice", "bf_emma", "bf_isabella", "bf_lily",
                 "bm_daniel", "bm_fable", "bm_george", "bm_lewis"]
KOKORO_HELDOUT = ["af_sarah", "am_liam", "bf_isabella", "bm_daniel"]
KOKORO_TRAIN = [n for n in KOKORO_VOICES if n not in KOKORO_HELDOUT]
KOKORO_BLENDS = 14
"""How many two-voice blends of training voices join the training speakers."""
OUTPUT_RATE = 16000


@dataclass(frozen=True)
class Voice:
    engine: str
    """espeak, piper or kokoro"""
    name: str
    """The speaker id written to the manifest: 'en-us+m3', 'joe', 'af_heart', 'af_bella+am_adam@0.35'."""
    split: str
    """train or heldout"""


def espeak_voices() -> list[Voice]:
    """One training voice per variant, each with an accent in turn, plus the held-out ones."""
    train = [Voice("espeak", f"{ESPEAK_ACCENTS[i % len(ESPEAK_ACCENTS)]}+{v}", "train")
             for i, v in enumerate(ESPEAK_VARIANTS)]
    return train + [Voice("espeak", name, "heldout") for name in ESPEAK_HELDOUT]


def kokoro_voices(seed: int) -> list[Voice]:
    """The 28 English voices and KOKORO_BLENDS blends of two training voices of the same accent."""
    voices = [Voice("kokoro", n, "heldout" if n in KOKORO_HELDOUT else "train") for n in KOKORO_VOICES]
    rng = random.Random(seed)
    blends: list[Voice] = []
    while len(blends) < KOKORO_BLENDS:
        a, b = sorted(rng.sample(KOKORO_TRAIN, 2))
        name = f"{a}+{b}@{rng.choice([0.3, 0.4, 0.5, 0.6, 0.7])}"
        if a[0] == b[0] and all(not v.name.startswith(f"{a}+{b}@") for v in blends):
            blends.append(Voice("kokoro", name, "train"))
    return voices + blends


def fresh_voice(engine: str, rng: random.Random) -> Voice:
    """A training speaker drawn for one clip: a Kokoro blend of two training voices of one accent at
    any weight, or an espeak-ng variant in any accent: as many voices as clips, where a corpus's own
    few dozen speakers each say hundreds."""
    if engine == "espeak":
        return Voice("espeak", f"{rng.choice(ESPEAK_ACCENTS)}+{rng.choice(ESPEAK_VARIANTS)}", "train")
    a = rng.choice(KOKORO_TRAIN)
    b = rng.choice([n for n in KOKORO_TRAIN if n[0] == a[0] and n != a])
    return Voice("kokoro", f"{min(a, b)}+{max(a, b)}@{round(rng.uniform(0.2, 0.8), 2)}", "train")


def all_voices(engines: tuple[str, ...], seed: int) -> list[Voice]:
    out: list[Voice] = []
    if "espeak" in engines:
        out += espeak_voices()
    if "piper" in engines:
        out.append(Voice("piper", "joe", "train"))
    if "kokoro" in engines:
        out += kokoro_voices(seed)
    return out


def british(voice: Voice) -> bool:
    """A Kokoro voice (or blend) of a UK speaker: its name starts with bf_ or bm_."""
    return voice.name.startswith("b")


def _to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    from voice_guide.audio import Audio

    return Audio(np.asarray(samples, dtype=np.float32).reshape(-1), rate).resample(OUTPUT_RATE).samples


# ---- the engines ------------------------------------------------------------------------------

def espeak_say(text: str, voice: str, speed: float, severity: str | None, rng: random.Random) -> np.ndarray:
    """espeak-ng at 16 kHz; with a severity, its own phonemes for `text`, weakened, said back."""
    import soundfile as sf

    said = text
    if severity:
        names = subprocess.run(["espeak-ng", "-q", "-x", "-v", voice, text], check=True, capture_output=True,
                               text=True).stdout
        said = f"[[{palsy.weaken(' '.join(names.split()), severity, 'espeak', rng)}]]"
    wpm = int(rng.uniform(150, 185) * speed)
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(rng.randint(30, 70)), "--stdout", said],
                         check=True, capture_output=True).stdout
    data, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return _to_16k(data, rate)


class Engines:
    """The engines of one worker process, each loaded the first time it is needed."""

    def __init__(self, kokoro_voice_dir: Path | None = None) -> None:
        self.kokoro_voice_dir = kokoro_voice_dir
        self._piper = None
        self._kokoro = None
        self._tables: dict[str, np.ndarray] = {}

    def say(self, text: str, voice: Voice, speed: float, severity: str | None, rng: random.Random) -> np.ndarray:
        if voice.engine == "espeak":
            return espeak_say(text, voice.name, speed, severity, rng)
        if voice.engine == "piper":
            return self.piper_say(text, speed, severity, rng)
        return self.kokoro_say(text, voice, speed, severity, rng)

    def piper_say(self, text: str, speed: float, severity: str | None, rng: random.Random,
                  scales: tuple[float, float, float] | None = None) -> np.ndarray:
        """Piper joe with its noise, length and duration-noise scales drawn anew each time (`scales`
        fixes them: noise, length, noise_w), so one speaker gives many takes; each take the same on
        every run (`piper_take`)."""
        from piper import SynthesisConfig

        if self._piper is None:
            from voice_guide.adapters.piper_tts import PiperSynthesizer

            self._piper = PiperSynthesizer(threads=1)
        voice = self.piper_take(rng.getrandbits(31))
        noise, length, noise_w = scales or (rng.uniform(0.3, 1.0), rng.uniform(0.85, 1.2), rng.uniform(0.4, 1.2))
        config = SynthesisConfig(noise_scale=noise, length_scale=length / speed, noise_w_scale=noise_w,
                                 normalize_audio=False)
        parts = []
        for sentence in voice.phonemize(text):
            phonemes = "".join(sentence)
            if severity:
                phonemes = palsy.weaken(phonemes, severity, "ipa", rng)
            parts.append(np.asarray(voice.phoneme_ids_to_audio(voice.phonemes_to_ids(list(phonemes)), config)).reshape(-1))
        return _to_16k(np.concatenate(parts), self._piper.rate)

    def piper_take(self, seed: int):
        """Piper joe on a session of its own, started from `seed`. Piper draws its noise inside the
        model, from a generator onnxruntime seeds once as a session starts (onnxruntime.set_seed), so
        on one shared session a take depended on which worker rendered it and after which others:
        no two renders of a corpus were the same. A session per take costs 0.3 s of CPU."""
        import onnxruntime
        from piper import PiperVoice

        from voice_guide.adapters.onnx_runtime import session_options

        onnxruntime.set_seed(seed)
        session = onnxruntime.InferenceSession(str(self._piper.model), sess_options=session_options(1),
                                               providers=["CPUExecutionProvider"])
        return PiperVoice(session=session, config=self._piper.voice.config)

    def kokoro_table(self, name: str) -> np.ndarray:
        """A voice's style table, or a blend 'a+b@w' (w of a, the rest of b; made anew each time, as a
        corpus of fresh speakers has thousands)."""
        from voice_guide.adapters.kokoro_tts import load_voice

        if "+" in name:
            pair, weight = name.split("@")
            a, b = pair.split("+")
            w = float(weight)
            return (w * self.kokoro_table(a) + (1 - w) * self.kokoro_table(b)).astype(np.float32)
        if name not in self._tables:
            if self.kokoro_voice_dir is None:
                raise RuntimeError("Kokoro voices need --kokoro-voices DIR (scripts/fetch_kokoro_voices.sh --all DIR)")
            self._tables[name] = load_voice(self.kokoro_voice_dir / f"{name}.bin")
        return self._tables[name]

    def kokoro_say(self, text: str, voice: Voice, speed: float, severity: str | None, rng: random.Random) -> np.ndarray:
        from voice_guide.adapters import kokoro_phonemes
        from voice_guide.adapters.kokoro_tts import SAMPLE_RATE, load_model, render_phonemes

        if self._kokoro is None:
            self._kokoro = load_model(threads=1)
        table = self.kokoro_table(voice.name)
        parts = []
        for sentence in kokoro_phonemes.phonemize(text, british(voice)):
            if severity:
                sentence = palsy.weaken(sentence, severity, "kokoro", rng)
            parts.append(render_phonemes(sentence, table, speed * rng.uniform(0.9, 1.1), self._kokoro))
        return _to_16k(np.concatenate(parts), SAMPLE_RATE)
