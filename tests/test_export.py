import errno
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from voice_guide import cli
from voice_guide.adapters.pydub_export import PydubEncoder, decode, read_tags
from voice_guide.commands.export import ConsoleProgress, sigterm_stops
from voice_guide.content.loader import library_from_items
from voice_guide.content.model import Item, Step
from voice_guide.engines import VoiceSettings
from voice_guide.errors import ExportError, UsageError
from voice_guide.export.writer import ALBUM, PLAYLIST, chapters_text, clock, export_library
from voice_guide.export.plan import plan_export, safe_name
from voice_guide.export.records import Records
from voice_guide.testing import FakeSynthesizer

ROOT = Path(__file__).resolve().parent.parent
VOICE = VoiceSettings(rate=300)
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory, monkeypatch):
    """The export records go to a data folder of their own, outside every export folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("VOICE_GUIDE_HOME", str(home))
    return home


def held_lock(folder):
    from filelock import FileLock

    lock = Records(folder).path.with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    held = FileLock(str(lock), thread_local=False)
    held.acquire()
    return held


def items():
    return [
        Item("safety", "Safety notice", "topic", (Step("Call for help now.", hold=0.5),), order=0, safety=True),
        Item("what-to-do", "What to do", "topic", (Step("See a doctor.", hold=0.5), Step("Rest.", hold=0.3)), order=1),
        Item("quiet", "Quiet face", "session",
             (Step("Sit quietly.", hold=4.5, cue=True), Step("Rest.", fill=True, cue=True, halfway=True),
              Step("Done.", hold=0.5)), order=2, length=16.0),
    ]


def library(changed=None):
    found = items()
    if changed:
        found = [changed if i.name == changed.name else i for i in found]
    return library_from_items((f"{i.kind}s/{i.name}.toml", i) for i in found)


def parts(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def audio_files(folder, fmt="wav"):
    return sorted(p.name for p in folder.iterdir() if p.suffix == f".{fmt}")


def run(out, fmt="wav", names=(), synth=None, voice=VOICE, lib=None, encoder=None, single_file=False, jobs=None,
        progress=None, **kw):
    """Plan the export as the command does, then make it."""
    encoder = encoder or PydubEncoder()
    plan = plan_export(lib or library(), list(names), out, fmt, voice, encoder, single_file, jobs)
    return export_library(plan, synth or FakeSynthesizer(), encoder, progress, **kw)


class Failing(PydubEncoder):
    """Writes part of track number `at`, then fails the way a full disk or a Ctrl-C does."""

    def __init__(self, at, error):
        self.at, self.error = at, error

    def encode(self, audio, path, fmt, tags, chapters=()):
        if tags.track == self.at:
            Path(path).write_bytes(b"RIFF half a file")
            raise self.error
        super().encode(audio, path, fmt, tags, chapters)


def test_exports_every_item_with_names_tags_durations_and_playlist(tmp_path):
    events = []
    result = run(tmp_path, progress=events.append)
    files = ["01 - Safety notice.wav", "02 - What to do.wav", "03 - Quiet face.wav"]
    assert audio_files(tmp_path) == files
    for n, name in enumerate(files, start=1):
        tags = read_tags(tmp_path / name)
        assert (tags["track"], tags["total"], tags["album"]) == (n, 3, ALBUM)
        assert tags["title"] == name[5:-4]
    session = decode(tmp_path / files[2])
    assert session.duration == pytest.approx(16.0, abs=0.002)
    assert [t.duration for t in result.tracks][2] == pytest.approx(16.0, abs=0.001)
    playlist = (tmp_path / PLAYLIST).read_text().splitlines()
    assert playlist[0] == "#EXTM3U"
    assert playlist[-2:] == ["#EXTINF:16,Quiet face", "03 - Quiet face.wav"]
    assert [line for line in playlist if not line.startswith("#")] == files
    assert [(e.kind, e.done, e.total) for e in events] == [("track", k, 3) for k in (1, 2, 3)]
    assert parts(tmp_path) == []
    assert oct((tmp_path / files[0]).stat().st_mode & 0o077) != "0o0"


@needs_ffmpeg
@pytest.mark.slow
def test_mp3_sessions_last_their_planned_time(tmp_path):
    result = run(tmp_path, fmt="mp3", names=["quiet", "safety"])
    assert [t.file for t in result.tracks] == ["01 - Safety notice.mp3", "03 - Quiet face.mp3"]
    back = decode(tmp_path / "03 - Quiet face.mp3")
    assert back.duration == pytest.approx(16.0, rel=0.02)
    assert abs(back.duration - 16.0) < 0.01
    assert read_tags(tmp_path / "03 - Quiet face.mp3")["track"] == 3


def test_second_export_skips_unchanged_tracks(tmp_path):
    run(tmp_path)
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir() if p.suffix == ".wav"}
    synth, events = FakeSynthesizer(), []
    result = run(tmp_path, synth=synth, progress=events.append)
    assert synth.calls == []
    assert len(result.skipped) == 3 and not result.written
    assert {e.kind for e in events} == {"skip"}
    assert stamps == {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir() if p.suffix == ".wav"}
    assert (tmp_path / PLAYLIST).read_text().count(".wav") == 3


def test_changed_settings_re_render_everything(tmp_path):
    run(tmp_path)
    result = run(tmp_path, voice=VoiceSettings(rate=200))
    assert len(result.written) == 3
    assert decode(tmp_path / "03 - Quiet face.wav").duration == pytest.approx(16.0, abs=0.002)


def test_changed_or_missing_items_are_re_rendered_alone(tmp_path):
    run(tmp_path)
    (tmp_path / "01 - Safety notice.wav").unlink()
    edited = replace(items()[1], steps=(Step("See a doctor today.", hold=0.5),))
    result = run(tmp_path, lib=library(edited))
    assert [t.file for t in result.written] == ["01 - Safety notice.wav", "02 - What to do.wav"]


def test_renamed_title_replaces_the_old_file(tmp_path):
    run(tmp_path)
    run(tmp_path, lib=library(replace(items()[1], title="What you can do")))
    assert audio_files(tmp_path) == ["01 - Safety notice.wav", "02 - What you can do.wav", "03 - Quiet face.wav"]


def test_unknown_name_lists_valid_names_and_writes_nothing(tmp_path):
    with pytest.raises(UsageError, match="choose one of: safety, what-to-do, quiet"):
        run(tmp_path, names=["quiet", "nope"])
    assert list(tmp_path.iterdir()) == []


def test_cli_unknown_name_exits_2_with_the_names(tmp_path, capsys, guide_home):
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["export", "safety-notice", "no-such-thing", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no-such-thing" in err and "safety-notice, what-is-facial-palsy" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("where, message", [
    ("missing/deeper", "does not exist; create it"),
    ("a-file", "is a file, not a folder"),
])
def test_cli_bad_folder_is_one_sentence(tmp_path, capsys, guide_home, where, message):
    (tmp_path / "a-file").write_text("x")
    assert cli.main(["export", "safety-notice", "--out", str(tmp_path / where)]) == ExportError.exit_code
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0 and "Traceback" not in err


def test_unwritable_folder_is_refused_before_rendering(tmp_path, monkeypatch):
    # Tests run as root, which may write anywhere: os.access is what the check asks, so it is what
    # this test answers.
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == tmp_path else real(p, mode, **kw))
    synth = FakeSynthesizer()
    with pytest.raises(ExportError, match="cannot be written to; choose a folder you own"):
        run(tmp_path, synth=synth)
    assert synth.calls == [] and list(tmp_path.iterdir()) == []


def test_permission_refused_mid_write_is_one_sentence(tmp_path):
    with pytest.raises(ExportError, match="cannot be written to .*Permission denied"):
        run(tmp_path, encoder=Failing(2, PermissionError(errno.EACCES, "Permission denied")))
    assert parts(tmp_path) == []


def test_disk_full_leaves_no_partial_file_and_rerun_finishes(tmp_path):
    with pytest.raises(ExportError, match="The disk is full, so .*What to do.*free some space"):
        run(tmp_path, encoder=Failing(2, OSError(errno.ENOSPC, "No space left on device", "x.wav")))
    assert parts(tmp_path) == []
    assert audio_files(tmp_path) == ["01 - Safety notice.wav"]
    result = run(tmp_path)
    assert [t.file for t in result.skipped] == ["01 - Safety notice.wav"]
    assert len(result.written) == 2


def test_ctrl_c_leaves_no_partial_file_and_rerun_finishes(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, encoder=Failing(3, KeyboardInterrupt()))
    assert parts(tmp_path) == []
    assert audio_files(tmp_path) == ["01 - Safety notice.wav", "02 - What to do.wav"]
    result = run(tmp_path)
    assert [t.file for t in result.written] == ["03 - Quiet face.wav"]


class Overlapping(FakeSynthesizer):
    """Counts how many sentences are rendered at once; each waits (up to 10 s) until `expect` are."""

    def __init__(self, expect):
        super().__init__()
        self.expect, self.changed, self.now, self.most = expect, threading.Condition(), 0, 0

    def synthesize(self, text, settings):
        with self.changed:
            self.now += 1
            self.most = max(self.most, self.now)
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.most >= self.expect, timeout=10)
        try:
            return super().synthesize(text, settings)
        finally:
            with self.changed:
                self.now -= 1


@pytest.mark.parametrize("jobs", [1, 3])
def test_jobs_render_tracks_at_once_and_write_the_same_files(tmp_path, jobs):
    one = tmp_path / "one"
    one.mkdir()
    run(one, jobs=1)
    out = tmp_path / "many"
    out.mkdir()
    synth = Overlapping(expect=jobs)
    events = []
    result = run(out, synth=synth, jobs=jobs, progress=events.append)
    assert synth.most == jobs
    assert [e.done for e in events] == [1, 2, 3] and [t.number for t in result.tracks] == [1, 2, 3]
    assert audio_files(out) == audio_files(one)
    for name in audio_files(one):
        assert (out / name).read_bytes() == (one / name).read_bytes()
    assert len(run(out, jobs=jobs).skipped) == 3


def test_cli_jobs_must_be_a_small_whole_number(tmp_path, capsys):
    for bad in ("0", "many", "99"):
        with pytest.raises(SystemExit) as stop:
            cli.main(["export", "--out", str(tmp_path), "--jobs", bad])
        assert stop.value.code == 2 and "--jobs takes a whole number from 1 to" in capsys.readouterr().err


@pytest.mark.slow
def test_sigterm_mid_export_removes_the_partial_file(tmp_path):
    """A real SIGTERM to a real exporting process: it stops at once, and the file being written
    (in the export's scratch folder) disappears; nothing is left in the output folder."""
    out = tmp_path / "out"
    out.mkdir()
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_export import run, PydubEncoder
        from voice_guide.commands.export import sigterm_stops

        class Slow(PydubEncoder):
            def encode(self, audio, path, fmt, tags, chapters=()):
                Path(path).write_bytes(b"partial")
                sys.stdout.write(str(path) + "\\n")  # one write: two tracks are made at once
                sys.stdout.flush()
                time.sleep(30)

        with sigterm_stops():
            try:
                run(Path({str(out)!r}), encoder=Slow())
            except KeyboardInterrupt:
                print("stopped", flush=True)
                sys.exit(130)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        writing = Path(proc.stdout.readline().strip())
        assert writing.is_file() and out not in writing.parents
        proc.terminate()
        assert proc.wait(timeout=20) == 130
    finally:
        proc.kill()
    assert "stopped" in proc.stdout.read().split()
    assert not writing.exists() and not writing.parent.exists()
    assert parts(out) == [] and audio_files(out) == []


def test_sigterm_handler_is_restored():
    import signal

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with sigterm_stops():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(200):  # the handler runs between bytecodes, well within this
                time.sleep(0.01)
    assert signal.getsignal(signal.SIGTERM) == before


def test_leftovers_of_a_killed_export_are_cleaned(tmp_path):
    stale = tmp_path / ".02 - What to do.wav.abc123.part"
    stale.write_bytes(b"half")
    other = tmp_path / ".someone-else.part"
    other.write_bytes(b"not ours")
    run(tmp_path)
    assert not stale.exists() and other.exists()


@pytest.mark.slow
def test_second_export_into_a_busy_folder_waits_then_says_so(tmp_path):
    events = []
    held = held_lock(tmp_path)
    with pytest.raises(ExportError, match="Another export is still writing into"):
        run(tmp_path, lock_wait=0.3, progress=events.append)
    held.release()
    assert events[0].kind == "wait" and "waiting" in events[0].message
    assert audio_files(tmp_path) == []


@pytest.mark.slow
def test_second_export_runs_once_the_first_finishes(tmp_path):
    held = held_lock(tmp_path)
    timer = threading.Timer(0.4, held.release)
    timer.start()
    result = run(tmp_path, lock_wait=10)
    timer.join()
    assert len(result.written) == 3


@pytest.mark.parametrize("title, expected", [
    ("What to do", "What to do"),
    ("Safety notice: Help", "Safety notice - Help"),
    ("../../etc/passwd", "etc passwd"),
    ("a/b\\c\x00d\ne", "a b c d e"),
    ("..", "fallback"),
    ("Is it Bell's palsy?", "Is it Bell's palsy"),
    ("x" * 200, "x" * 80),
])
def test_safe_names(title, expected):
    assert safe_name(title, "fallback") == expected


def test_names_from_content_never_escape_the_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    evil = Item("evil", "../../escaped/..", "topic", (Step("Hello.", hold=0.2),), order=5)
    lib = library_from_items([("topics/evil.toml", evil)])
    result = run(out, lib=lib)
    assert [t.file for t in result.tracks] == ["01 - escaped.wav"]
    assert sorted(p.name for p in tmp_path.rglob("*.wav")) == ["01 - escaped.wav"]
    assert (out / "01 - escaped.wav").is_file()


def test_single_file_has_chapters_and_a_chapter_list(tmp_path):
    result = run(tmp_path, single_file=True)
    assert [t.file for t in result.tracks] == ["voice-guide.wav"]
    tags = read_tags(tmp_path / "voice-guide.wav")
    assert tags["chapters"] == ["Safety notice", "What to do", "Quiet face"]
    listing = (tmp_path / "voice-guide.chapters.txt").read_text().splitlines()
    assert listing[0] == "00:00:00.000 Safety notice" and len(listing) == 3
    assert audio_files(tmp_path) == ["voice-guide.wav"]
    assert decode(tmp_path / "voice-guide.wav").duration > 16.0 + 2 * 2.0
    (tmp_path / "voice-guide.chapters.txt").write_text("stale")
    assert len(run(tmp_path, single_file=True).skipped) == 1
    assert (tmp_path / "voice-guide.chapters.txt").read_text().splitlines() == listing


def test_clock_and_chapter_text():
    from voice_guide.export.tracks import Chapter

    assert [clock(s) for s in (0, 59.6, 161, 3725)] == ["0:00", "1:00", "2:41", "1:02:05"]
    assert chapters_text([Chapter("A", 0, 1), Chapter("B", 3661.25, 4000)]) == "00:00:00.000 A\n01:01:01.250 B\n"


def test_plain_progress_lines_when_not_a_terminal(tmp_path, capsys):
    progress = ConsoleProgress(sys.stderr)
    result = run(tmp_path, progress=progress)
    progress.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"{100 * k // 3}% Exported {k} of 3: {t.title} ({clock(t.duration)})"
                     for k, t in enumerate(result.tracks, 1)]
    assert lines[2] == "100% Exported 3 of 3: Quiet face (0:16)"
    progress = ConsoleProgress(sys.stderr)
    run(tmp_path, progress=progress)
    assert capsys.readouterr().err.splitlines()[0] == "33% Skipped 1 of 3 (unchanged): Safety notice (0:03)"


