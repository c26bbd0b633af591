"""What the session's parts share: the `Context` (the items, how long speech lasts, how the user can
reach the guide, the state, the actions going out), and `handles`, the mark by which a part's method
says which command ids it carries out (`dispatch_table` gathers them into the session's one table).

A command is data plus one handler: its id and phrases in `data/commands.toml`, and one method marked
`@handles("id")` in the part it belongs to, so adding one never means editing a list elsewhere.
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

from voice_guide.content.model import Item
from voice_guide.session import prompts
from voice_guide.session.events import Action, Say, SayKind
from voice_guide.session.state import ChoiceQuestion, SessionState
from voice_guide.understanding.command import Command

Handler = Callable[[Command, float], None]
"""What a command does: (the command, now)."""

F = TypeVar("F", bound=Callable[..., None])


def handles(*ids: str) -> Callable[[F], F]:
    """Mark a part's method as the handler of these command ids."""
    def mark(method: F) -> F:
        setattr(method, "command_ids", ids)
        return method

    return mark


def dispatch_table(*parts: object) -> dict[str, Handler]:
    """Command id -> the bound method marked to handle it, over all `parts`; an id marked twice is a
    programming error, caught at once."""
    table: dict[str, Handler] = {}
    for part in parts:
        for name in dir(type(part)):
            for cid in getattr(getattr(type(part), name), "command_ids", ()):
                if cid in table:
                    raise ValueError(f"Command {cid!r} has two handlers.")
                table[cid] = getattr(part, name)
    return table


class Context:
    """The session's shared knowledge and its one way out: every part says and emits through here,
    so the actions of one event come out in the order they were decided. `read_only` ends the guide
    after one item instead of returning to the menu; `listening` says whether spoken commands can be
    heard at all (else it speaks of keys), `keys` whether there is a keyboard to fall back on; `voices`
    the voices a person may try by ear, as (name, how it introduces itself), in order."""

    def __init__(self, items: Sequence[Item], speech_length: Callable[[str, int], float], state: SessionState, *,
                 read_only: bool, listening: bool, keys: bool, voices: Sequence[tuple[str, str]]) -> None:
        self.items = list(items)
        self.speech_length = speech_length
        self.state = state
        self.read_only = read_only
        self.listening = listening
        self.keys = keys
        self.voices = tuple(voices)
        self._next_id = 0
        self._out: list[Action] = []

    @property
    def hears(self) -> bool:
        """Spoken commands can be heard now (else the user has only keys)."""
        return self.listening and not self.state.mic_lost

    def say(self, text: str, kind: SayKind) -> int:
        self._next_id += 1
        self._out.append(Say(text, kind, self._next_id))
        return self._next_id

    def emit(self, action: Action) -> None:
        self._out.append(action)

    def flush(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    def running(self) -> bool:
        return self.state.mode in ("speaking", "holding")

    def find(self, name: object) -> Item | None:
        for item in self.items:
            if item.name == name:
                return item
        return None

    def help(self) -> str:
        """What the user can do right now."""
        s = self.state
        if s.mode == "confirming" and s.question is not None:
            if isinstance(s.question, ChoiceQuestion):
                return prompts.which_one(self.hears, len(s.question.options))
            return prompts.help_text("question", self.hears)
        mode = s.mode if s.mode in ("menu", "paused") else "running"
        return prompts.help_text(mode, self.hears)
