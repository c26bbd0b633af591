"""Exporting the guide as audio files: one track per topic and session (or one file with chapters),
tagged, with an M3U playlist.

Safe to interrupt and to repeat: every file is written under a hidden temporary name and renamed when
complete; a record in the user's data folder (`voice_guide.export_records`) remembers what each track
was made from and its content hash, so a second export skips tracks whose content and settings did not
change and finishes only what is missing; a lock keeps two exports from writing into one folder at
once. The folder ends up holding only tracks, the playlist and the chapter list. The library,
synthesiser and encoder are handed in, so tests run it with fakes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import threading
import unicodedata
from collections import deque
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from voice_guide.audio import Audio
from voice_guide.content.model import Item
from voice_guide.engines import ALBUM, FORMATS, Chapter, Encoder, Library, Synthesizer, Tags, VoiceSettings
from voice_guide.errors import ExportError, UsageError
from voice_guide.export_records import Records, folder_lock, remove_legacy_files
from voice_guide.fileio import atomic_path, atomic_write_text, scratch_folder
from voice_guide.render import RENDER_VERSION, display_title, join_items, render_item

PLAYLIST = "voice-guide.m3u"
SINGLE_STEM = "voice-guide"
MAX_JOBS = 4
"""Most tracks made at once (see default_jobs)."""


@dataclass(frozen=True)
class Track:
    number: int
    total: int
    title: str
    file: str
    """File name inside the output folder."""
    duration: float
    skipped: bool
    """Unchanged since the last export, so not written again."""
    names: tuple[str, ...]
    """The items in it (one, or all for a single-file export)."""


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    fmt: str
    tracks: tuple[Track, ...]
    playlist: Path

    @property
    def written(self) -> list[Track]:
        return [t for t in self.tracks if not t.skipped]

    @property
    def skipped(self) -> list[Track]:
        return [t for t in self.tracks if t.skipped]


@dataclass(frozen=True)
class ProgressEvent:
    """'wait' (another export holds the folder), 'track' (a track written) or 'skip' (unchanged)."""

    kind: str
    done: int = 0
    total: int = 0
    title: str = ""
    seconds: float = 0.0
    message: str = ""


Progress = Callable[[ProgressEvent], None]


def clock(seconds: float) -> str:
    """'2:41' or '1:02:05'."""
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def safe_name(title: str, fallback: str = "track") -> str:
    """A file name part from a title: letters, digits, spaces and a little punctuation only, so no
    name from content can hold a '/', '..', a control character or escape the output folder."""
    text = unicodedata.normalize("NFC", title).replace(":", " -")
    text = "".join(c if c.isalnum() or c in " -_,'()&!" else " " for c in text)
    text = re.sub(r"\s+", " ", text).strip(" -_,'")[:80].rstrip(" -_,'")
    if text:
        return text
    return safe_name(fallback) if fallback and fallback != title else "track"


def select(library: Library, names: Sequence[str]) -> list[Item]:
    """The named items in library order (all when `names` is empty); an unknown name raises the
    library's UsageError listing every valid name."""
    if not names:
        return list(library.items)
    wanted = {library.get(name).name for name in names}
    return [item for item in library.items if item.name in wanted]


def check_folder(out_dir: Path) -> None:
    if not out_dir.exists():
        raise ExportError(f"The folder {out_dir} does not exist; create it or choose another with --out.")
    if not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file, not a folder; choose a folder with --out.")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ExportError(f"The folder {out_dir} cannot be written to; choose a folder you own with --out.")


def os_error(exc: OSError, out_dir: Path) -> ExportError:
    """One sentence for a failed write; the partial file is already gone when this is shown."""
    where = Path(exc.filename).name if exc.filename else str(out_dir)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ExportError(f"The disk is full, so {where} could not be written; free some space and run "
                           "the export again (finished tracks are kept).")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportError(f"The folder {out_dir} cannot be written to ({exc.strerror}); "
                           "choose a folder you own with --out.")
    return ExportError(f"Could not write {where} in {out_dir} ({exc.strerror or exc}); "
                       "check the folder and run the export again.")


def _remove_stale_parts(out_dir: Path, targets: Sequence[str]) -> None:
    """Temporary files a killed export (SIGKILL, power cut) could not remove; only ours, and only
    while we hold the lock, so no running export loses its work."""
    prefixes = tuple(f".{t}." for t in targets)
    for entry in out_dir.iterdir():
        if entry.name.endswith(".part") and entry.name.startswith(prefixes):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()