@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("ffmpeg") is None,
                    reason="espeak-ng and ffmpeg needed")
@pytest.mark.slow
def test_cli_real_export_with_the_real_voice(tmp_path, capsys, guide_home):
    from voice_guide.settings import Settings, save

    save(Settings(synthesizer="espeak-ng"))
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["export", "safety-notice", "self massage", "--out", str(out), "--format", "mp3"]) == 0
    captured = capsys.readouterr()
    assert "Wrote 2 files" in captured.out
    assert "Exported 2 of 2: Gentle self massage" in captured.err
    files = audio_files(out, "mp3")
    assert files[0] == "01 - Safety notice.mp3" and len(files) == 2
    from voice_guide.content.loader import load_library

    planned = load_library().get("self-massage").length
    assert decode(out / files[1]).duration == pytest.approx(planned, rel=0.02)
    safety = decode(out / files[0])
    assert safety.duration > 10
    assert read_tags(out / files[0])["title"] == "Safety notice"
    assert cli.main(["export", "safety-notice", "self-massage", "--out", str(out), "--format", "mp3"]) == 0
    assert "skipped 2 unchanged" in capsys.readouterr().out


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    stream = Terminal()
    progress = ConsoleProgress(stream)
    run(tmp_path, progress=progress)
    assert progress.bar is not None and progress.bar.n == 3
    progress.close()
    assert "3/3" in stream.getvalue() and "Exported" not in stream.getvalue()


