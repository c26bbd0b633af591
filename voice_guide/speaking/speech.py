"""Speech out: choosing the synthesiser and caching what it renders (sentence splitting is in `text`).

Rendering is cached in memory and on disk (keyed by engine, voice settings and text), so repeating a
step, or replaying a session, speaks at once instead of waiting for the engine.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import wave
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from voice_guide import paths
from voice_guide.audio import Audio, wav_bytes
from voice_guide.engines import Synthesizer, VoiceSettings
from voice_guide.errors import UsageError
from voice_guide.fileio import atomic_write_bytes
from voice_guide.settings import Settings

CACHE_FORMAT = 1
"""Bump when what a synthesiser renders for the same inputs changes (e.g. new chunking), so old cached
audio is not reused."""

def voice_settings(settings: Settings) -> VoiceSettings:
    """How the user's settings want the guide to speak."""
    return VoiceSettings(rate=int(settings.rate), volume=float(settings.volume), voice=settings.voice)


def read_wav(path: Path) -> Audio:
    """A 16-bit mono WAV written by `wav_bytes`; ValueError when it is truncated or not one."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2:
                raise ValueError("not 16-bit mono")
            frames, rate, expected = w.readframes(w.getnframes()), w.getframerate(), w.getnframes()
    except (wave.Error, EOFError) as exc:
        raise ValueError(str(exc)) from exc
    if len(frames) != 2 * expected:
        raise ValueError("truncated")
    return Audio.from_pcm16(frames, rate)


class CachedSynthesizer:
    """Wraps a synthesiser with a memory LRU and an on-disk WAV cache (written atomically).

    A cache file that cannot be read is deleted and the text is rendered again.
    """

    def __init__(self, inner: Synthesizer, cache_dir: Path | str | None = None, memory_items: int = 256) -> None:
        self.inner = inner
        self.name = inner.name
        self.cache_dir = Path(cache_dir) if cache_dir is not None else paths.cache_dir() / "speech"
        self.memory_items = memory_items
        self._memory: OrderedDict[str, Audio] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.reason = ""
        """Why this voice is in use (for `doctor`)."""
        self.notice = ""
        """One sentence to tell the user once, when the voice is a fallback."""

    def key(self, text: str, settings: VoiceSettings) -> str:
        blob = json.dumps(
            [CACHE_FORMAT, self.inner.name, settings.rate, settings.volume, settings.voice, text],
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.wav"

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        key = self.key(text, settings)
        with self._lock:
            audio = self._memory.get(key)
            if audio is not None:
                self._memory.move_to_end(key)
                self.hits += 1
                return _copy(audio)
        audio = self._from_disk(key)
        if audio is None:
            self.misses += 1
            audio = self.inner.synthesize(text, settings)
            self._to_disk(key, audio)
        else:
            self.hits += 1
        with self._lock:
            self._memory[key] = _copy(audio)
            while len(self._memory) > self.memory_items:
                self._memory.popitem(last=False)
        return audio

    def _from_disk(self, key: str) -> Audio | None:
        path = self.path(key)
        try:
            return read_wav(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def _to_disk(self, key: str, audio: Audio) -> None:
        """Best effort: a full disk or read-only cache only costs speed."""
        path = self.path(key)
        with contextlib.suppress(OSError):
            paths.ensure(path.parent)
            atomic_write_bytes(path, wav_bytes(audio))

    def close(self) -> None:
        self.inner.close()


def _copy(audio: Audio) -> Audio:
    """Callers may change samples in place; the cached copy must not change with them."""
    return Audio(np.array(audio.samples, dtype=np.float32, copy=True), audio.rate)


@dataclass(frozen=True)
class VoiceChoice:
    """The synthesiser in use and why; `notice` is one sentence to tell the user when it is a fallback."""

    synthesizer: Synthesizer
    reason: str
    notice: str = ""


def choose_synthesizer(settings: Settings) -> VoiceChoice:
    """The synthesiser the settings ask for: Piper by default, and the espeak-ng voice through pyttsx3
    when Piper cannot load; 'kokoro' chooses a Kokoro voice (the next one in the table when it cannot
    be used, then Piper); 'pyttsx3' or 'espeak-ng' choose that voice."""
    if settings.synthesizer == "kokoro":
        return _kokoro(settings.voice)
    if settings.synthesizer == "piper":
        return _piper("the default voice (synthesizer setting 'piper')")
    if settings.synthesizer == "pyttsx3":
        from voice_guide.adapters.pyttsx3_tts import Pyttsx3Synthesizer

        return VoiceChoice(Pyttsx3Synthesizer(), "chosen by the synthesizer setting 'pyttsx3'")
    if settings.synthesizer == "espeak-ng":
        from voice_guide.adapters.espeak_tts import EspeakSynthesizer

        return VoiceChoice(EspeakSynthesizer(), "chosen by the synthesizer setting 'espeak-ng'")
    raise UsageError(f"Unknown synthesizer {settings.synthesizer!r}; use piper, kokoro, pyttsx3 or espeak-ng.")


def _piper(reason: str, instead_of: str = "") -> VoiceChoice:
    """Piper's joe; the espeak-ng voice through pyttsx3 when it cannot load. `instead_of`: the notice
    that the voice asked for could not be used, when Piper stands in for it."""
    from voice_guide.adapters.piper_tts import PiperSynthesizer, PiperUnavailable

    try:
        piper = PiperSynthesizer()
    except PiperUnavailable as exc:
        from voice_guide.adapters.pyttsx3_tts import Pyttsx3Synthesizer

        return VoiceChoice(Pyttsx3Synthesizer(), f"the Piper voice cannot be loaded: {exc.why}",
                           (instead_of or f"The Piper voice could not be loaded ({exc.why})")
                           + ", so the espeak-ng voice speaks instead; scripts/setup.sh brings it back.")
    if instead_of:
        return VoiceChoice(piper, reason, f"{instead_of}, so Piper's voice Joe speaks instead; "
                                          "scripts/setup.sh brings it back.")
    return VoiceChoice(piper, reason)


def _kokoro(wanted: str | None) -> VoiceChoice:
    """The Kokoro voice `wanted` (None: the first); one that cannot be used gives way to the next in
    the table, and a model that cannot be loaded to Piper."""
    from voice_guide.adapters.kokoro_tts import VOICES, KokoroSynthesizer, KokoroUnavailable, KokoroVoiceError

    names = [v.name for v in VOICES]
    first = names.index(wanted) if wanted in names else 0
    failed = "" if wanted in names or wanted is None else f"there is no Kokoro voice called {wanted!r}"
    asked = wanted or names[0]
    for name in names[first:] + names[:first]:
        try:
            synth = KokoroSynthesizer(name, cache_dir=paths.cache_dir() / "models")
        except KokoroVoiceError as exc:
            failed = failed or exc.why
            continue
        except KokoroUnavailable as exc:
            why = f"the Kokoro voice cannot be loaded: {exc.why}"
            return _piper(why, f"The Kokoro voice {asked} could not be loaded ({exc.why})")
        if not failed:
            return VoiceChoice(synth, f"chosen by the voice setting '{name}' (synthesizer 'kokoro')")
        return VoiceChoice(synth, f"the voice {asked} cannot be used: {failed}",
                           f"The voice {asked} could not be used ({failed}), so the voice {name} speaks "
                           "instead; scripts/setup.sh brings it back.")
    return _piper(f"no Kokoro voice can be used: {failed}", f"No Kokoro voice could be used ({failed})")


class VoiceSwitch:
    """The chosen synthesiser, and the voices a person tries by ear from inside the guide: a text whose
    `VoiceSettings.voice` names a voice of the table ('bella', 'joe') is said in that voice (its
    synthesiser opened when first asked for, with the table's fallbacks); any other text goes to the
    chosen one unchanged."""

    def __init__(self, chosen: Synthesizer) -> None:
        self.chosen = chosen
        self.name = chosen.name
        self._others: dict[str, Synthesizer] = {}
        self._lock = threading.Lock()

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        from voice_guide.speaking import voices

        voice = voices.find(settings.voice) if settings.voice else None
        if voice is None or settings.voice == voice.engine_voice:
            return self.chosen.synthesize(text, settings)
        with self._lock:
            if voice.name not in self._others:
                self._others[voice.name] = choose_synthesizer(voices.choose(Settings(), voice)).synthesizer
            synth = self._others[voice.name]
        return synth.synthesize(text, replace(settings, voice=voice.engine_voice))

    def close(self) -> None:
        for synth in [self.chosen, *self._others.values()]:
            synth.close()


def open_synthesizer(settings: Settings, cache_dir: Path | str | None = None) -> CachedSynthesizer:
    """The chosen synthesiser (see `choose_synthesizer`), with the table's other voices (`VoiceSwitch`),
    cached; its `reason` and `notice` say why."""
    choice = choose_synthesizer(settings)
    synth = CachedSynthesizer(VoiceSwitch(choice.synthesizer), cache_dir=cache_dir)
    synth.reason, synth.notice = choice.reason, choice.notice
    return synth
