"""Where the user was: the item and step, saved as a small versioned JSON file after every step, so a
crash, a flat battery or a quit never loses the place; the next start offers to go on from there.

A file that is corrupt, truncated, from a newer version or not ours is moved aside as a backup and
ignored, with one sentence for the user (said once).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from voice_guide import paths
from voice_guide.fileio import atomic_write_text, set_aside

FORMAT = "voice-guide-progress"
VERSION = 1


@dataclass(frozen=True)
class Progress:
    item: str
    """The item's name."""
    step: int
    """Index of the step to go on from."""
    saved_at: float = 0.0
    """Unix time of the save."""


@dataclass(frozen=True)
class Loaded:
    progress: Progress | None
    notice: str = ""
    """One sentence for the user when the saved file could not be used; empty otherwise."""


def progress_path() -> Path:
    return paths.data_dir() / "progress.json"


def _parse(text: str) -> Progress:
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not a voice-guide progress file")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError("it has no version")
    if version > VERSION:
        raise ValueError(f"it was written by a newer voice-guide (version {version})")
    item, step = data.get("item"), data.get("step")
    if not isinstance(item, str) or not item:
        raise ValueError("it names no topic or session")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise ValueError("its step is not a whole number")
    saved_at = data.get("saved_at", 0.0)
    ok = isinstance(saved_at, (int, float)) and not isinstance(saved_at, bool) and math.isfinite(saved_at)
    return Progress(item, step, float(saved_at) if ok else 0.0)


def load(path: Path | None = None) -> Loaded:
    """The saved place, or none; an unusable file is kept aside as `progress.json.bad-<time>`."""
    path = path or progress_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Loaded(None)
    except UnicodeDecodeError:
        return Loaded(None, _set_aside(path, "it is not text"))
    except OSError as exc:
        return Loaded(None, _set_aside(path, str(exc.strerror or exc)))
    try:
        return Loaded(_parse(text))
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        return Loaded(None, _set_aside(path, str(exc)))


def _set_aside(path: Path, why: str) -> str:
    kept = set_aside(path)
    return f"Your saved place could not be used ({why}), so I will start from the menu.{kept}"


def save(progress: Progress, path: Path | None = None) -> Path:
    path = path or progress_path()
    paths.ensure(path.parent)
    data = {"format": FORMAT, "version": VERSION, "item": progress.item, "step": progress.step,
            "saved_at": progress.saved_at or time.time()}
    atomic_write_text(path, json.dumps(data, indent=2))
    return path


def clear(path: Path | None = None) -> None:
    """Forget the saved place (the item was finished, or the user said no to going on)."""
    path = path or progress_path()
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def store(place: Progress | None, path: Path | None = None) -> None:
    """Save `place`, or forget the saved place when it is None."""
    if place is None:
        clear(path)
    else:
        save(place, path)
