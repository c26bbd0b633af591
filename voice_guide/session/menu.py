"""What the menu says, made for the ear: a short greeting (the first time, with the safety notice's
one line), then one prompt, so the guide listens within seconds; the whole list only when asked ("list"), in small groups
with a moment to speak between them. Pure: items in, sentences out.

Whether the guide can hear (`hears`) changes the wording: spoken commands when it listens, keys when
it does not. `Menu` is the session's part that says them: the prompt, and the list read a group at a time.
"""

from __future__ import annotations

from typing import Sequence

from voice_guide.content.model import Item
from voice_guide.session.events import PlayCue
from voice_guide.session.parts import Context
from voice_guide.session.prompts import say

GROUP_SIZE = 4
"""Items read together when the list is asked for."""
GROUP_GAP = 2.0
"""Seconds of quiet (listening) between two groups of the list."""


def prompt(hears: bool) -> str:
    return say("menu.prompt", hears)


def choose(hears: bool) -> str:
    """What to do once the list has been read."""
    return say("menu.choose", hears)


def intro(items: Sequence[Item], first_time: bool = True) -> list[str]:
    """The first words: the greeting, then, the first time, the safety notice's one-line summary."""
    safety = [item.summary for item in items if item.safety] if first_time else []
    return [say("menu.greeting"), *safety[:1]]


def describe(number: int, item: Item) -> str:
    """'11: Gentle self massage, a 3 and a half minute session.'"""
    if item.kind == "session" and item.length and "minute" not in item.title.lower():
        halves = round(item.length / 30)
        if halves <= 2:
            return say("menu.short_session", number=number, title=item.title)
        minutes = say("menu.and_a_half", whole=halves // 2) if halves % 2 else str(halves // 2)
        return say("menu.session", number=number, title=item.title, minutes=minutes)
    return say("menu.item", number=number, title=item.title)


def groups(items: Sequence[Item]) -> list[str]:
    """The whole list as a few short sentences: topics, then sessions, GROUP_SIZE at a time."""
    numbered = list(enumerate(items, start=1))
    out = []
    for kind, heading in (("topic", say("menu.topics")), ("session", say("menu.sessions"))):
        mine = [(n, item) for n, item in numbered if item.kind == kind]
        for start in range(0, len(mine), GROUP_SIZE):
            chunk = " ".join(describe(n, item) for n, item in mine[start : start + GROUP_SIZE])
            out.append(f"{heading} {chunk}" if start == 0 else chunk)
    return out


def printed(items: Sequence[Item]) -> list[str]:
    """The whole list for the screen, printed once at the start: one numbered line per item."""
    return [describe(n, item) for n, item in enumerate(items, start=1)]


class Menu:
    """At the menu: its prompt, and the whole list read a small group at a time."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.state = ctx.state

    def show(self, lead: str = "") -> None:
        """At the menu: `lead` (e.g. "What next?"), then the one-line prompt, and listen."""
        s = self.state
        s.mode, s.item, s.step, s.hold, s.awaiting, s.question = "menu", None, -1, None, None, None
        s.paused_from = None
        self.ctx.say(f"{lead} {prompt(self.ctx.hears)}".strip(), "prompt")
        self.ctx.emit(PlayCue("listening"))

    def read_list(self) -> None:
        """Read the whole list, a small group at a time, with a moment to speak between groups."""
        self.state.listing = groups(self.ctx.items)
        self._next_group()

    def _next_group(self) -> None:
        s = self.state
        s.list_due = None
        s.list_id = self.ctx.say(s.listing.pop(0), "prompt")

    def listed(self, now: float) -> None:
        """A group has been read: wait a moment for the user before the next, or end with the prompt."""
        s = self.state
        if s.listing:
            s.list_due = now + GROUP_GAP
        else:
            self.ctx.say(choose(self.ctx.hears), "prompt")
            self.ctx.emit(PlayCue("listening"))

    def tick(self, now: float) -> None:
        s = self.state
        if s.list_due is not None and now >= s.list_due and s.listing:
            self._next_group()

    def stop_list(self) -> bool:
        """Anything the user does stops the list; True when it was being read."""
        s = self.state
        was = bool(s.listing) or s.list_id is not None
        s.listing, s.list_id, s.list_due = [], None, None
        return was
