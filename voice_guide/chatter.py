"""Keeping the sound libraries' own messages off the user's screen.

ALSA, PortAudio and the speech engines write warnings ("ALSA lib pcm.c:...underrun occurred")
straight to file descriptor 2, in among the lines a screen reader reads. While the guide runs, fd 2
goes to a log file in the cache folder instead, and Python's `sys.stderr` (the guide's own one-line
messages) stays on the terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Iterator

from voice_guide import paths
from voice_guide.fileio import fresh_file

LOG_NAME = "sound-libraries.log"
"""A new file at each start, so it never grows beyond one run; whatever was at its name (a link to
another file, a pipe) is replaced, never written through."""


def log_path() -> Path:
    return paths.cache_dir() / LOG_NAME


@contextlib.contextmanager
def library_messages_to_log(path: Path | None = None) -> Iterator[Path | None]:
    """Route fd 2 to `path` (the cache folder's log by default; /dev/null if that cannot be written)
    while keeping `sys.stderr` on the original stream. Yields the log's path (None for /dev/null)."""
    path = path or log_path()
    try:
        fd2 = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield None  # no real stderr (captured, embedded): nothing to protect
        return
    try:
        paths.ensure(path.parent)
        target = fresh_file(path)
    except OSError:
        target, path = os.open(os.devnull, os.O_WRONLY), None
    sys.stderr.flush()
    saved = os.dup(fd2)
    own = open(os.dup(saved), "w", buffering=1, encoding=sys.stderr.encoding or "utf-8",
               errors="backslashreplace")
    old = sys.stderr
    os.dup2(target, fd2)
    os.close(target)
    sys.stderr = own
    try:
        yield path
    finally:
        sys.stderr = old
        own.close()
        os.dup2(saved, fd2)
        os.close(saved)
