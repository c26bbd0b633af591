"""The shapes of the guide's content: topics (read aloud) and sessions (timed, step by step).

Plain frozen dataclasses; `voice_guide.content.loader` builds them from the TOML files beside this
module and validates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["topic", "session"]


@dataclass(frozen=True)
class Step:
    """One thing the guide says, then how long it stays quiet."""

    say: str
    """Words to speak; short sentences made for the ear. May be empty for a pure hold."""
    hold: float = 0.0
    """Seconds of silence after the words; for sessions this is real time the user spends."""
    fill: bool = False
    """This hold grows or shrinks so that the whole session lasts exactly its planned length."""
    cue: bool = False
    """A soft chime marks the start and the end of the hold."""
    halfway: bool = False
    """A quiet spoken 'halfway' in the middle of the hold."""
    label: str = ""
    """A short internal name for the step: chapter marks, and what 'suggestion 3' finds."""
    title: str = ""
    """What 'where' says the step is, as spoken to the user (e.g. 'Your forehead'); optional."""


@dataclass(frozen=True)
class Item:
    """A topic or a session: what the menu lists, `show` prints, `read` speaks and `export` writes."""

    name: str
    """Slug used on the command line and for file names, e.g. 'quiet-face'."""
    title: str
    """Spoken first, and the track title."""
    kind: Kind
    """'topic' is read aloud; 'session' is a timed, guided practice."""
    steps: tuple[Step, ...]
    """In order."""
    order: int = 0
    """Position in the menu, the library and the export's track numbers."""
    summary: str = ""
    """One spoken sentence for the menu."""
    aliases: tuple[str, ...] = field(default_factory=tuple)
    """Other ways a user may name it by voice ('start massage', 'massage')."""
    safety: bool = False
    """A safety notice: marked as such when spoken, shown and exported."""
    length: float | None = None
    """Planned length in seconds (sessions); the `fill` hold makes real time match it."""

    @property
    def text(self) -> str:
        """Every word that will be spoken, in order, title first."""
        return "\n".join([self.title, *(s.say for s in self.steps if s.say)])
