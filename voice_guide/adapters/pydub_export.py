"""Encoding rendered sound to mp3/ogg/wav/m4a with ffmpeg, tagging it with mutagen, and reading exported
files back with pydub.

The only module that touches pydub, ffmpeg and mutagen for the export. Every failure leaves it as one
of our errors, translated here once: ffmpeg missing or failing -> ExportError with what to do; a full
disk or a refused write (an OSError, one wrapped in mutagen's own errors, or ffmpeg's words for it) ->
WriteError, which `voice_guide.export.writer` only re-points at the finished file's name.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Sequence

from voice_guide.audio import Audio, wav_bytes
from voice_guide.export.tracks import FORMATS, Chapter, Tags
from voice_guide.errors import ExportError, WriteError
from voice_guide.fileio import scratch_folder


# format -> (ffmpeg muxer, codec, bitrate, extra ffmpeg parameters). Mono speech needs little.
_ENCODING = {
    "mp3": ("mp3", "libmp3lame", "64k", None),
    "ogg": ("ogg", "libvorbis", None, ["-q:a", "3"]),
    "wav": ("wav", None, None, None),  # written directly in one go (audio.wav_bytes): pydub's own WAV
    # writer, when the disk fills mid-file, leaves a half-closed writer that prints a stray traceback
    "m4a": ("ipod", "aac", "64k", ["-aac_coder", "fast"]),  # ffmpeg's default AAC search ("twoloop")
    # is about six times slower (56 against 302 s of audio per second, measured here) for no gain
    # a listener hears in mono speech at 64 kbit/s
}

def _pydub():
    with warnings.catch_warnings():
        # "Couldn't find ffmpeg" (we say it better, when it matters) and audioop's deprecation.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import pydub
        import pydub.exceptions
    return pydub


def ffmpeg_path() -> str | None:
    """Where ffmpeg is, or None."""
    return shutil.which(_pydub().AudioSegment.converter) or shutil.which("ffmpeg")


def check_format(fmt: str) -> None:
    """Raise ExportError now (before anything is rendered) if `fmt` cannot be written here."""
    if fmt not in FORMATS:
        raise ExportError(f"The format {fmt!r} is not supported; choose one of {', '.join(FORMATS)}.")
    if fmt != "wav" and ffmpeg_path() is None:
        raise ExportError(
            f"ffmpeg is needed to write {fmt} files but is not installed; run scripts/setup.sh "
            "(or sudo apt-get install ffmpeg), or export with --format wav."
        )


def _ffmpeg_encode(audio: Audio, path: Path, fmt: str) -> None:
    """Encode with ffmpeg, the samples piped in and the file written straight to `path`: no temporary
    files of its own and no process-wide state, so tracks can be encoded on several threads at once."""
    muxer, codec, bitrate, parameters = _ENCODING[fmt]
    cmd = [ffmpeg_path() or "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-f", "s16le", "-ar", str(audio.rate), "-ac", "1", "-i", "pipe:0", "-c:a", codec]
    if bitrate:
        cmd += ["-b:a", bitrate]
    cmd += [*(parameters or []), "-f", muxer, str(path)]
    try:
        done = subprocess.run(cmd, input=audio.to_pcm16(), capture_output=True)
    except OSError as exc:
        raise ExportError(f"ffmpeg could not be started ({exc.strerror or exc}); run scripts/setup.sh again.") from exc
    if done.returncode != 0:
        raise _encode_error(done.stderr.decode("utf-8", "replace"), path, fmt)


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError behind a library's own error, if there is one."""
    seen = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _encode_error(text: str, path: Path, fmt: str) -> ExportError:
    """ffmpeg's complaint (its stderr) as our error."""
    if "No space left on device" in text:
        return WriteError(errno.ENOSPC, "No space left on device", path)
    last = [line for line in text.splitlines() if line.strip()][-1:] or ["unknown error"]
    return ExportError(f"ffmpeg could not write the {fmt} file ({last[0].strip()}); "
                       "check that ffmpeg is installed fully (scripts/setup.sh).")


