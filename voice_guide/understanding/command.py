"""What the guide was asked to do: the one value the matcher finds and the session carries out. Pure."""

from __future__ import annotations

from dataclasses import dataclass

NUMBERED = ("step", "suggestion", "choice")
"""Commands whose argument is a number (the others' is an item's or a command's name)."""


@dataclass(frozen=True)
class Command:
    """A command to carry out: an id from commands.toml, "open" (arg: item name), "step" or "suggestion"
    (arg: a number), "teach" (arg: the one command to learn again, None for all)."""

    id: str
    arg: str | int | None = None

    def __str__(self) -> str:
        return self.id if self.arg is None else f"{self.id}:{self.arg}"
