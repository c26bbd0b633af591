"""What the neural voices (Piper, Kokoro) need from onnxruntime to render fast and give memory back."""

from __future__ import annotations

import ctypes
import ctypes.util

GIVE_BACK = 256 * 1024
"""Bytes from which glibc serves an allocation by its own mapping, returned to the system when freed.
glibc raises this threshold by itself (up to 32 MB) once big blocks are freed, after which a long
sentence's buffers stay resident for good. With this and the shrinking arena the guide listens in
349 MB instead of 461 (scripts/measure_live.py)."""


class ShrinkingSession:
    """An onnxruntime session whose memory arena gives back what a run used once the run ends: a voice
    sized for the longest sentence said so far would otherwise stay resident while the guide listens
    (and with no arena at all it renders half as fast, measured here)."""

    def __init__(self, session) -> None:
        import onnxruntime

        self._session = session
        self._options = onnxruntime.RunOptions()
        self._options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def run(self, outputs, feed):
        return self._session.run(outputs, feed, self._options)


def give_back_large_blocks() -> None:
    """Fix glibc's mmap threshold at GIVE_BACK (see there); elsewhere nothing to do."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(-3, GIVE_BACK)  # -3 is M_MMAP_THRESHOLD


def session_options(threads: int | None):
    """Options for one voice's session: `threads` for one text (None: onnxruntime's default, one per core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return options
