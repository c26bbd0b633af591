"""Whether this user has been greeted before. The first start says the safety notice's one line after
the greeting; later starts go straight to the prompt, so the guide listens within seconds (the safety
notice stays item 1 of the list). Kept as an empty marker file in the cache folder (clearing the
cache only means the line is said once more); when it cannot be written the line is said every time."""

from __future__ import annotations

import contextlib
from pathlib import Path

from voice_guide import paths
from voice_guide.fileio import atomic_write_text

MARKER = "greeted"


def first_time(folder: Path | None = None) -> bool:
    return not ((folder or paths.cache_dir()) / MARKER).exists()


def remember(folder: Path | None = None) -> None:
    """Best effort: a read-only folder only means the safety line is said again next time."""
    folder = folder or paths.cache_dir()
    with contextlib.suppress(OSError):
        atomic_write_text(paths.ensure(folder) / MARKER, "")