def _id3_frames(tags: Tags, chapters: Sequence[Chapter]) -> list:
    from mutagen.id3 import CHAP, COMM, CTOC, TALB, TCON, TIT2, TPE1, TRCK, CTOCFlags

    frames = [TIT2(encoding=3, text=[tags.title]), TALB(encoding=3, text=[tags.album]),
              TPE1(encoding=3, text=[tags.artist]), TCON(encoding=3, text=[tags.genre])]
    if tags.track is not None:
        frames.append(TRCK(encoding=3, text=[f"{tags.track}/{tags.total}" if tags.total else str(tags.track)]))
    if tags.comment:
        frames.append(COMM(encoding=3, lang="eng", desc="", text=[tags.comment]))
    if chapters:
        ids = [f"chp{i}" for i in range(len(chapters))]
        for cid, ch in zip(ids, chapters):
            frames.append(CHAP(element_id=cid, start_time=round(ch.start * 1000), end_time=round(ch.end * 1000),
                               start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF,
                               sub_frames=[TIT2(encoding=3, text=[ch.title])]))
        frames.append(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                           child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=["Contents"])]))
    return frames


def _stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _tag_id3(path: Path, fmt: str, tags: Tags, chapters: Sequence[Chapter]) -> None:
    if fmt == "wav":
        from mutagen.wave import WAVE

        wav = WAVE(path)
        if wav.tags is None:
            wav.add_tags()
        for frame in _id3_frames(tags, chapters):
            wav.tags.add(frame)
        wav.save()
        return
    from mutagen.id3 import ID3, ID3NoHeaderError

    try:
        id3 = ID3(path)
    except ID3NoHeaderError:
        id3 = ID3()
    for frame in _id3_frames(tags, chapters):
        id3.add(frame)
    id3.save(path)


def _tag_ogg(path: Path, tags: Tags, chapters: Sequence[Chapter]) -> None:
    from mutagen.oggvorbis import OggVorbis

    ogg = OggVorbis(path)
    values = {"title": tags.title, "album": tags.album, "artist": tags.artist, "genre": tags.genre}
    if tags.track is not None:
        values["tracknumber"] = str(tags.track)
    if tags.total:
        values["tracktotal"] = str(tags.total)
    if tags.comment:
        values["comment"] = tags.comment
    for i, ch in enumerate(chapters, start=1):
        # The Vorbis comment chapter extension, read by VLC, foobar2000 and others.
        values[f"CHAPTER{i:03d}"] = _stamp(ch.start)
        values[f"CHAPTER{i:03d}NAME"] = ch.title
    for key, value in values.items():
        ogg[key] = [value]
    ogg.save()


def _tag_mp4(path: Path, tags: Tags) -> None:
    from mutagen.mp4 import MP4

    mp4 = MP4(path)
    mp4["\xa9nam"] = [tags.title]
    mp4["\xa9alb"] = [tags.album]
    mp4["\xa9ART"] = [tags.artist]
    mp4["\xa9gen"] = [tags.genre]
    if tags.track is not None:
        mp4["trkn"] = [(tags.track, tags.total or 0)]
    if tags.comment:
        mp4["\xa9cmt"] = [tags.comment]
    mp4.save()


def _ffmetadata(chapters: Sequence[Chapter]) -> str:
    def esc(text: str) -> str:
        return "".join("\\" + c if c in "=;#\\\n" else c for c in text)

    lines = [";FFMETADATA1"]
    for ch in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(ch.start * 1000)}",
                  f"END={round(ch.end * 1000)}", f"title={esc(ch.title)}"]
    return "\n".join(lines) + "\n"


