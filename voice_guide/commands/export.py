"""`voice-guide export`: write the guide as audio files (mp3, ogg, wav or m4a) with a playlist.

Checks the request once into a plan (`voice_guide.export.plan`), opens the synthesiser and encoder
through `voice_guide.wiring` and hands them to `voice_guide.export.writer.export_library`, shows progress (a
bar on a terminal, plain lines otherwise) and turns SIGTERM into the same clean stop as Ctrl-C, so no
half-written file is ever left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from typing import TYPE_CHECKING, Iterator, TextIO

from voice_guide import fileio
from voice_guide.engines import LUFS_MAX, LUFS_MIN, RATE_MAX, RATE_MIN
from voice_guide.export.tracks import FORMATS
from voice_guide.errors import ExportError, printable
from voice_guide.export.plan import MAX_JOBS, default_jobs
from voice_guide.commands import devices_of, library_of, load_settings

if TYPE_CHECKING:  # the export's machinery is imported when it runs, so other commands start quickly
    from voice_guide.export.writer import ExportResult, ProgressEvent

ORDER = 30


def wants_plain(stream: TextIO, plain: bool = False) -> bool:
    """Plain lines rather than a drawn bar: asked for (--plain, NO_COLOR, TERM=dumb), or `stream` is not
    a terminal (a screen reader reads a bar's block characters as noise)."""
    if plain or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return True
    return not bool(getattr(stream, "isatty", lambda: False)())


class ConsoleProgress:
    """A tqdm bar on a terminal, else one plain line per track, starting with how much is done."""

    def __init__(self, stream: TextIO, plain: bool = False) -> None:
        self.stream = stream
        self.tty = not wants_plain(stream, plain)
        self.bar = None

    def __call__(self, event: ProgressEvent) -> None:
        from voice_guide.export.writer import clock

        if event.kind in ("wait", "in the way"):
            self._line(event.message if event.kind == "wait" else f"voice-guide: {printable(event.message)}")
            return
        verb = {"track": "Exported", "skip": "Skipped", "render": "Rendered"}[event.kind]
        why = " (unchanged)" if event.kind == "skip" else ""
        text = f"{verb} {event.done} of {event.total}{why}: {event.title} ({clock(event.seconds)})"
        if not self.tty:
            self._line(f"{100 * event.done // max(1, event.total)}% {text}")
            return
        if self.bar is None or self.bar.total != event.total:
            self.close()
            from tqdm import tqdm

            self.bar = tqdm(total=event.total, file=self.stream, unit="track", leave=True)
        self.bar.set_description_str(event.title[:40])
        self.bar.update(event.done - self.bar.n)

    def _line(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextlib.contextmanager
def sigterm_stops() -> Iterator[None]:
    """SIGTERM (and Ctrl-C) raise KeyboardInterrupt, so temporary files are removed as on Ctrl-C; one
    that arrives while a small file is being written (`fileio.unstoppable`) waits until it is whole."""
    def stop(signum, frame):
        if not fileio.defer_stop():
            raise KeyboardInterrupt

    try:
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    fileio.clear_stop()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        fileio.clear_stop()


def summary(result: ExportResult) -> str:
    from voice_guide.export.writer import clock

    written, skipped = len(result.written), len(result.skipped)
    total = sum(t.duration for t in result.tracks)
    parts = [f"Wrote {written} file{'s' if written != 1 else ''}"]
    if skipped:
        parts.append(f"skipped {skipped} unchanged")
    if result.in_the_way:
        parts.append(f"left {len(result.in_the_way)} in the way ({', '.join(result.in_the_way)})")
    listed = f"playlist {result.playlist.name}" if result.playlist else "no playlist"
    return f"{', '.join(parts)} ({clock(total)} of audio) in {result.out_dir}; {listed}."


def run(args: argparse.Namespace) -> int:
    from voice_guide.export.writer import export_library
    from voice_guide.export.plan import plan_export
    from voice_guide.speaking.speech import voice_settings

    devices = devices_of(args)
    settings = load_settings()
    if args.rate is not None:
        settings = settings.with_changes(rate=args.rate)
    if args.loudness is not None:
        settings = settings.with_changes(loudness=args.loudness)
    encoder = devices.encoder()
    # Checked before the synthesiser starts, so a bad name or folder or a missing ffmpeg is said at once.
    plan = plan_export(library_of(args), args.names, args.out, args.format, voice_settings(settings), encoder,
                       args.single_file, args.jobs, float(settings.loudness))
    progress = ConsoleProgress(sys.stderr, args.plain)
    with sigterm_stops():
        synth = devices.synthesizer(settings)
        if synth.notice:
            print(f"voice-guide: {synth.notice}", file=sys.stderr)
        try:
            result = export_library(plan, synth, encoder, progress)
        finally:
            progress.close()
            synth.close()
    print(summary(result))
    return ExportError.exit_code if result.in_the_way else 0


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if not 1 <= jobs <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"--jobs takes a whole number from 1 to {MAX_JOBS}, not {text!r}")
    return jobs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write the guide as audio files with a playlist",
        description="Write every topic and session (or only the named ones) as audio files, one track "
        "each, with real timed pauses, tags and an M3U playlist. Unchanged tracks are skipped.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="topics or sessions to export (default: all)")
    parser.add_argument("--out", metavar="DIR",
                        help="folder to write into (default: audio/exports/ here, else Music/voice-guide)")
    parser.add_argument("--format", choices=FORMATS, default="mp3", help="file format (default: mp3)")
    parser.add_argument("--single-file", action="store_true",
                        help="one file with a chapter per topic or session, instead of one file each")
    parser.add_argument("--rate", type=int, metavar="WPM", help=f"speaking rate in words a minute ({RATE_MIN}-{RATE_MAX})")
    parser.add_argument("--loudness", type=float, metavar="LUFS",
                        help=f"loudness of the tracks in LUFS, {LUFS_MIN:g} to {LUFS_MAX:g} (default: the "
                        "loudness setting, -16)")
    parser.add_argument("--plain", action="store_true",
                        help="show progress as plain lines with a percentage, never a drawn bar (also with "
                        "NO_COLOR set, or when the output is not a terminal)")
    parser.add_argument("--jobs", type=_jobs, metavar="N",
                        help=f"tracks made at once (default: one per core, here {default_jobs()})")
    parser.set_defaults(func=run)