@pytest.mark.parametrize("setting", ["--plain", "NO_COLOR", "TERM=dumb"])
def test_plain_progress_on_a_terminal_when_asked(tmp_path, monkeypatch, setting):
    """A screen reader user asks for plain lines: no block characters, percentages instead."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    if setting == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    elif setting == "TERM=dumb":
        monkeypatch.setenv("TERM", "dumb")
    stream = Terminal()
    progress = ConsoleProgress(stream, plain=setting == "--plain")
    run(tmp_path, progress=progress)
    progress.close()
    assert progress.bar is None
    lines = stream.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["33%", "66%", "100%"]
    assert all(ord(c) < 0x2500 for c in stream.getvalue())


def test_cli_export_takes_plain(tmp_path, guide_home, capsys):
    from voice_guide.testing import FakeEncoder
    from voice_guide.wiring import Devices

    devices = Devices(synthesizer=lambda settings: FakeSynthesizer(), encoder=FakeEncoder)
    assert cli.main(["export", "safety-notice", "--plain", "--out", str(tmp_path), "--format", "wav"],
                    devices=devices) == 0
    assert capsys.readouterr().err.splitlines()[-1].startswith("100% Exported 1 of 1: ")


def test_cli_ffmpeg_missing_is_one_sentence_and_no_file(tmp_path, capsys, guide_home, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["export", "--out", str(out), "--format", "m4a"]) == ExportError.exit_code
    err = capsys.readouterr().err.strip()
    assert "ffmpeg is needed" in err and "scripts/setup.sh" in err and "\n" not in err
    assert list(out.iterdir()) == []


def test_a_damaged_track_is_made_again(tmp_path):
    run(tmp_path)
    track = tmp_path / "02 - What to do.wav"
    track.write_bytes(track.read_bytes()[:1000])
    result = run(tmp_path)
    assert [t.file for t in result.written] == ["02 - What to do.wav"]
    assert decode(track).duration > 1.0


def test_a_corrupt_manifest_leaves_the_tracks_it_no_longer_knows_alone(tmp_path):
    """Without its record the guide cannot tell its tracks from a person's files of the same names:
    they are left alone and named; once moved away, everything is made again."""
    run(tmp_path)
    Records(tmp_path).path.write_text("{not json")
    result = run(tmp_path)
    assert result.written == [] and len(result.in_the_way) == 3
    for track in audio_files(tmp_path):
        (tmp_path / track).unlink()
    assert len(run(tmp_path).written) == 3


@pytest.mark.skipif(os.geteuid() != 0 or sys.platform != "linux", reason="mounting a tmpfs needs root")
def test_a_really_full_disk(tmp_path):
    """A real ENOSPC from a tiny tmpfs, where the machine allows mounting one."""
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(small)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with pytest.raises(ExportError, match="The disk is full, so 03 - Quiet face.wav could not be written"):
            run(small)
        assert parts(small) == []
        assert audio_files(small) == ["01 - Safety notice.wav", "02 - What to do.wav"]
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_cli_missing_espeak_is_one_sentence_and_no_file(tmp_path, capsys, guide_home, monkeypatch):
    from voice_guide.settings import Settings, save

    save(Settings(synthesizer="espeak-ng"))
    programs = tmp_path / "bin"
    programs.mkdir()
    if shutil.which("ffmpeg"):
        (programs / "ffmpeg").symlink_to(shutil.which("ffmpeg"))
    monkeypatch.setenv("PATH", str(programs))  # ffmpeg, when there is one, but no espeak-ng
    out = tmp_path / "out"
    out.mkdir()
    code = cli.main(["export", "safety-notice", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "espeak-ng is not installed" in err and "\n" not in err
    assert list(out.iterdir()) == []


def test_cli_bad_rate_is_a_usage_error(tmp_path, capsys, guide_home):
    assert cli.main(["export", "--out", str(tmp_path), "--rate", "20"]) == 2
    assert "rate must be 80 to 300" in capsys.readouterr().err


def test_default_folder_is_audio_exports_when_present(tmp_path, monkeypatch):
    from voice_guide.export.plan import default_out_dir

    monkeypatch.chdir(tmp_path)
    (tmp_path / "audio" / "exports").mkdir(parents=True)
    assert default_out_dir() == Path("audio") / "exports"


def test_default_folder_is_music_voice_guide_elsewhere(tmp_path, monkeypatch):
    import platformdirs

    from voice_guide.export.plan import default_out_dir

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(platformdirs, "user_music_dir", lambda: str(tmp_path / "Music"))
    assert default_out_dir() == tmp_path / "Music" / "voice-guide"
    assert (tmp_path / "Music" / "voice-guide").is_dir()


def test_an_unknown_name_makes_no_default_folder(tmp_path, monkeypatch, capsys, guide_home):
    import platformdirs

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(platformdirs, "user_music_dir", lambda: str(tmp_path / "Music"))
    assert cli.main(["export", "no-such-thing"]) == 2
    assert "no-such-thing" in capsys.readouterr().err and not (tmp_path / "Music").exists()


# ---- issue 10: hostile records, corrupted tracks, the playlist; bookkeeping out of the folder --------

def test_the_folder_holds_only_tracks_and_the_playlist(tmp_path, private_home):
    run(tmp_path)
    run(tmp_path, single_file=True)
    assert sorted(os.listdir(tmp_path)) == ["01 - Safety notice.wav", "02 - What to do.wav", "03 - Quiet face.wav",
                                            "voice-guide.chapters.txt", "voice-guide.m3u", "voice-guide.wav"]
    kept = sorted(p.name for p in (private_home / "data" / "exports").iterdir())
    assert kept == [Records(tmp_path).path.name]  # the record; the lock is gone once released


def test_an_old_record_in_the_folder_is_removed_and_never_trusted(tmp_path):
    out, victims = tmp_path / "out", tmp_path / "v"
    out.mkdir()
    victims.mkdir()
    for name in ("precious.wav", "other.wav"):
        (victims / name).write_bytes(b"keep me")
    entry = {"key": "x", "names": ["what-to-do"], "size": 7}
    old = {"format": "voice-guide-export", "version": 1,
           "tracks": {str(victims / "precious.wav"): entry, "../v/other.wav": entry}}
    (out / ".voice-guide-export.json").write_text(json.dumps(old))
    (out / ".voice-guide-export.lock").write_bytes(b"")
    run(out, names=["what-to-do"])
    assert sorted(p.name for p in victims.iterdir()) == ["other.wav", "precious.wav"]
    assert sorted(os.listdir(out)) == ["02 - What to do.wav", "voice-guide.m3u"]


def test_a_tampered_record_deletes_only_what_the_guide_wrote(tmp_path):
    out, victims = tmp_path / "out", tmp_path / "v"
    out.mkdir()
    victims.mkdir()
    run(out, names=["what-to-do"])
    (victims / "precious.wav").write_bytes(b"keep me")
    (out / "mine.wav").write_bytes(b"the user's own file")
    records = Records(out)
    entry = dict(records.tracks["02 - What to do.wav"], size=7)
    records.tracks.update({str(victims / "precious.wav"): entry, "../v/precious.wav": entry,
                           "mine.wav": dict(entry, size=19)})
    records.save()
    run(out, names=["what-to-do"], lib=library(replace(items()[1], title="What you can do")))
    assert (victims / "precious.wav").read_bytes() == b"keep me"
    assert (out / "mine.wav").read_bytes() == b"the user's own file"
    assert audio_files(out) == ["02 - What you can do.wav", "mine.wav"]


def test_a_linked_lock_makes_no_file_at_its_target(tmp_path):
    out, target = tmp_path / "out", tmp_path / "target"
    out.mkdir()
    lock = Records(out).path.with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.symlink_to(target)
    (out / ".voice-guide-export.lock").symlink_to(tmp_path / "target2")
    run(out, names=["safety"])
    assert not target.exists() and not (tmp_path / "target2").exists()
    assert sorted(os.listdir(out)) == ["01 - Safety notice.wav", "voice-guide.m3u"]


def test_a_corrupted_track_of_the_same_size_is_made_again(tmp_path):
    run(tmp_path)
    track = tmp_path / "02 - What to do.wav"
    data = bytearray(track.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = os.urandom(2000)
    track.write_bytes(bytes(data))
    result = run(tmp_path)
    assert [t.file for t in result.written] == ["02 - What to do.wav"]
    assert track.read_bytes() != bytes(data)


def _listed(folder):
    return [line for line in (folder / PLAYLIST).read_text().splitlines() if not line.startswith("#")]


def test_the_playlist_keeps_every_track_of_the_folder_in_library_order(tmp_path):
    run(tmp_path, names=["quiet", "safety"])
    run(tmp_path, names=["what-to-do"])
    assert _listed(tmp_path) == ["01 - Safety notice.wav", "02 - What to do.wav", "03 - Quiet face.wav"]
    (tmp_path / "01 - Safety notice.wav").unlink()  # the user removed one: it is no longer listed
    run(tmp_path, names=["quiet"])
    assert _listed(tmp_path) == ["02 - What to do.wav", "03 - Quiet face.wav"]


@needs_ffmpeg
@pytest.mark.slow
def test_three_exports_at_once_in_three_formats_keep_a_whole_playlist(tmp_path):
    errors = []

    def export(fmt):
        try:
            run(tmp_path, fmt=fmt, names=["safety", "what-to-do"])
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=export, args=(fmt,)) for fmt in ("wav", "mp3", "ogg")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _listed(tmp_path) == ["01 - Safety notice.mp3", "01 - Safety notice.ogg", "01 - Safety notice.wav",
                                 "02 - What to do.mp3", "02 - What to do.ogg", "02 - What to do.wav"]


def test_a_data_folder_that_cannot_be_written_is_one_sentence(tmp_path, private_home):
    (private_home / "data").write_text("a file where the data folder should be")
    with pytest.raises(ExportError, match="The record of what was exported could not be written in"):
        run(tmp_path)
    assert parts(tmp_path) == [] and audio_files(tmp_path) == []


# ---- issue 17: export never replaces or deletes a file it did not write --------------------------

def test_a_persons_own_track_and_playlist_are_left_alone_and_the_rest_is_written(tmp_path):
    (tmp_path / "01 - Safety notice.wav").write_bytes(b"my own recording")
    (tmp_path / PLAYLIST).write_text("#EXTM3U\nmy-song.mp3\n")
    events = []
    result = run(tmp_path, progress=events.append)
    assert (tmp_path / "01 - Safety notice.wav").read_bytes() == b"my own recording"
    assert (tmp_path / PLAYLIST).read_text() == "#EXTM3U\nmy-song.mp3\n"
    assert result.in_the_way == ("01 - Safety notice.wav", PLAYLIST) and result.playlist is None
    assert [t.file for t in result.written] == ["02 - What to do.wav", "03 - Quiet face.wav"]
    said = [e.message for e in events if e.kind == "in the way"]
    assert said[0].startswith("01 - Safety notice.wav in ") and "left as it is" in said[0]
    assert "the playlist is not written" in said[1]
    assert run(tmp_path).in_the_way == ("01 - Safety notice.wav", PLAYLIST)  # and so on every time


def test_a_persons_own_files_with_the_old_bookkeeping_names_are_kept(tmp_path):
    (tmp_path / ".voice-guide-export.json").write_text("my notes")
    (tmp_path / ".voice-guide-export.lock").write_text("my lock")
    run(tmp_path, names=["safety"])
    assert (tmp_path / ".voice-guide-export.json").read_text() == "my notes"
    assert (tmp_path / ".voice-guide-export.lock").read_text() == "my lock"


def test_a_persons_own_chapter_list_is_left_alone(tmp_path):
    (tmp_path / "voice-guide.chapters.txt").write_text("my chapters\n")
    result = run(tmp_path, single_file=True)
    assert (tmp_path / "voice-guide.chapters.txt").read_text() == "my chapters\n"
    assert result.in_the_way == ("voice-guide.chapters.txt",) and len(result.written) == 1


def test_two_data_folders_keep_each_others_tracks_and_playlist_entries(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    out = tmp_path / "out"
    out.mkdir()
    run(out, names=["safety", "quiet"], records_dir=first)
    before = (out / "01 - Safety notice.wav").read_bytes()
    result = run(out, names=["safety", "what-to-do"], voice=VoiceSettings(rate=200), records_dir=second)
    assert result.in_the_way == ("01 - Safety notice.wav",)
    assert (out / "01 - Safety notice.wav").read_bytes() == before
    assert _listed(out) == ["01 - Safety notice.wav", "02 - What to do.wav", "03 - Quiet face.wav"]
    run(out, names=["quiet"], records_dir=first)
    assert _listed(out) == ["01 - Safety notice.wav", "02 - What to do.wav", "03 - Quiet face.wav"]


def test_cli_says_which_file_is_in_the_way_and_exits_5(tmp_path, capsys, guide_home):
    (tmp_path / "01 - Safety notice.wav").write_bytes(b"mine")
    assert cli.main(["export", "safety-notice", "--format", "wav", "--out", str(tmp_path)]) == 5
    captured = capsys.readouterr()
    assert "voice-guide: 01 - Safety notice.wav in " in captured.err
    assert "left 1 in the way (01 - Safety notice.wav)" in captured.out
    assert (tmp_path / "01 - Safety notice.wav").read_bytes() == b"mine"
