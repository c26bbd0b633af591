"""The playlist and chapter list an export writes beside its tracks, and telling the guide's own from
a person's file of the same name: the guide replaces only a playlist or chapter list in its own
format (written by this or another data folder's export), and keeps every track the playlist there
lists, so exports from several data folders into one folder all stay in the playlist.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from voice_guide.content.loader import Library
from voice_guide.export.records import plain_name
from voice_guide.export.tracks import ALBUM, FORMATS, Chapter
from voice_guide.fileio import read_own_text
from voice_guide.speaking.render import display_title

PLAYLIST = "voice-guide.m3u"
HEADER = f"#EXTM3U\n#PLAYLIST:{ALBUM}\n"
"""How every playlist the guide writes begins."""
CHAPTER_LINE = re.compile(r"\d\d:\d\d:\d\d\.\d\d\d .*")
ENTRY = re.compile(r"#EXTINF:(-?\d+),(.*)")


def playlist_text(entries: dict[str, dict], library: Library) -> str:
    """Every track in `entries` ({file: {"names", "title", "duration"}}, any format), in library
    order: a track by its item's place, a single file before the second item, formats in FORMATS order."""
    positions = {item.name: k for k, item in enumerate(library.items)}
    unknown = len(positions)

    def order(file: str) -> tuple:
        names = entries[file].get("names") or []
        place = min((positions.get(n, unknown) for n in names if isinstance(n, str)), default=unknown)
        suffix = Path(file).suffix.lstrip(".")
        return place, len(names) > 1, FORMATS.index(suffix) if suffix in FORMATS else len(FORMATS), file

    lines = HEADER.splitlines()
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


def _text(path: Path, kind: str) -> str | None:
    """The file's text; '' when nothing is there, None when something is there that cannot be the
    guide's (a link, a pipe, a folder, not text, too large)."""
    if not (path.exists() or path.is_symlink()):
        return ""
    try:
        return read_own_text(path, kind)
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError):
        return None


def listed_tracks(path: Path, library: Library) -> dict[str, dict] | None:
    """The tracks a guide's playlist at `path` lists that are still in its folder, as entries for
    `playlist_text` ({} when there is no playlist); None when a file is there that is not a guide's
    playlist (a person's own, which is never replaced)."""
    text = _text(path, "playlist")
    if text is None or (text and not text.startswith(HEADER)):
        return None
    names = {display_title(item): [item.name] for item in library.items}
    names[ALBUM] = [item.name for item in library.items]
    entries: dict[str, dict] = {}
    lines = text.splitlines()
    for info, file in zip(lines, lines[1:]):
        found = ENTRY.fullmatch(info)
        if found and plain_name(file) and (path.parent / file).is_file() and not (path.parent / file).is_symlink():
            title = found.group(2)
            entries[file] = {"title": title, "duration": int(found.group(1)), "names": names.get(title, [])}
    return entries


def chapter_list(path: Path) -> str | None:
    """The guide's chapter list at `path` ('' when there is none), or None when a file is there that
    is not one (a person's own, which is never replaced)."""
    text = _text(path, "chapter list")
    return text if text is not None and all(CHAPTER_LINE.fullmatch(line) for line in text.splitlines()) else None
