"""Speech out: caching what the synthesiser renders (`engine_table.ENGINES` chooses the synthesiser; sentence
splitting is in `text`).

Rendering is cached in memory and on disk (keyed by the engine that really speaks, its voice settings
and the text, and kept at that engine's rate), so repeating a step, or replaying a session, speaks at
once instead of waiting for the engine.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import wave
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np

from voice_guide import paths
from voice_guide.audio import Audio, wav_bytes
from voice_guide.schema import MAX_RATE, MIN_RATE
from voice_guide.engines import Synthesizer, VoiceSettings
from voice_guide.fileio import LIMITS, atomic_write_bytes, open_regular
from voice_guide.settings import Settings

CACHE_FORMAT = 1
"""Bump when what a synthesiser renders for the same inputs changes (e.g. new chunking), so old cached
audio is not reused."""

def voice_settings(settings: Settings) -> VoiceSettings:
    """How the user's settings want the guide to speak."""
    return VoiceSettings(rate=int(settings.rate), volume=float(settings.volume), voice=settings.voice)


def read_wav(path: Path, rate: int) -> Audio:
    """A 16-bit mono WAV at `rate` written by `wav_bytes`; ValueError when it is truncated, not one, or
    its header claims another rate or more sound than the file holds (read before anything is
    allocated, so a header claiming 2 GB costs nothing)."""
    try:
        with open_regular(path, LIMITS["speech"]) as fh, wave.open(fh, "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2:
                raise ValueError("not 16-bit mono")
            if not MIN_RATE <= w.getframerate() <= MAX_RATE or w.getframerate() != rate:
                raise ValueError(f"its rate is {w.getframerate()} Hz, not the voice's {rate}")
            expected = w.getnframes()
            if 2 * expected > os.fstat(fh.fileno()).st_size:
                raise ValueError("truncated")
            frames = w.readframes(expected)
    except (wave.Error, EOFError) as exc:
        raise ValueError(str(exc)) from exc
    if len(frames) != 2 * expected:
        raise ValueError("truncated")
    return Audio.from_pcm16(frames, rate)


Route = Callable[[VoiceSettings], "tuple[Synthesizer, VoiceSettings]"]
"""Voice settings -> the synthesiser that speaks with them and the settings it is handed
(`voices.VoiceSwitch.route`)."""


class CachedSynthesizer:
    """Wraps a synthesiser with a memory LRU and an on-disk WAV cache (written atomically).

    `route` says which synthesiser really speaks for given settings (`inner` itself by default): its
    name keys the sound, so a stand-in's sound is never kept as the wanted voice's, and its rate is the
    one the sound is read back at. A cache file that cannot be read, or is not at that rate, is deleted
    and the text is rendered again.
    """

    def __init__(self, inner: Synthesizer, cache_dir: Path | str | None = None, memory_items: int = 256,
                 route: Route | None = None) -> None:
        self.inner = inner
        self._route: Route = route or (lambda settings: (inner, settings))
        self.name, self.rate = inner.name, inner.rate
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
        """Where the sound of `text` said with `settings` is kept (by the synthesiser that says it)."""
        return _key(text, *self._route(settings))

    def path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.wav"

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        speaker, given = self._route(settings)
        key = _key(text, speaker, given)
        with self._lock:
            audio = self._memory.get(key)
            if audio is not None:
                self._memory.move_to_end(key)
                self.hits += 1
                return _copy(audio)
        audio = self._from_disk(key, speaker.rate)
        if audio is None:
            self.misses += 1
            audio = speaker.synthesize(text, given)
            self._to_disk(key, audio)
        else:
            self.hits += 1
        with self._lock:
            self._memory[key] = _copy(audio)
            while len(self._memory) > self.memory_items:
                self._memory.popitem(last=False)
        return audio

    def _from_disk(self, key: str, rate: int) -> Audio | None:
        path = self.path(key)
        try:
            return read_wav(path, rate)
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


def _key(text: str, speaker: Synthesizer, settings: VoiceSettings) -> str:
    blob = json.dumps([CACHE_FORMAT, speaker.name, settings.rate, settings.volume, settings.voice, text],
                      ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _copy(audio: Audio) -> Audio:
    """Callers may change samples in place; the cached copy must not change with them."""
    return Audio(np.array(audio.samples, dtype=np.float32, copy=True), audio.rate)
