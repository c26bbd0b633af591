"""What an exported track is made of besides its sound: the formats export writes, the tags and
chapter marks a player shows, and the encoder that writes them (`adapters.pydub_export` in real use).
Value types only, so the encoder's adapter may import them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence

if TYPE_CHECKING:  # types only: `list` and the export's planning load without numpy
    from voice_guide.audio import Audio

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
