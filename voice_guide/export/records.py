"""What the guide has written into each export folder, kept in the user's data folder, never in the
export folder itself: that folder holds only what a player needs (tracks, playlist, chapter list) and
is copied to phones as it is.

The record of a folder says, for each file the guide wrote there, what it was made from and its size
and content hash. A file is skipped as unchanged only when its hash still matches, and a file is only
ever deleted when it is a plain name directly inside the folder whose content is still exactly what
the guide wrote, so a record can never make the guide touch anything else. A lock per folder (also
in the data folder, and removed when released) keeps two exports from writing into one folder at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import stat
from pathlib import Path
from typing import Callable, Iterator, Sequence

from voice_guide import paths
from voice_guide.errors import ExportError
from voice_guide.fileio import atomic_write_text, exclusive, open_regular, read_own_text, unstoppable

RECORD_FORMAT = "voice-guide-export"
RECORD_VERSION = 2
LEGACY_FILES = (".voice-guide-export.json", ".voice-guide-export.lock")
"""Bookkeeping that older versions kept inside the export folder; removed when it is theirs."""


def records_dir() -> Path:
    return paths.data_dir() / "exports"


def folder_id(out_dir: Path) -> str:
    """The name of a folder's record and lock: a hash of the folder's absolute, resolved path."""
    return hashlib.sha256(str(out_dir.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:24]


def record_path(out_dir: Path, where: Path | None = None) -> Path:
    """The record of `out_dir` (in `where`, the data folder's exports/ by default); its lock is beside
    it, with the suffix .lock."""
    return (where or records_dir()) / f"{folder_id(out_dir)}.json"


def plain_name(name: object) -> bool:
    """A name the guide could have written: one visible file name, no folder part."""
    return (isinstance(name, str) and bool(name) and not name.startswith(".") and Path(name).name == name
            and not any(c in name for c in "/\\\x00"))


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path, None) as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _regular_size(path: Path) -> int | None:
    """The size of `path` when it is a regular file (not a link, folder or device), else None."""
    try:
        st = path.lstat()
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


class Records:
    """What this program wrote into `out_dir`: {file: {"key", "names", "title", "duration", "size",
    "sha256", "chapters"}}. A missing or damaged record is an empty one (everything is made again)."""

    def __init__(self, out_dir: Path, where: Path | None = None) -> None:
        self.folder = out_dir
        self.path = record_path(out_dir, where)
        self.tracks: dict[str, dict] = {}
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError, RecursionError):
            data = json.loads(read_own_text(self.path, "export record"))
            if (data.get("format") == RECORD_FORMAT and data.get("folder") == str(out_dir.resolve())
                    and isinstance(data.get("tracks"), dict)):
                self.tracks = {k: v for k, v in data["tracks"].items() if plain_name(k) and isinstance(v, dict)}

    def whole(self, file: str) -> bool:
        """`file` is there, a regular file, with exactly the content recorded for it."""
        entry = self.tracks.get(file)
        if not entry or not plain_name(file):
            return False
        target = self.folder / file
        if _regular_size(target) != entry.get("size"):
            return False
        try:
            return content_hash(target) == entry.get("sha256")
        except OSError:
            return False

    def unchanged(self, file: str, key: str) -> dict | None:
        """The entry for `file` if it was made from `key` and is still there, whole and unaltered."""
        entry = self.tracks.get(file)
        return entry if entry and entry.get("key") == key and self.whole(file) else None

    def record(self, file: str, key: str, names: Sequence[str], title: str, duration: float,
               chapters: Sequence = ()) -> None:
        target = self.folder / file
        self.tracks[file] = {"key": key, "names": list(names), "title": title, "duration": duration,
                             "size": target.stat().st_size, "sha256": content_hash(target),
                             "chapters": [[c.title, c.start, c.end] for c in chapters]}
        self.save()

    def forget_replaced(self, file: str, names: Sequence[str]) -> None:
        """Delete an older file made from the same items in the same format under another name (its
        title changed), so the folder does not fill with duplicates; only while it is still exactly
        the file the guide wrote."""
        suffix = Path(file).suffix
        for old, entry in list(self.tracks.items()):
            if old != file and Path(old).suffix == suffix and entry.get("names") == list(names):
                if self.whole(old):
                    with contextlib.suppress(FileNotFoundError):
                        (self.folder / old).unlink()
                del self.tracks[old]

    def present(self) -> dict[str, dict]:
        """The recorded files still in the folder (what the playlist lists); forgets the others."""
        gone = [file for file in self.tracks if _regular_size(self.folder / file) is None]
        for file in gone:
            del self.tracks[file]
        if gone:
            self.save()
        return dict(self.tracks)

    def save(self) -> None:
        data = json.dumps({"format": RECORD_FORMAT, "version": RECORD_VERSION, "folder": str(self.folder.resolve()),
                           "tracks": self.tracks}, indent=1, sort_keys=True)
        try:
            paths.ensure(self.path.parent)
            with unstoppable():
                atomic_write_text(self.path, data)
        except OSError as exc:
            raise _data_folder_error(self.path.parent, exc) from exc


def remove_legacy_files(out_dir: Path) -> None:
    """Older versions' bookkeeping inside the export folder, only when it is theirs: a record in
    their format, an empty lock file, or a link (removed, never followed). A person's own file that
    happens to have one of these names is left alone."""
    for name in LEGACY_FILES:
        target = out_dir / name
        if target.is_symlink() or _legacy(target, name.endswith(".json")):
            with contextlib.suppress(FileNotFoundError):
                target.unlink()


def _legacy(path: Path, record: bool) -> bool:
    try:
        if not record:
            with open_regular(path, 0):  # an empty lock file
                return True
        return json.loads(read_own_text(path, "export record")).get("format") == RECORD_FORMAT
    except (OSError, ValueError, AttributeError, RecursionError):
        return False


def _data_folder_error(folder: Path, exc: OSError) -> ExportError:
    return ExportError(f"The record of what was exported could not be written in {folder} "
                       f"({exc.strerror or exc}); check that your data folder can be written to.")


@contextlib.contextmanager
def folder_lock(out_dir: Path, where: Path | None, on_wait: Callable[[], None], wait: float | None,
                busy: str) -> Iterator[None]:
    """Hold `out_dir`'s export lock (beside its record, never in the folder); a second export calls
    `on_wait` once and waits, or after `wait` seconds stops with `busy`."""
    from filelock import Timeout

    lock = record_path(out_dir, where).with_suffix(".lock")
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(exclusive(lock, wait, on_wait))
        except Timeout:
            raise ExportError(busy) from None
        except OSError as exc:
            raise _data_folder_error(lock.parent, exc) from exc
        yield
