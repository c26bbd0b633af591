import errno
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from voice_guide.adapters.pydub_export import PydubEncoder, check_format, decode, read_tags
from voice_guide.audio import Audio, tone
from voice_guide.errors import ExportError, WriteError
from voice_guide.export.tracks import ALBUM, FORMATS, Chapter, Tags

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
RATE = 22050


def only_this_ffmpeg(folder, monkeypatch, script=None):
    """PATH holding nothing but an ffmpeg that runs `script` (none at all when None)."""
    folder.mkdir(exist_ok=True)
    if script is not None:
        fake = folder / "ffmpeg"
        fake.write_text("#!/bin/sh\n/bin/cat > /dev/null\n" + script)
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))


def sound(seconds=3.0):
    return Audio(np.concatenate([tone(330, seconds / 2, RATE).samples,
                                 np.zeros(round(seconds / 2 * RATE), dtype=np.float32)]), RATE)


@needs_ffmpeg
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.slow
def test_real_encode_keeps_length_tags_and_chapters(tmp_path, fmt):
    path = tmp_path / f"track.{fmt}"
    chapters = [Chapter("Start", 0.0, 1.5), Chapter("Quiet: part two", 1.5, 3.0)]
    PydubEncoder().encode(sound(3.0), path, fmt, Tags("Safety notice", track=1, total=11), chapters)
    back = decode(path)
    # mp3 and aac add at most a codec frame of padding; wav and ogg are exact.
    assert back.duration == pytest.approx(3.0, abs=0.06)
    assert back.rate == RATE
    assert float(np.max(np.abs(back.samples[: RATE]))) > 0.1
    tags = read_tags(path)
    assert (tags["title"], tags["album"], tags["artist"]) == ("Safety notice", ALBUM, "voice-guide")
    assert (tags["track"], tags["total"]) == (1, 11)
    assert tags["chapters"] == ["Start", "Quiet: part two"]


@needs_ffmpeg
def test_mp3_without_chapters_has_none(tmp_path):
    path = tmp_path / "t.mp3"
    PydubEncoder().encode(sound(1.0), path, "mp3", Tags("T", track=2, total=3))
    assert read_tags(path)["chapters"] == []


def test_ffmpeg_missing_is_one_clear_sentence(tmp_path, monkeypatch):
    only_this_ffmpeg(tmp_path / "bin", monkeypatch)
    for fmt in ("mp3", "ogg", "m4a"):
        with pytest.raises(ExportError, match="ffmpeg .* not installed; run scripts/setup.sh"):
            check_format(fmt)
    check_format("wav")


def test_wav_needs_no_ffmpeg(tmp_path, monkeypatch):
    only_this_ffmpeg(tmp_path / "bin", monkeypatch)
    path = tmp_path / "t.wav"
    PydubEncoder().encode(sound(1.0), path, "wav", Tags("T", track=1, total=1))
    assert len(decode(path)) == RATE


def test_unknown_format_refused():
    with pytest.raises(ExportError, match="choose one of mp3, ogg, wav, m4a"):
        check_format("flac")


def test_ffmpeg_failure_is_an_export_error_and_leaves_no_scratch_files(tmp_path, monkeypatch):
    only_this_ffmpeg(tmp_path / "bin", monkeypatch, "echo 'Unknown encoder libmp3lame' >&2; exit 1\n")
    before = {p.name for p in Path(tempfile.gettempdir()).iterdir()}
    with pytest.raises(ExportError, match=r"ffmpeg could not write the mp3 file \(Unknown encoder libmp3lame\)"):
        PydubEncoder().encode(sound(1.0), tmp_path / "t.mp3", "mp3", Tags("T"))
    after = {p.name for p in Path(tempfile.gettempdir()).iterdir()}
    assert not [n for n in after - before if n.startswith(("voice-guide-encode-", "tmp"))]


def test_ffmpeg_saying_the_disk_is_full_is_a_write_error(tmp_path, monkeypatch):
    only_this_ffmpeg(tmp_path / "bin", monkeypatch,
                     "echo 'av_interleaved_write_frame(): No space left on device' >&2; exit 1\n")
    with pytest.raises(WriteError) as info:
        PydubEncoder().encode(sound(1.0), tmp_path / "t.mp3", "mp3", Tags("T"))
    assert info.value.errno == errno.ENOSPC
    assert str(info.value).startswith("The disk is full, so t.mp3 could not be written; free some space")


TAGGING_REFUSED = """
import resource, signal, sys
from pathlib import Path
import numpy as np
from voice_guide.adapters.pydub_export import PydubEncoder
from voice_guide.audio import Audio, wav_bytes
from voice_guide.export.tracks import Tags
from voice_guide.errors import WriteError
audio = Audio(np.zeros(22050, dtype=np.float32), 22050)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (len(wav_bytes(audio)) + 10, resource.RLIM_INFINITY))
try:
    PydubEncoder().encode(audio, Path(sys.argv[1]), "wav", Tags("A title long enough to need room"))
except WriteError as exc:
    print(exc.errno)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs a file size limit (POSIX)")
def test_a_write_refused_while_tagging_is_a_write_error(tmp_path):
    """The sound fits but its tags do not (a file size limit, in a child process so no other file
    meets it): the OSError that mutagen meets comes out as our WriteError, with its errno."""
    done = subprocess.run([sys.executable, "-c", TAGGING_REFUSED, str(tmp_path / "t.wav")], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.split() == [str(errno.EFBIG)], done.stderr