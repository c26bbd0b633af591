"""The small protocols behind which every engine sits.

The pure core (content, matching, session, timeline) never imports an engine; the player and the CLI
are handed objects that satisfy these protocols: real adapters from `voice_guide.adapters`, or the fakes
in `voice_guide.testing`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

from voice_guide.audio import Audio

if TYPE_CHECKING:
    from voice_guide.content.model import Item
    from voice_guide.understanding.matching import Match
    from voice_guide.understanding.understand import Heard


RATE_MIN, RATE_MAX = 80, 300
"""Speaking rates (words per minute) a user may choose, by settings or by saying slower and faster."""
VOLUME_MIN, VOLUME_MAX = 0.1, 1.0
"""Speech volumes a user may choose, by settings or by saying quieter and louder."""


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

    def decode(self, audio: Audio) -> list[Hypothesis]: ...


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class KeySource(Protocol):
    """A keyboard: keys pressed since the last poll."""

    def poll(self) -> list[str]: ...

    def close(self) -> None: ...


class Refiner(Protocol):
    """The user's own voice templates or switch sound: may replace the matcher's decision."""

    def refine(self, audio: Audio, nbest: Sequence[Hypothesis], match: Match) -> tuple[Match, str]:
        """The final match and how it was reached: "recogniser" (unchanged), "template" or "switch"."""
        ...


class Ears(Protocol):
    """Turns one utterance into what it was taken to mean (`voice_guide.understanding.understand.Understander`)."""

    personal: Refiner | None
    """The user's enrolled voice, replaced when the guide has just learnt it."""

    def understand(self, audio: Audio) -> Heard: ...


class Library(Protocol):
    items: tuple[Item, ...]

    def get(self, name: str) -> Item: ...


FORMATS = ("mp3", "ogg", "wav", "m4a")
"""The audio formats export writes."""
ALBUM = "voice-guide: facial palsy guide"
ARTIST = "voice-guide"


@dataclass(frozen=True)
class Tags:
    """What a track says about itself in a player."""

    title: str
    track: int | None = None
    total: int | None = None
    album: str = ALBUM
    artist: str = ARTIST
    genre: str = "Speech"
    comment: str = ""


@dataclass(frozen=True)
class Chapter:
    """A named stretch of a sound, for chapter marks and 'where am I'."""

    title: str
    start: float
    end: float


class Encoder(Protocol):
    """Writes one sound to one file; `voice_guide.adapters.pydub_export.PydubEncoder` in real use."""

    name: str

    def check(self, fmt: str) -> None:
        """Raise ExportError now, before anything is rendered, when `fmt` cannot be written here."""
        ...

    def encode(self, audio: Audio, path: Path, fmt: str, tags: Tags, chapters: Sequence[Chapter] = ()) -> None:
        """Write `audio` to `path` (a temporary file) as `fmt`, one `check` accepted; a full disk or a
        refused write raises WriteError, anything else ExportError."""
