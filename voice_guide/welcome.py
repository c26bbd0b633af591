"""Whether this user has been greeted before. The first start says the safety notice's one line after
the greeting; later starts go straight to the prompt, so the guide listens within seconds (the safety
notice stays item 1 of the list). Kept as an empty marker file in the data folder; when it cannot be
written the line is simply said every time."""

from __future__ import annotations

import contextlib
from pathlib import Path

from voice_guide import paths
from voice_guide.fileio import atomic_write_text

MARKER = "greeted"


def first_time(data_dir: Path | None = None) -> bool:
    return not ((data_dir or paths.data_dir()) / MARKER).exists()


def remember(data_dir: Path | None = None) -> None:
    """Best effort: a read-only data folder only means the safety line is said again next time."""
    folder = data_dir or paths.data_dir()
    with contextlib.suppress(OSError):
        atomic_write_text(paths.ensure(folder) / MARKER, "")
