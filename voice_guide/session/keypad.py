"""Numbers typed one digit at a time, so every item (1 to 11) and every step is reachable by key: a
digit that could start a larger number waits a moment for a second digit (or Enter). Pure: the time
comes in with each call.
"""

from __future__ import annotations

DIGIT_WAIT = 1.5
"""Seconds a first digit waits for a second one before it counts on its own."""
ENTER = ("\r", "\n")


class NumberEntry:
    """The digits typed so far. `press`, `enter` and `due` return a finished number, or None."""

    def __init__(self) -> None:
        self.digits = ""
        self.since = 0.0

    def press(self, digit: str, limit: int, now: float) -> int | None:
        """A digit key; `limit` is the largest number that means something here."""
        typed = self.digits + digit
        if int(typed) == 0:
            self.digits = ""
            return None
        if len(typed) == 1 and int(typed) * 10 <= limit:
            self.digits, self.since = typed, now
            return None
        self.digits = ""
        return int(typed)

    def enter(self) -> int | None:
        number = int(self.digits) if self.digits else None
        self.digits = ""
        return number

    def due(self, now: float) -> int | None:
        """The waiting digit, once nobody has typed a second one for DIGIT_WAIT seconds."""
        if self.digits and now - self.since >= DIGIT_WAIT:
            return self.enter()
        return None

    def clear(self) -> None:
        self.digits = ""
