"""The one way the guide opens its own files (settings, places, enrolment, speech cache, export
records, and what it writes into an export folder): only regular files are read (a pipe or device is
refused at once, never waited on), a link is followed only where one may belong, each kind of file
has a size limit checked before a byte is read, every write is an atomic replace, and an unusable
file is set aside rather than lost. A refusal is a RefusedFile whose text is one short phrase for the
caller's sentence.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Iterator

KB, MB = 1024, 1024 * 1024
LIMITS = {
    "settings": 64 * KB,
    "progress": 1 * MB,
    "export record": 16 * MB,
    "templates": 16 * MB,
    "prototypes": 4 * MB,
    "switch": 1 * MB,
    "checked models": 64 * KB,
    "speech": 32 * MB,
    "voice config": 1 * MB,
    "chapter list": 1 * MB,
    "playlist": 4 * MB,
    "echo paths": 256 * KB,
}
"""The largest file of each kind the guide reads, in bytes: each is many times what the guide itself
writes (a settings file is under 1 KB, enrolled takes under 1 MB, a cached sentence under 2 MB), so
only a damaged or planted file is refused, before it is read into memory."""


class RefusedFile(OSError):
    """A file that is not a regular file, a link where none belongs, or larger than its kind can be;
    `str()` is the reason as a short phrase ("it is a pipe (FIFO), not a file")."""

    def __str__(self) -> str:
        return str(self.strerror)


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, with its article ("a pipe (FIFO)")."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _size(n: int) -> str:
    return f"{n / MB:,.0f} MB" if n >= MB else f"{n / KB:,.0f} KB" if n >= KB else f"{n} bytes"


def open_regular(path: Path | str, limit: int | None, *, follow: bool = False) -> BinaryIO:
    """`path` open for reading when it is a regular file of at most `limit` bytes (None: any size);
    a link is followed only with `follow` (where the user names the file). Opened without blocking
    and checked on the open file, so a pipe, a device or a swap between check and open is refused at
    once. FileNotFoundError when nothing is there; RefusedFile, or the OSError, when it cannot be used."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow and os.path.islink(path):
            raise RefusedFile(errno.ELOOP, "it is a link, where only the guide's own file belongs", str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedFile(errno.EINVAL, f"it is {kind_of(info.st_mode)}, not a file", str(path))
        if limit is not None and info.st_size > limit:
            raise RefusedFile(errno.EFBIG, f"it is {_size(info.st_size)}, more than such a file can be "
                              f"({_size(limit)})", str(path))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    # Outside the try: once the file object exists it owns `fd`, and a stop (KeyboardInterrupt) arriving
    # inside fdopen must not close the descriptor a second time, after its number may be reused.
    return os.fdopen(fd, "rb")


def read_own(path: Path | str, kind: str, *, follow: bool = False) -> bytes:
    """The whole content of one of the guide's files of `kind` (a key of LIMITS), read through
    `open_regular`; never more than its limit, even from a file that grows while it is read."""
    limit = LIMITS[kind]
    with open_regular(path, limit, follow=follow) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise RefusedFile(errno.EFBIG, f"it is more than such a file can be ({_size(limit)})", str(path))
    return data


def read_own_text(path: Path | str, kind: str, *, follow: bool = False) -> str:
    """`read_own` as UTF-8 text (UnicodeDecodeError when it is not)."""
    return read_own(path, kind, follow=follow).decode("utf-8")


_unstoppable = 0
"""How deep we are in `unstoppable` blocks."""
_stop_waiting = False
"""A stop arrived inside one and waits for its end."""
_stop_asked = False
"""A stop arrived (see `check_stop`)."""


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
    global _stop_waiting, _stop_asked
    _stop_asked = True
    if _unstoppable:
        _stop_waiting = True
    return bool(_unstoppable)


def check_stop() -> None:
    """KeyboardInterrupt when a stop arrived and did not end the run. The signal handler raises it at
    whatever line runs; one raised inside an import or a library's own clean-up can be lost (1 stop in
    about 15 at the start of `read --input` on a busy machine ran on, or waited for a loader that would
    never finish), so the loops that wait ask again here."""
    if _stop_asked and not _unstoppable:
        raise KeyboardInterrupt


def clear_stop() -> None:
    """A new run: no stop has arrived."""
    global _stop_asked, _stop_waiting
    _stop_asked = _stop_waiting = False


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


def copy_folder(source: Path, dest: Path, limit: int) -> None:
    """Copy a folder of folders and regular files to `dest` (which must not exist). A link, pipe or
    device anywhere is refused (RefusedFile), never followed or opened, so a link cannot lead the copy
    outside `source` or round in a loop; more than `limit` bytes (the folder grew since it was
    checked) is refused too."""
    left = limit

    def copy(src: str, dst: Path) -> None:
        nonlocal left
        dst.mkdir()
        with os.scandir(src) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    copy(entry.path, dst / entry.name)
                    continue
                with open_regular(entry.path, None) as fh, open(dst / entry.name, "xb") as out:
                    while block := fh.read(MB):
                        left -= len(block)
                        if left < 0:
                            raise RefusedFile(errno.EFBIG, f"it grew beyond {_size(limit)} while it was copied",
                                              str(source))
                        out.write(block)

    copy(str(source), dest)


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
    again; returns a sentence saying where it went ('' when it could not be moved). A folder in its
    place is left where it is: the guide moves only files."""
    backup = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        if stat.S_ISDIR(path.lstat().st_mode):
            return ""
        os.replace(path, backup)
    except OSError:
        return ""
    return f" The old file was kept as {backup.name}."


@contextlib.contextmanager
def exclusive(lock_path: Path, wait: float | None = None, on_wait=None) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (filelock) while a file beside it is read, changed and
    written, so two guides never lose each other's changes. Tried at once; when it is held elsewhere,
    `on_wait()` is called and it waits up to `wait` seconds (None: for ever), then raises
    filelock.Timeout (an OSError). A link or pipe at `lock_path` is removed, never opened; the lock file
    is removed before release (a waiter finds it gone and takes a new one), so none is left behind."""
    from filelock import FileLock, Timeout

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        mode = lock_path.lstat().st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # a link, pipe or device: never opened
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