def track_key(items: Sequence[Item], settings: VoiceSettings, fmt: str, synth_name: str, encoder_name: str,
              number: int, total: int) -> str:
    """Changes whenever anything that shapes the file changes: content, voice, format, engine,
    renderer, or the track number written in its tags."""
    blob = json.dumps({"items": [asdict(i) for i in items], "voice": asdict(settings), "fmt": fmt,
                       "synth": synth_name, "encoder": encoder_name, "render": RENDER_VERSION,
                       "track": [number, total]}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def playlist_text(entries: dict[str, dict], library: Library) -> str:
    """Every track the folder holds (`Records.present()`, any format), in library order: a track
    by its item's place, a single file before the second item, formats in FORMATS order."""
    positions = {item.name: k for k, item in enumerate(library.items)}
    unknown = len(positions)

    def order(file: str) -> tuple:
        names = entries[file].get("names") or []
        place = min((positions.get(n, unknown) for n in names if isinstance(n, str)), default=unknown)
        suffix = Path(file).suffix.lstrip(".")
        return place, len(names) > 1, FORMATS.index(suffix) if suffix in FORMATS else len(FORMATS), file

    lines = ["#EXTM3U", f"#PLAYLIST:{ALBUM}"]
    for file in sorted(entries, key=order):
        title, duration = entries[file].get("title"), entries[file].get("duration")
        seconds = round(duration) if isinstance(duration, (int, float)) and duration == duration else -1
        lines += [f"#EXTINF:{seconds},{title if isinstance(title, str) else Path(file).stem}", file]
    return "\n".join(lines) + "\n"


def chapters_text(chapters: Sequence[Chapter]) -> str:
    """'00:02:41.500 Title' per line: the plain chapter list that podcast tools and people can read."""
    lines = []
    for ch in chapters:
        ms = round(ch.start * 1000)
        lines.append(f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d} {ch.title}")
    return "\n".join(lines) + "\n"


def _default_encoder() -> Encoder:
    from voice_guide.adapters.pydub_export import PydubEncoder

    return PydubEncoder()


def _tags(title: str, number: int, total: int) -> Tags:
    return Tags(title=title, track=number, total=total,
                comment="Guidance read aloud; not a replacement for a doctor.")


@contextlib.contextmanager
def _writing(target: Path) -> Iterator[None]:
    """Name the finished file, not its hidden temporary one, in any error about writing it."""
    try:
        yield
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from exc


def _inside(target: Path) -> None:
    if target.resolve().parent != target.parent.resolve():
        raise ExportError(f"Refusing to write {target.name!r} outside the output folder.")


def _write(encoder: Encoder, audio: Audio, target: Path, fmt: str, tags: Tags, chapters: Sequence[Chapter] = ()) -> None:
    _inside(target)
    with _writing(target), atomic_path(target) as tmp:
        encoder.encode(audio, tmp, fmt, tags, chapters)


def _place(made: Path, target: Path) -> None:
    """Copy a finished file from the scratch folder into the output folder, atomically."""
    _inside(target)
    with _writing(target), atomic_path(target) as tmp:
        shutil.copyfile(made, tmp)


def _write_text(target: Path, text: str) -> None:
    with _writing(target):
        atomic_write_text(target, text)


def export_library(library: Library, names: Sequence[str], out_dir: Path | str, fmt: str,
                   synth: Synthesizer, settings: VoiceSettings, single_file: bool = False,
                   progress: Progress | None = None, *, encoder: Encoder | None = None,
                   lock_wait: float | None = None, records_dir: Path | None = None,
                   jobs: int | None = None) -> ExportResult:
    """Write the named items (all when `names` is empty) into `out_dir` as `fmt` files plus the
    playlist, `jobs` tracks at a time (default_jobs() when None); see the module docstring for what
    makes it safe to interrupt and repeat. The folder's record and lock go in `records_dir` (the data
    folder's exports/ by default)."""
    report = progress or (lambda event: None)
    items = select(library, names)
    if fmt not in FORMATS:
        raise UsageError(f"The format {fmt!r} is not supported; choose one of {', '.join(FORMATS)}.")
    out_dir = Path(out_dir)
    check_folder(out_dir)
    encoder = encoder or _default_encoder()
    encoder.check(fmt)
    positions = {item.name: k for k, item in enumerate(library.items, start=1)}
    total = len(library.items)
    width = max(2, len(str(total)))
    try:
        waiting = ProgressEvent("wait", message=f"Another export is writing into {out_dir}; waiting for it to finish.")
        busy = (f"Another export is still writing into {out_dir}; wait for it to finish or choose another "
                "folder with --out.")
        with folder_lock(out_dir, records_dir, lambda: report(waiting), lock_wait, busy):
            manifest = Records(out_dir, records_dir)
            remove_legacy_files(out_dir)
            if single_file:
                targets = [f"{SINGLE_STEM}.{fmt}", f"{SINGLE_STEM}.chapters.txt"]
            else:
                targets = [f"{positions[i.name]:0{width}d} - {safe_name(display_title(i), i.name)}.{fmt}"
                           for i in items]
            _remove_stale_parts(out_dir, [*targets, PLAYLIST])
            if single_file:
                tracks = [_export_single(items, out_dir, fmt, synth, settings, encoder, manifest, report)]
            else:
                tracks = _export_tracks(items, targets, positions, total, out_dir, fmt, synth, settings, encoder,
                                        manifest, report, jobs)
            playlist = out_dir / PLAYLIST
            _write_text(playlist, playlist_text(manifest.present(), library))
    except OSError as exc:
        raise os_error(exc, out_dir) from exc
    return ExportResult(out_dir, fmt, tuple(tracks), playlist)


def default_jobs() -> int:
    """Tracks made at once: one per core, at most MAX_JOBS (each track being made is held whole in
    memory)."""
    return max(1, min(MAX_JOBS, os.cpu_count() or 1))


class _Cancelled(Exception):
    """The export is stopping: a track still being rendered gives up at its next sentence."""


class _Stoppable:
    """The synthesiser as the worker threads see it: once `stop` is set, the next sentence raises."""

    def __init__(self, inner: Synthesizer, stop: threading.Event) -> None:
        self.inner, self.stop, self.name = inner, stop, inner.name

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        if self.stop.is_set():
            raise _Cancelled
        return self.inner.synthesize(text, settings)

    def close(self) -> None:
        """The caller closes the real synthesiser."""


def _in_background(work: Callable[[], float]) -> Future:
    """Run `work` on a daemon thread: one still encoding when Ctrl-C ends the program never holds up
    its exit (what it writes goes into a scratch folder that is removed)."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to the caller, who re-raises it (Ctrl-C included)
            future.set_exception(exc)

    threading.Thread(target=run, name="voice-guide-export", daemon=True).start()
    return future


def _export_tracks(items: Sequence[Item], targets: Sequence[str], positions: dict[str, int], total: int,
                   out_dir: Path, fmt: str, synth: Synthesizer, settings: VoiceSettings, encoder: Encoder,
                   manifest: Records, report: Progress, jobs: int | None) -> list[Track]:
    """One file per item. Tracks that changed are rendered and encoded `jobs` at a time on worker
    threads, each into a private scratch folder; this thread moves each finished one into place
    (atomically) and records it, in library order, so Ctrl-C or a full disk leaves only whole tracks
    and the manifest holds exactly those."""
    stop = threading.Event()
    speaker = _Stoppable(synth, stop)
    scratch = scratch_folder("voice-guide-export-")
    work = []
    for item, file in zip(items, targets):
        number = positions[item.name]
        key = track_key([item], settings, fmt, synth.name, encoder.name, number, total)
        work.append((item, file, number, key, display_title(item), manifest.unchanged(file, key)))
    to_make = iter([w for w in work if not w[5]])
    jobs = max(1, jobs or default_jobs())
    ahead: deque[tuple[Future, Path]] = deque()

    def make(item: Item, title: str, number: int, into: Path) -> float:
        rendered = render_item(item, speaker, settings)
        encoder.encode(rendered.audio, into, fmt, _tags(title, number, total))
        return rendered.duration

    def top_up() -> None:
        while len(ahead) < jobs:
            w = next(to_make, None)
            if w is None:
                return
            into = scratch / f"{w[2]}.{fmt}"
            ahead.append((_in_background(lambda w=w, into=into: make(w[0], w[4], w[2], into)), into))

    tracks: list[Track] = []
    try:
        top_up()
        for done, (item, file, number, key, title, entry) in enumerate(work, start=1):
            if entry:
                duration = float(entry.get("duration", 0.0))
            else:
                made, into = ahead.popleft()
                with _writing(out_dir / file):
                    duration = made.result()
                top_up()
                _place(into, out_dir / file)
                manifest.forget_replaced(file, [item.name])
                manifest.record(file, key, [item.name], title, duration)
            tracks.append(Track(number, total, title, file, duration, bool(entry), (item.name,)))
            report(ProgressEvent("skip" if entry else "track", done, len(items), title, duration))
    finally:
        stop.set()  # after Ctrl-C, SIGTERM or a failed track, renders in flight stop at their next sentence
        shutil.rmtree(scratch, ignore_errors=True)
    return tracks


def _export_single(items: Sequence[Item], out_dir: Path, fmt: str, synth: Synthesizer, settings: VoiceSettings,
                   encoder: Encoder, manifest: Records, report: Progress) -> Track:
    file = f"{SINGLE_STEM}.{fmt}"
    names = [i.name for i in items]
    key = track_key(items, settings, fmt, synth.name, encoder.name, 1, 1)
    entry = manifest.unchanged(file, key)
    listing = out_dir / f"{SINGLE_STEM}.chapters.txt"
    if entry:
        duration = float(entry.get("duration", 0.0))
        # The chapter list is shared by every format's single file: bring it back in line with this one.
        text = chapters_text([Chapter(*c) for c in entry.get("chapters", [])])
        if not listing.is_file() or listing.read_text(encoding="utf-8") != text:
            _write_text(listing, text)
        report(ProgressEvent("skip", 1, 1, ALBUM, duration))
        return Track(1, 1, ALBUM, file, duration, True, tuple(names))
    rendered = []
    for done, item in enumerate(items, start=1):
        rendered.append(render_item(item, synth, settings))
        report(ProgressEvent("render", done, len(items), display_title(item), rendered[-1].duration))
    audio, chapters = join_items(rendered)
    _write(encoder, audio, out_dir / file, fmt, _tags(ALBUM, 1, 1), chapters)
    _write_text(listing, chapters_text(chapters))
    manifest.record(file, key, names, ALBUM, audio.duration, chapters)
    report(ProgressEvent("track", 1, 1, ALBUM, audio.duration))
    return Track(1, 1, ALBUM, file, audio.duration, False, tuple(names))