def _add_mp4_chapters(path: Path, chapters: Sequence[Chapter]) -> None:
    """mutagen cannot write MP4 chapters; ffmpeg copies the stream and adds them from an ffmetadata
    file. The result replaces `path` (itself a temporary file) only when ffmpeg succeeded."""
    folder = scratch_folder("voice-guide-chapters-")
    try:
        meta = folder / "chapters.txt"
        meta.write_text(_ffmetadata(chapters), encoding="utf-8")
        out = folder / "with-chapters.m4a"
        cmd = [ffmpeg_path() or "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               "-i", str(path), "-i", str(meta), "-map", "0", "-map_metadata", "1", "-map_chapters", "1",
               "-c", "copy", "-f", "ipod", str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise _encode_error(done.stderr, path, "m4a")
        shutil.copyfile(out, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class PydubEncoder:
    """Writes one Audio to one file with tags (and chapters, for single-file exports)."""

    name = "pydub"

    def check(self, fmt: str) -> None:
        check_format(fmt)

    def encode(self, audio: Audio, path: Path, fmt: str, tags: Tags,
               chapters: Sequence[Chapter] = ()) -> None:
        """`fmt` is one `check` accepted."""
        path = Path(path)
        try:
            if fmt == "wav":
                path.write_bytes(wav_bytes(audio))
            else:
                _ffmpeg_encode(audio, path, fmt)
            if fmt == "m4a" and chapters:
                _add_mp4_chapters(path, chapters)
            if fmt in ("mp3", "wav"):
                _tag_id3(path, fmt, tags, chapters)
            elif fmt == "ogg":
                _tag_ogg(path, tags, chapters)
            else:
                _tag_mp4(path, tags)
        except ExportError:
            raise
        except Exception as exc:  # mutagen's own errors wrap the OSError that caused them
            cause = _os_error(exc)
            if cause is not None:
                raise WriteError.from_os(cause, path.parent) from exc
            raise ExportError(f"The {fmt} file {path.name} could not be tagged ({exc}).") from exc


def decode(path: Path | str) -> Audio:
    """Read any exported file back as mono Audio (for tests and the benchmark)."""
    pydub = _pydub()
    segment = pydub.AudioSegment.from_file(str(path)).set_channels(1).set_sample_width(2)
    return Audio.from_pcm16(segment.raw_data, segment.frame_rate)


def read_tags(path: Path | str) -> dict:
    """Title, album, artist, track, total and chapter titles of an exported file, whatever its format."""
    import mutagen

    f = mutagen.File(str(path))
    if f is None:
        raise ExportError(f"{path} is not an audio file mutagen can read.")
    tags = f.tags
    out: dict = {"length": f.info.length}
    if hasattr(tags, "getall") or type(f).__name__ == "WAVE":
        def text(key: str) -> str | None:
            frame = tags.get(key) if tags is not None else None
            return str(frame.text[0]) if frame is not None else None
        out.update(title=text("TIT2"), album=text("TALB"), artist=text("TPE1"))
        track = text("TRCK") or ""
        chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time) if tags is not None else []
        out["chapters"] = [str(c.sub_frames["TIT2"].text[0]) for c in chapters]
    elif type(f).__name__ == "MP4":
        out.update(title=tags["\xa9nam"][0], album=tags["\xa9alb"][0], artist=tags["\xa9ART"][0])
        n, total = tags["trkn"][0] if "trkn" in tags else (None, None)
        track = f"{n}/{total}" if n else ""
        out["chapters"] = [c.title for c in (f.chapters or [])]
    else:
        def first(key: str) -> str | None:
            values = tags.get(key) if tags is not None else None
            return values[0] if values else None
        out.update(title=first("title"), album=first("album"), artist=first("artist"))
        track = f"{first('tracknumber') or ''}/{first('tracktotal') or ''}".strip("/")
        out["chapters"] = [tags[k][0] for k in sorted(tags.keys()) if k.upper().startswith("CHAPTER")
                           and k.upper().endswith("NAME")]
    n, _, total = track.partition("/")
    out["track"] = int(n) if n.isdigit() else None
    out["total"] = int(total) if total.isdigit() else None
    return out
