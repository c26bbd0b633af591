"""What the session machine knows: its mode, the running hold, the question waiting for an answer.

Plain data, inspectable by tests; the parts of `voice_guide.session.machine.Session` change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from voice_guide.content.model import Item
from voice_guide.understanding.command import Command

Mode = Literal["menu", "speaking", "holding", "paused", "confirming", "enrolling", "finished"]
Back = Literal["menu", "paused", "run"]


@dataclass
class Hold:
    """A timed silence: `elapsed` seconds counted so far, running since `since` (None when frozen)."""

    length: float
    events: list[tuple[float, str]]
    """(offset, 'chime-start' | 'chime-end' | 'halfway') in time order, still to fire."""
    elapsed: float = 0.0
    since: float | None = None

    def at(self, now: float) -> float:
        return self.elapsed + (now - self.since if self.since is not None else 0.0)

    def freeze(self, now: float) -> None:
        self.elapsed, self.since = self.at(now), None

    def run(self, now: float) -> None:
        if self.since is None:
            self.since = now


@dataclass(kw_only=True)
class Question:
    """A pending yes/no (or which-one) question; each kind below carries what it decides."""

    text: str
    back: Back = "menu"
    """Where 'no' returns: the menu, the pause, or the running item exactly where it was frozen."""


@dataclass(kw_only=True)
class ResumeQuestion(Question):
    """Go on from the saved place? No forgets it and opens `item` (for `read NAME`), or the menu."""

    saved: Item
    step: int
    item: Item | None


@dataclass(kw_only=True)
class LeaveQuestion(Question):
    """Leave the open item for the menu?"""


@dataclass(kw_only=True)
class QuitQuestion(Question):
    """Close the guide?"""


@dataclass(kw_only=True)
class OpenQuestion(Question):
    """Leave the open item and open `item`?"""

    item: Item


@dataclass(kw_only=True)
class SuggestionQuestion(Question):
    """Leave the open item and go to `step` of `item`?"""

    item: Item
    step: int


@dataclass(kw_only=True)
class TeachQuestion(Question):
    """Learn how the user says `command` (None: every command)?"""

    command: str | None


@dataclass(kw_only=True)
class ChoiceQuestion(Question):
    """Which of these did you mean?"""

    options: tuple[Command, ...]


@dataclass(frozen=True)
class Speaking:
    """How a session starts speaking: words per minute, volume, and the voice's name in the table of
    voices a person tries by ear (None when the voice is not one of them)."""

    rate: int = 150
    volume: float = 1.0
    voice: str | None = None


@dataclass
class SessionState:
    """Everything the machine knows; inspectable by tests."""

    mode: Mode = "menu"
    item: Item | None = None
    step: int = -1
    """Index into item.steps; -1 is the spoken title."""
    speech: list[float | None] = field(default_factory=list)
    """Measured seconds of each step's words (None until a fill hold needs them, or again after a rate
    change)."""
    speech_rates: list[int | None] = field(default_factory=list)
    """The rate each step's words were spoken at (None: not yet spoken, so the rate now)."""
    title_seconds: float | None = None
    """Measured seconds of the title, once a fill hold needs them."""
    title_rate: int = 150
    """The rate the title was spoken at."""
    hold: Hold | None = None
    awaiting: int | None = None
    """The id of the sentence whose end moves the item on."""
    paused_from: Mode | None = None
    question: Question | None = None
    """The question waiting for an answer (in mode "confirming")."""
    question_say: int | None = None
    """The id of the sentence that asks it (said last)."""
    question_due: float | None = None
    """When silence counts as no answer (`questions.ANSWER_SECONDS` after the question was said)."""
    rate: int = 150
    volume: float = 1.0
    voice: str | None = None
    """The voice speaking (a name from the session's voices; None: the one the settings chose)."""
    reprompted: bool = False
    misheard: int = 0
    """Utterances in a row that were no command (`questions.MISHEARD`)."""
    tipped: bool = False
    """The words heard best were said after being misheard (once a run)."""
    mic_lost: bool = False
    device_paused: bool = False
    """Paused because the microphone went away (not by the user): going on when it comes back."""
    listing: list[str] = field(default_factory=list)
    """Groups of the menu's list still to be read (see voice_guide.session.menu)."""
    list_id: int | None = None
    """The id of the group being read."""
    list_due: float | None = None
    """When the next group is read (after a moment to speak)."""
    place_saved: bool | None = None
    """Whether the place in the open item was last saved (None: not tried yet)."""
