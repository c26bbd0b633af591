"""Exporting the guide as audio files: one track per topic and session (or one file with chapters),
tagged, with an M3U playlist.

Safe to interrupt and to repeat: every file is written under a hidden temporary name and renamed when
complete; a record in the user's data folder (`voice_guide.export.records`) remembers what each track
was made from and its content hash, so a second export skips tracks whose content and settings did not
change and finishes only what is missing; a lock keeps two exports from writing into one folder at
once. The folder ends up holding only tracks, the playlist and the chapter list. It takes a checked
`voice_guide.export.plan.ExportPlan` as given; the synthesiser and encoder are handed in, so tests run
it with fakes. Every failure to write is one `WriteError` naming the finished file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from voice_guide.audio import Audio
from voice_guide.engines import ALBUM, FORMATS, Chapter, Encoder, Library, Synthesizer, Tags, VoiceSettings
from voice_guide.errors import ExportError, WriteError
from voice_guide.export.plan import CHAPTER_LIST, ExportPlan, PlannedTrack
from voice_guide.export.records import Records, folder_lock, remove_legacy_files
from voice_guide.fileio import atomic_path, atomic_write_text, scratch_folder
from voice_guide.speaking.render import RENDER_VERSION, display_title, join_items, render_item

PLAYLIST = "voice-guide.m3u"


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


def _remove_stale_parts(out_dir: Path, targets: Sequence[str]) -> None:
    """Temporary files a killed export (SIGKILL, power cut) could not remove; only ours, and only
    while we hold the lock, so no running export loses its work."""
    prefixes = tuple(f".{t}." for t in targets)
    for entry in out_dir.iterdir():
        if entry.name.endswith(".part") and entry.name.startswith(prefixes):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()


def track_key(plan: ExportPlan, track: PlannedTrack, synth_name: str, encoder_name: str) -> str:
    """Changes whenever anything that shapes the file changes: content, voice, format, engine,
    renderer, or the track number written in its tags."""
    blob = json.dumps({"items": [asdict(i) for i in track.items], "voice": asdict(plan.voice), "fmt": plan.fmt,
                       "synth": synth_name, "encoder": encoder_name, "render": RENDER_VERSION,
                       "track": [track.tags.track, track.tags.total]}, sort_keys=True, default=str)
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


@contextlib.contextmanager
def _writing(target: Path) -> Iterator[None]:
    """Any failure to write `target` as one WriteError naming it, not its hidden temporary file."""
    try:
        yield
    except WriteError as exc:
        raise exc.at(target) from exc
    except OSError as exc:
        raise WriteError(exc.errno, exc.strerror or str(exc), target) from exc


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


def export_library(plan: ExportPlan, synth: Synthesizer, encoder: Encoder, progress: Progress | None = None,
                   *, lock_wait: float | None = None, records_dir: Path | None = None) -> ExportResult:
    """Write the plan's tracks into its folder, plus the playlist, `plan.jobs` tracks at a time; see
    the module docstring for what makes it safe to interrupt and repeat. The folder's record and lock
    go in `records_dir` (the data folder's exports/ by default)."""
    report = progress or (lambda event: None)
    out_dir = plan.out_dir
    try:
        waiting = ProgressEvent("wait", message=f"Another export is writing into {out_dir}; waiting for it to finish.")
        busy = (f"Another export is still writing into {out_dir}; wait for it to finish or choose another "
                "folder with --out.")
        with folder_lock(out_dir, records_dir, lambda: report(waiting), lock_wait, busy):
            manifest = Records(out_dir, records_dir)
            remove_legacy_files(out_dir)
            _remove_stale_parts(out_dir, [*plan.files, PLAYLIST])
            if plan.single_file:
                tracks = [_export_single(plan, synth, encoder, manifest, report)]
            else:
                tracks = _export_tracks(plan, synth, encoder, manifest, report)
            playlist = out_dir / PLAYLIST
            _write_text(playlist, playlist_text(manifest.present(), plan.library))
    except OSError as exc:
        raise WriteError.from_os(exc, out_dir) from exc
    return ExportResult(out_dir, plan.fmt, tuple(tracks), playlist)


class _Cancelled(Exception):
    """The export is stopping: a track still being rendered gives up at its next sentence."""


class _Stoppable:
    """The synthesiser as the worker threads see it: once `stop` is set, the next sentence raises."""

    def __init__(self, inner: Synthesizer, stop: threading.Event) -> None:
        self.inner, self.stop, self.name, self.rate = inner, stop, inner.name, inner.rate

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


def _export_tracks(plan: ExportPlan, synth: Synthesizer, encoder: Encoder, manifest: Records,
                   report: Progress) -> list[Track]:
    """One file per item. Tracks that changed are rendered and encoded `plan.jobs` at a time on worker
    threads, each into a private scratch folder; this thread moves each finished one into place
    (atomically) and records it, in library order, so Ctrl-C or a full disk leaves only whole tracks
    and the manifest holds exactly those."""
    stop = threading.Event()
    speaker = _Stoppable(synth, stop)
    scratch = scratch_folder("voice-guide-export-")
    work = []
    for track in plan.tracks:
        key = track_key(plan, track, synth.name, encoder.name)
        work.append((track, key, manifest.unchanged(track.file, key)))
    to_make = iter([(track, key) for track, key, entry in work if not entry])
    ahead: deque[tuple[Future, Path]] = deque()

    def make(track: PlannedTrack, into: Path) -> float:
        rendered = render_item(track.items[0], speaker, plan.voice)
        encoder.encode(rendered.audio, into, plan.fmt, track.tags)
        return rendered.duration

    def top_up() -> None:
        while len(ahead) < plan.jobs:
            w = next(to_make, None)
            if w is None:
                return
            into = scratch / f"{w[0].tags.track}.{plan.fmt}"
            ahead.append((_in_background(lambda track=w[0], into=into: make(track, into)), into))

    tracks: list[Track] = []
    try:
        top_up()
        for done, (track, key, entry) in enumerate(work, start=1):
            file, title, names = track.file, track.tags.title, [i.name for i in track.items]
            if entry:
                duration = float(entry.get("duration", 0.0))
            else:
                made, into = ahead.popleft()
                with _writing(plan.out_dir / file):
                    duration = made.result()
                top_up()
                _place(into, plan.out_dir / file)
                manifest.forget_replaced(file, names)
                manifest.record(file, key, names, title, duration)
            tracks.append(Track(track.tags.track, track.tags.total, title, file, duration, bool(entry), tuple(names)))
            report(ProgressEvent("skip" if entry else "track", done, len(work), title, duration))
    finally:
        stop.set()  # after Ctrl-C, SIGTERM or a failed track, renders in flight stop at their next sentence
        shutil.rmtree(scratch, ignore_errors=True)
    return tracks


def _export_single(plan: ExportPlan, synth: Synthesizer, encoder: Encoder, manifest: Records,
                   report: Progress) -> Track:
    track = plan.tracks[0]
    file, items = track.file, track.items
    names = [i.name for i in items]
    key = track_key(plan, track, synth.name, encoder.name)
    entry = manifest.unchanged(file, key)
    listing = plan.out_dir / CHAPTER_LIST
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
        rendered.append(render_item(item, synth, plan.voice))
        report(ProgressEvent("render", done, len(items), display_title(item), rendered[-1].duration))
    audio, chapters = join_items(rendered)
    _write(encoder, audio, plan.out_dir / file, plan.fmt, track.tags, chapters)
    _write_text(listing, chapters_text(chapters))
    manifest.record(file, key, names, ALBUM, audio.duration, chapters)
    report(ProgressEvent("track", 1, 1, ALBUM, audio.duration))
    return Track(1, 1, ALBUM, file, audio.duration, False, tuple(names))
