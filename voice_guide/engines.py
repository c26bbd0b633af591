"""The small protocols behind which every engine sits.

The pure core (content, matching, session, timeline) never imports an engine; the player and the CLI
are handed objects that satisfy these protocols: real adapters from `voice_guide.adapters`, or the fakes
in `voice_guide.testing`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol, runtime_checkable

if TYPE_CHECKING:  # types only: the settings and the CLI load without numpy
    import numpy as np

    from voice_guide.audio import Audio


RATE_MIN, RATE_MAX = 80, 300
"""Speaking rates (words per minute) a user may choose, by settings or by saying slower and faster."""
VOLUME_MIN, VOLUME_MAX = 0.1, 1.0
"""Speech volumes a user may choose, by settings or by saying quieter and louder."""
DEFAULT_LUFS = -16.0
"""Exported tracks' integrated loudness: where spoken-word apps aim a phone's playback."""
LUFS_MIN, LUFS_MAX = -30.0, -10.0
"""The export loudness targets a user may choose (`voice_guide.loudness`)."""
SENTENCE_PAUSE = 0.3
"""Seconds of quiet after a sentence at PAUSE_WPM, stretched in proportion at slower rates. The natural
voices (Piper, Kokoro) leave little between sentences themselves, so they add it between the sentences
of a text, and the player between the sentences it renders and plays one by one: a step sounds the same
either way."""
PAUSE_WPM = 175


def sentence_pause(rate: int) -> float:
    """Seconds of quiet between two sentences spoken at `rate` words per minute."""
    return SENTENCE_PAUSE * PAUSE_WPM / max(1, int(rate))


TRAILING_SILENCE = 0.5
"""Seconds of quiet that end an utterance by default: every phrase the guide understands, said by
espeak-ng voices at a normal and a slow rate, and the real one-word clips of speech-dev, are cut in two
by none at 0.35 s (scripts/measure_trailing_silence.py); each tenth of a second more delays every reply.
Slow speakers raise it in the settings."""
LONGEST_UTTERANCE = 6.0
"""Seconds of speech after which an utterance is taken for talk, not a command, and dropped unheard. The
guide's longest phrases ("read causes and what they mean for recovery"), said very slowly with weak
lips, last 5-6 s: as the live guide cuts them (`scripts/eval_commands.py --as-heard`), 4 s dropped 20
of 1,512 held-out weak-lip commands and 6 s drops 2; commands acted on right rose from 84.7% to 85.8%,
with wrong actions (15) and room talk acted on (13 of 171, 2 of 444) unchanged, though 47 of the 444
room-talk clips that 4 s dropped are now heard."""


@dataclass(frozen=True)
class VoiceSettings:
    """How the guide speaks."""

    rate: int = 150
    """Words per minute; slow by default, made for the ear."""
    volume: float = 1.0
    """0.0 to 1.0."""
    voice: str | None = None
    """Engine voice id or name; None for the engine's default English voice."""


@runtime_checkable
class Synthesizer(Protocol):
    """Turns text into audio (it never plays it)."""

    name: str
    rate: int
    """The sample rate of the sound it makes: a cached sound of another rate is not its own."""
    notice: str
    """One sentence to tell the user once when this voice stands in for the one wanted; else ""."""

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio: ...

    def close(self) -> None: ...


@runtime_checkable
class Playback(Protocol):
    """A sound that is playing; `stop` cuts it at once, mid-sentence."""

    timeline: object
    """What its `position` is counted on (the device's output stream): sounds on one timeline reach
    the microphone with one delay, so the echo learnt on one holds for the next from its start."""

    def stop(self) -> None: ...

    def set_gain(self, gain: float) -> None:
        """Lower (or restore, with 1.0) the volume of what is playing, from now on: the guide ducks
        its voice while someone speaks over it."""
        ...

    def done(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished or `timeout`; True when finished."""
        ...

    def position(self, at: float) -> tuple[float, float] | None:
        """Which moment of the sound (seconds from its start) the speaker sounds at clock time `at`,
        and with what gain, as the device reports them; None when it cannot tell (then it counts from
        when `play` was called). The guide's echo is made of this, so it must follow a slow start, a
        gap and a duck."""
        ...


@runtime_checkable
class AudioOut(Protocol):
    """A speaker."""

    def play(self, audio: Audio) -> Playback: ...

    def prepare(self) -> None:
        """Open the device ahead of the first sound (the wiring calls it in the background); may do
        nothing."""
        ...


@dataclass(frozen=True)
class EchoPath:
    """The guide's echo as one speaker and microphone pass it (`hearing.echo.EchoEstimate`): a short
    filter, as delays in samples at `rate` relative to its main delay (a run of whole numbers) and
    their weights."""

    rate: int
    offsets: tuple[int, ...]
    taps: tuple[float, ...]


class EchoMemory(Protocol):
    """The echo path learnt for each speaker and microphone pair (`key`), kept across sessions, so a
    session's first sound is not judged on the raw microphone until it is learnt again."""

    def load(self, key: str) -> EchoPath | None:
        """The path last kept for `key`; None when there is none (or it cannot be read): never raises."""
        ...

    def save(self, key: str, path: EchoPath) -> None:
        """Keep `path` for `key`; a failure to write is left unsaid (the path is learnt again)."""
        ...


@runtime_checkable
class AudioIn(Protocol):
    """A microphone: `blocks()` yields float32 mono blocks at `rate` until closed."""

    rate: int

    def blocks(self) -> AbstractContextManager[Iterator[np.ndarray]]: ...


@dataclass(frozen=True)
class Hypothesis:
    """One recogniser guess for an utterance."""

    text: str
    """Lower-case words; empty when the recogniser heard nothing it knows."""
    confidence: float = 1.0
    """0.0 to 1.0, the engine's own confidence, calibrated where the adapter can."""


@runtime_checkable
class Recognizer(Protocol):
    """Decodes one utterance (16 kHz mono) into an n-best list, best first."""

    name: str
    notice: str
    """One sentence to tell the user once when this recogniser stands in for the one wanted; else ""."""

    def decode(self, audio: Audio) -> list[Hypothesis]: ...


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class KeySource(Protocol):
    """A keyboard: keys pressed since the last poll."""

    def poll(self) -> list[str]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Found:
    """Whether what an engine needs is on this machine (`engine_table.ENGINES` asks each row's `find`)."""

    ok: bool
    why: str
    """When found: why it would be used, as a phrase ("the built-in recogniser"); else what is
    missing, as a sentence ("" when nobody asked for it, so nothing is said)."""
    model: Path | None = None
    """The model to open, for engines that take one."""
