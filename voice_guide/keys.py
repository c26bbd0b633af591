"""Single key presses from the terminal, for people who cannot or would rather not speak.

A background thread reads stdin in cbreak mode (no Enter needed; Ctrl-C still interrupts) and queues
each character; `voice_guide.session.machine.KEYS` says what each key does. Without a terminal (a pipe, a
service, a test) there are simply no keys. The terminal is always restored on `close`.
"""

from __future__ import annotations

import os
import queue
import select
import sys
import threading
from typing import TextIO


class TerminalKeys:
    """Keys typed on a terminal. Use `open_keys()`; `poll()` returns what was typed since last time."""

    def __init__(self, stream: TextIO) -> None:
        self._fd = stream.fileno()
        self._queue: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._saved = None
        self._thread = threading.Thread(target=self._read, name="voice-guide-keys", daemon=True)

    def start(self) -> "TerminalKeys":
        import termios
        import tty

        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        self._thread.start()
        return self

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self._fd, 32)
            except OSError:
                return
            if not data:
                return
            for char in data.decode("utf-8", errors="ignore"):
                self._queue.put(char.lower() if char.isalpha() else char)

    def poll(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)
        if self._saved is not None:
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None


def open_keys(stream: TextIO | None = None) -> TerminalKeys | None:
    """Keys from `stream` (stdin) when it is a terminal that can be put in cbreak mode; else None."""
    stream = stream or sys.stdin
    try:
        import termios
    except ImportError:
        return None
    try:
        if not stream.isatty():
            return None
        return TerminalKeys(stream).start()
    except (OSError, ValueError, AttributeError, termios.error):
        return None
