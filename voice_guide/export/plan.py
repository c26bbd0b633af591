"""An export request checked once, at the face, into a plan: the items, the folder, the format, each
file's name and tags. `voice_guide.export.writer` takes a plan as given and checks none of it again.

Checking means: every name is in the library (an unknown one is the library's UsageError listing the
valid names), the format is one we write, the folder exists and may be written to, and the encoder can
write the format here (ffmpeg is installed), all before anything is rendered.
"""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from voice_guide.content.model import Item
from voice_guide.engines import DEFAULT_LUFS, VoiceSettings
from voice_guide.export.tracks import ALBUM, FORMATS, Encoder, Tags
from voice_guide.content.loader import Library
from voice_guide.errors import ExportError, UsageError

SINGLE_STEM = "voice-guide"
CHAPTER_LIST = f"{SINGLE_STEM}.chapters.txt"
MAX_JOBS = 4
"""Most tracks made at once (see default_jobs)."""
COMMENT = "Guidance read aloud; not a replacement for a doctor."
"""Every track's comment tag."""
DEFAULT_DIR = Path("audio") / "exports"


@dataclass(frozen=True)
class PlannedTrack:
    """One file the export will hold."""

    file: str
    """File name inside the output folder."""
    items: tuple[Item, ...]
    """What it reads (one item, or every selected one for a single-file export)."""
    tags: Tags
    """Its title, track number and total as players show them."""


@dataclass(frozen=True)
class ExportPlan:
    """A checked export request."""

    library: Library
    """The whole library: it numbers the tracks and orders the playlist."""
    out_dir: Path
    """An existing folder this user may write into."""
    fmt: str
    """One of FORMATS, and one the encoder can write here."""
    voice: VoiceSettings
    single_file: bool
    """One file with a chapter per item (and CHAPTER_LIST beside it) instead of one file each."""
    jobs: int
    """Tracks made at once, 1 to MAX_JOBS."""
    tracks: tuple[PlannedTrack, ...]
    """In library order."""
    loudness: float = DEFAULT_LUFS
    """Every track's integrated loudness, LUFS (`voice_guide.loudness.to_loudness`)."""

    @property
    def files(self) -> list[str]:
        """Every file the export writes, but the playlist."""
        return [t.file for t in self.tracks] + ([CHAPTER_LIST] if self.single_file else [])


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


def default_out_dir() -> Path:
    """audio/exports/ when run inside the project, else the user's Music/voice-guide (created)."""
    if DEFAULT_DIR.is_dir():
        return DEFAULT_DIR
    import platformdirs

    folder = Path(platformdirs.user_music_dir()) / "voice-guide"
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_folder(out_dir: Path) -> None:
    if not out_dir.exists():
        raise ExportError(f"The folder {out_dir} does not exist; create it or choose another with --out.")
    if not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file, not a folder; choose a folder with --out.")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ExportError(f"The folder {out_dir} cannot be written to; choose a folder you own with --out.")


def default_jobs() -> int:
    """Tracks made at once: one per core, at most MAX_JOBS (each track being made is held whole in
    memory)."""
    return max(1, min(MAX_JOBS, os.cpu_count() or 1))


def plan_export(library: Library, names: Sequence[str], out_dir: Path | str | None, fmt: str,
                voice: VoiceSettings, encoder: Encoder, single_file: bool = False,
                jobs: int | None = None, loudness: float = DEFAULT_LUFS) -> ExportPlan:
    """Check the request (see the module docstring) and name every file: a track is
    'NN - Title.fmt', numbered by its place in the whole library, so a partial export names each
    track as a whole one does. `out_dir` None: `default_out_dir()`, once the names are known good."""
    from voice_guide.speaking.render import display_title  # sound maths: loaded when an export is planned

    items = select(library, names)
    if fmt not in FORMATS:
        raise UsageError(f"The format {fmt!r} is not supported; choose one of {', '.join(FORMATS)}.")
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir()
    check_folder(out_dir)
    encoder.check(fmt)
    if single_file:
        tracks = [PlannedTrack(f"{SINGLE_STEM}.{fmt}", tuple(items), Tags(ALBUM, 1, 1, comment=COMMENT))]
    else:
        positions = {item.name: k for k, item in enumerate(library.items, start=1)}
        total = len(library.items)
        width = max(2, len(str(total)))
        tracks = []
        for item in items:
            number, title = positions[item.name], display_title(item)
            tracks.append(PlannedTrack(f"{number:0{width}d} - {safe_name(title, item.name)}.{fmt}", (item,),
                                       Tags(title, number, total, comment=COMMENT)))
    return ExportPlan(library, out_dir, fmt, voice, single_file, max(1, jobs or default_jobs()), tuple(tracks),
                      loudness)
