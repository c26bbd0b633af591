"""Where the user was: one place (step) per item, saved in a small versioned JSON file after every
step and on quit, so a crash, a flat battery or a quit never loses it; the next start offers to go on
from the latest. Every change is merged under a lock, so two guides on one home never lose each
other's places, and finishing an item forgets only that item's place.

A file that is corrupt, truncated, from a newer version or not ours is moved aside as a backup and
ignored, with one sentence for the user (said once).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from voice_guide import paths
from voice_guide.fileio import atomic_write_text, exclusive, read_own_text, set_aside, unstoppable

FORMAT = "voice-guide-progress"
VERSION = 2
"""Version 2 keeps one place per item (version 1 kept one place in all); both are read."""


@dataclass(frozen=True)
class Progress:
    item: str
    """The item's name."""
    step: int
    """Index of the step to go on from."""
    saved_at: float = 0.0
    """Unix time of the save."""


@dataclass(frozen=True)
class Forget:
    """Forget the place in one item (it was finished, or the user said no to going on)."""

    item: str


@dataclass(frozen=True)
class Loaded:
    progress: Progress | None
    """The most recently saved place, offered at the menu."""
    notice: str = ""
    """One sentence for the user when the saved file could not be used; empty otherwise."""
    places: dict[str, Progress] = field(default_factory=dict, compare=False)
    """Every saved place, by item: `read NAME` goes on from its own item's place."""


def progress_path() -> Path:
    return paths.data_dir() / "progress.json"


def _lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def _place(item: object, data: object) -> Progress:
    if not isinstance(item, str) or not item:
        raise ValueError("it names no topic or session")
    if not isinstance(data, dict):
        raise ValueError("a place is not a record")
    step = data.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise ValueError("its step is not a whole number")
    saved_at = data.get("saved_at", 0.0)
    ok = isinstance(saved_at, (int, float)) and not isinstance(saved_at, bool) and math.isfinite(saved_at)
    return Progress(item, step, float(saved_at) if ok else 0.0)


def _parse(text: str) -> dict[str, Progress]:
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not a voice-guide progress file")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError("it has no version")
    if version > VERSION:
        raise ValueError(f"it was written by a newer voice-guide (version {version})")
    if version < 2:
        place = _place(data.get("item"), data)
        return {place.item: place}
    places = data.get("places")
    if not isinstance(places, dict):
        raise ValueError("it holds no places")
    return {item: _place(item, value) for item, value in places.items()}


def load(path: Path | None = None) -> Loaded:
    """The saved places, or none; an unusable file is kept aside as `progress.json.bad-<time>`."""
    path = path or progress_path()
    try:
        text = read_own_text(path, "progress")
    except FileNotFoundError:
        return Loaded(None)
    except UnicodeDecodeError:
        return Loaded(None, _set_aside(path, "it is not text"))
    except OSError as exc:
        return Loaded(None, _set_aside(path, str(exc.strerror or exc)))
    try:
        places = _parse(text)
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        return Loaded(None, _set_aside(path, str(exc)))
    latest = max(places.values(), key=lambda p: p.saved_at, default=None)
    return Loaded(latest, places=places)


def _set_aside(path: Path, why: str) -> str:
    kept = set_aside(path)
    return f"Your saved place could not be used ({why}), so I will start from the menu.{kept}"


def _change(path: Path, change) -> None:
    """Read the places, `change` them and write them back, under a lock so that two guides on one
    home keep each other's places; no place left removes the file. An unreadable file is replaced."""
    paths.ensure(path.parent)
    with unstoppable(), exclusive(_lock_path(path), wait=10.0):
        try:
            places = _parse(read_own_text(path, "progress"))
        except FileNotFoundError:
            places = {}
        except (OSError, ValueError, TypeError, ArithmeticError, RecursionError):
            set_aside(path)
            places = {}
        change(places)
        if not places:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return
        data = {"format": FORMAT, "version": VERSION,
                "places": {p.item: {"step": p.step, "saved_at": p.saved_at} for p in places.values()}}
        atomic_write_text(path, json.dumps(data, indent=2))


def save(progress: Progress, path: Path | None = None) -> Path:
    """Save the place in `progress.item`, keeping every other item's place."""
    path = path or progress_path()
    place = Progress(progress.item, progress.step, progress.saved_at or time.time())
    _change(path, lambda places: places.update({place.item: place}))
    return path


def forget(item: str, path: Path | None = None) -> None:
    """Forget the place in `item` only."""
    _change(path or progress_path(), lambda places: places.pop(item, None))


def clear(path: Path | None = None) -> None:
    """Forget every saved place."""
    path = path or progress_path()
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def store(place: Progress | Forget, path: Path | None = None) -> None:
    """Save a place, or forget the place in one item."""
    if isinstance(place, Forget):
        forget(place.item, path)
    else:
        save(place, path)
