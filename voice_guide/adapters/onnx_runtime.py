"""What the neural voices (Piper, Kokoro) need from onnxruntime to render fast and give memory back."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import threading
import weakref

from voice_guide.errors import EngineError

GIVE_BACK = 256 * 1024
"""Bytes from which glibc serves an allocation by its own mapping, returned to the system when freed.
glibc raises this threshold by itself (up to 32 MB) once big blocks are freed, after which a long
sentence's buffers stay resident for good. With this and the shrinking arena the guide listens in
349 MB instead of 461 (scripts/measure_live.py)."""
EXIT_WAIT = 20.0
"""Seconds the exit waits for runs still inside onnxruntime (a sentence takes a few at most here)."""


class Renders:
    """The runs inside onnxruntime, so the program never exits in the middle of one: a stop (Ctrl-C,
    SIGTERM) ends the main thread while an export's or the look-ahead's thread is inside onnxruntime,
    and exiting then aborts the process in C++ ("terminate called without an active exception", exit
    134; with Kokoro, `read --input` stopped a few seconds in did so every time). At exit no new run
    starts and the running ones are told to stop and waited for, so a stop ends with exit 130 and one
    line, at once: a long sentence left to finish held the exit up for 13-30 s at load 6."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running = 0
        self._exiting = False
        self._watching = False
        self._sessions: weakref.WeakSet[ShrinkingSession] = weakref.WeakSet()

    def add(self, session: "ShrinkingSession") -> None:
        with self._changed:
            self._sessions.add(session)

    @contextlib.contextmanager
    def one(self):
        with self._changed:
            if self._exiting:
                raise EngineError("The guide is stopping.")
            if not self._watching:
                self._watching = True
                atexit.register(self.wait, EXIT_WAIT)
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def wait(self, timeout: float) -> None:
        with self._changed:
            self._exiting = True
            for session in list(self._sessions):
                session.abandon()
            self._changed.wait_for(lambda: self._running == 0, timeout)


RENDERS = Renders()
"""Every voice's runs (Piper's and Kokoro's)."""


class ShrinkingSession:
    """An onnxruntime session whose memory arena gives back what a run used once the run ends: a voice
    sized for the longest sentence said so far would otherwise stay resident while the guide listens
    (and with no arena at all it renders half as fast, measured here). Each run counts in `renders`."""

    def __init__(self, session, renders: Renders = RENDERS) -> None:
        import onnxruntime

        self._session = session
        self._renders = renders
        self._options = onnxruntime.RunOptions()
        self._options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        renders.add(self)

    def run(self, outputs, feed):
        with self._renders.one():
            return self._session.run(outputs, feed, self._options)

    def abandon(self) -> None:
        """Its runs stop between two of the model's steps, with an error (the program is exiting)."""
        self._options.terminate = True


def give_back_large_blocks() -> None:
    """Fix glibc's mmap threshold at GIVE_BACK (see there); elsewhere nothing to do."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(-3, GIVE_BACK)  # -3 is M_MMAP_THRESHOLD


def session_options(threads: int | None):
    """Options for one voice's session: `threads` for one text (None: onnxruntime's default, one per
    core), and no pre-packed copies of the weights: they cost Kokoro 14-18 MB for 1-3% of its speed
    (Piper's the same), and the guide listened in 342-343 MB with Michael instead of 356-370
    (three warm starts each, resident once only listening)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.disable_prepacking", "1")
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return options
