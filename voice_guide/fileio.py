"""Writing files so that nothing half-written is ever left behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator


_unstoppable = 0
"""How deep we are in `unstoppable` blocks."""
_stop_waiting = False
"""A stop arrived inside one and waits for its end."""


@contextlib.contextmanager
def unstoppable() -> Iterator[None]:
    """Around the few milliseconds of reading, changing and writing a small file (with its lock): a
    stop that arrives meanwhile (a signal handler that asks `defer_stop()`) is raised as
    KeyboardInterrupt at the end, so a stop never leaves a temporary or lock file behind."""
    global _unstoppable, _stop_waiting
    _unstoppable += 1
    try:
        yield
    finally:
        _unstoppable -= 1
    if _unstoppable == 0 and _stop_waiting:
        _stop_waiting = False
        raise KeyboardInterrupt


def defer_stop() -> bool:
    """For a signal handler: True when the stop must wait for an `unstoppable` block (it is noted)."""
    global _stop_waiting
    if _unstoppable:
        _stop_waiting = True
    return bool(_unstoppable)


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it is fsynced and renamed onto `target`,
    on any failure (an exception, Ctrl-C) it is removed. The file gets the usual permissions (umask),
    not mkstemp's private 0600."""
    target = Path(target)
    tmp_path: Path | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        tmp_path = Path(tmp)
        os.close(fd)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp_path, 0o666 & ~mask)
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    except BaseException:
        if tmp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()
        raise


def fresh_file(target: Path | str) -> int:
    """A new, empty regular file renamed onto `target` (mode 0600), open for writing: whatever was
    there (a link to someone's file, a pipe) is replaced, never followed, opened or truncated."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return fd


def atomic_write_bytes(target: Path | str, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: Path | str, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def set_aside(path: Path) -> str:
    """Move an unusable file out of the way as `<name>.bad-<time>`, so it is neither lost nor read
    again; returns a sentence saying where it went ('' when it could not be moved)."""
    backup = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        os.replace(path, backup)
    except OSError:
        return ""
    return f" The old file was kept as {backup.name}."


@contextlib.contextmanager
def exclusive(lock_path: Path, wait: float | None = None, on_wait=None) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (filelock) while a file beside it is read, changed and
    written, so two guides never lose each other's changes. Tried at once; when it is held elsewhere,
    `on_wait()` is called and it waits up to `wait` seconds (None: for ever), then raises
    filelock.Timeout (an OSError). A link at `lock_path` is removed, never followed; the lock file
    is removed before release (a waiter finds it gone and takes a new one), so none is left behind."""
    from filelock import FileLock, Timeout

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    if lock_path.is_symlink():
        lock_path.unlink()
    lock = FileLock(str(lock_path), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait is not None:
            on_wait()
        lock.acquire(timeout=-1 if wait is None else wait, poll_interval=0.1)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock_path.unlink()
        lock.release()


def scratch_folder(prefix: str) -> Path:
    """A new private folder in the system's temporary folder, named `<prefix><pid>-...`; folders of
    the same kind left by a process that no longer runs (killed with SIGKILL, a power cut) are removed
    first, so they never pile up."""
    import shutil

    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for stale in base.glob(f"{prefix}*"):
            pid = stale.name[len(prefix):].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)) and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=base))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: running
        return True
    return True
