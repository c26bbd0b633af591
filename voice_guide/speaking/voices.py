"""The voices a person chooses among by ear, in the order the guide offers them and falls back through:
Kokoro's shipped English voices, then Piper's joe, then the espeak-ng voice.

A voice is saved as two settings: the synthesiser that speaks it, and (for Kokoro) which of its
voices. The voice the settings name is tried first; one that cannot be used gives way to the next in
the table, with one sentence saying which and why.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Callable

from voice_guide.adapters.kokoro_tts import VOICES as KOKORO_VOICES
from voice_guide.audio import Audio
from voice_guide.engines import Synthesizer, VoiceSettings
from voice_guide.errors import UsageError
from voice_guide.settings import Settings

SAMPLE = "Hello, I am {label}. Breathe out slowly, and let your face rest."
"""What a voice says when it is tried."""


@dataclass(frozen=True)
class Voice:
    """One row of the table."""

    name: str
    """What a person says or types: 'heart', 'joe'."""
    label: str
    """How the guide introduces it."""
    synthesizer: str
    """The synthesizer setting that speaks it."""
    engine_voice: str | None = None
    """The voice setting: Kokoro's voice file name; None for the engine's own."""


TABLE = tuple(Voice(v.name.split("_", 1)[1], v.label, "kokoro", v.name) for v in KOKORO_VOICES) + (
    Voice("joe", "Joe, a US man, Piper's voice", "piper"),
    Voice("espeak", "the espeak-ng voice", "espeak-ng"),
)


def find(name: str) -> Voice | None:
    """The voice called `name` (its name or its Kokoro file name, any case), or None."""
    wanted = name.strip().lower()
    return next((v for v in TABLE if wanted in (v.name, v.engine_voice)), None)


def named(name: str) -> Voice:
    """`find`, or a UsageError listing the voices."""
    voice = find(name)
    if voice is None:
        raise UsageError(f"There is no voice called {name!r}. Voices: {', '.join(v.name for v in TABLE)} "
                         "(voice-guide voices lists them).")
    return voice


def current(settings: Settings) -> Voice | None:
    """The table's voice the settings choose; None for an espeak-ng voice chosen by its own name."""
    if settings.speaks_with == "kokoro":
        return find(settings.voice or TABLE[0].engine_voice or "") or TABLE[0]
    if settings.speaks_with == "piper":
        return find("joe")
    return find("espeak") if not settings.voice else None


def spoken_by(engine: str) -> Voice | None:
    """The table's voice a synthesiser of this name speaks with ('kokoro:af_heart', 'piper:...',
    'espeak-ng'), or None (pyttsx3, a fake)."""
    synthesizer, _, engine_voice = engine.partition(":")
    if synthesizer == "kokoro":
        return find(engine_voice)
    return next((v for v in TABLE if v.synthesizer == synthesizer and v.engine_voice is None), None)


def choose(settings: Settings, voice: Voice) -> Settings:
    """`settings` with `voice` chosen."""
    return settings.with_changes(synthesizer=voice.synthesizer, voice=voice.engine_voice)


def after(voice: Voice | None) -> Voice:
    """The next voice in the table (round again after the last)."""
    if voice is None or voice not in TABLE:
        return TABLE[0]
    return TABLE[(TABLE.index(voice) + 1) % len(TABLE)]


class VoiceSwitch:
    """The chosen synthesiser, and the voices a person tries by ear from inside the guide: a text whose
    `VoiceSettings.voice` names a voice of the table ('bella', 'joe') is said in that voice (opened by
    `open_voice` when first asked for); any other text goes to the chosen one unchanged. A voice tried
    that cannot be used has a stand-in, whose one sentence saying so goes to `tell`, once."""

    def __init__(self, chosen: Synthesizer, open_voice: Callable[[Voice], Synthesizer],
                 tell: Callable[[str], None]) -> None:
        self.chosen = chosen
        self.name, self.rate, self.notice = chosen.name, chosen.rate, chosen.notice
        self._open_voice = open_voice
        self._tell = tell
        self._others: dict[str, Synthesizer] = {}
        self._lock = threading.Lock()

    def route(self, settings: VoiceSettings) -> tuple[Synthesizer, VoiceSettings]:
        """The synthesiser that speaks with `settings`, and the settings it is handed."""
        voice = find(settings.voice) if settings.voice else None
        if voice is None or settings.voice == voice.engine_voice:
            return self.chosen, settings
        with self._lock:
            synth = self._others.get(voice.name)
            if synth is None:
                synth = self._others[voice.name] = self._open_voice(voice)
                if synth.notice:
                    self._tell(synth.notice)
        return synth, replace(settings, voice=voice.engine_voice)

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        synth, given = self.route(settings)
        return synth.synthesize(text, given)

    def close(self) -> None:
        for synth in [self.chosen, *self._others.values()]:
            synth.close()
