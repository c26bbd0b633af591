"""`voice-guide list` and `voice-guide show`, run through the real CLI entry point."""

from __future__ import annotations

import pytest

from voice_guide.cli import main
from voice_guide.commands.list import clock
from voice_guide.commands.show import spoken_duration
from voice_guide.content.loader import load_library
from voice_guide.wiring import Devices

NAMES = load_library().names()


@pytest.fixture(autouse=True)
def _private_home(guide_home):
    """Settings come from an empty home, so the default speaking rate is used."""
    return guide_home


def _no_voice(settings):
    raise AssertionError("list loaded a voice to list names")


def test_list_prints_one_line_per_item_in_menu_order_without_a_voice(capsys):
    assert main(["list"], devices=Devices(synthesizer=_no_voice)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == NAMES
    assert lines[0].split()[1] == "topic" and lines[0].endswith("safety")
    assert sum(line.endswith("safety") for line in lines) == 1
    by_name = {line.split()[0]: line for line in lines}
    assert "Gentle self massage" in by_name["self-massage"]
    assert by_name["self-massage"].split()[1] == "session"
    assert by_name["self-massage"].split()[-1] == "3:30"
    assert by_name["quiet-face"].split()[-1] == "10:00"
    assert by_name["muscle-by-muscle"].split()[-1] == "5:00"
    assert "\t" not in "".join(lines)
    topics = [line for line in lines if line.split()[1] == "topic"]
    assert topics and all(line.removesuffix("safety").split()[-2] == "about" for line in topics)
    assert not any(by_name[name].split()[-2] == "about" for name in ("self-massage", "quiet-face", "muscle-by-muscle"))


@pytest.mark.slow
def test_list_lengths_are_the_exported_lengths(spoken_home, tmp_path, capsys):
    """One computation for both: each listed length is its exported track's, to the second."""
    import soundfile

    names = ["what-not-to-do", "causes-and-prognosis", "self-massage"]
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", *names, "--format", "wav", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["list", "--exact"]) == 0
    listed = {line.split()[0]: line.split()[-1] for line in capsys.readouterr().out.splitlines()}
    library = load_library()
    for name in names:
        track = next(p for p in out.glob("*.wav") if library.get(name).title in p.name)
        assert listed[name] == clock(soundfile.info(str(track)).duration), name


def test_show_session_prints_words_and_silences(capsys):
    assert main(["show", "self-massage"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Gentle self massage"
    assert "a few drops of massage oil or gel" in out
    assert "(quiet for 12 seconds, between two soft chimes)" in lines
    fill_notes = [line for line in lines if "the rest of the planned time" in line]
    assert len(fill_notes) == 1 and fill_notes[0].startswith("(quiet for about ")
    assert lines[-1].startswith("Now slowly let your hands rest.")


def test_show_marks_the_halfway_of_the_quiet_sitting(capsys):
    assert main(["show", "quiet", "face"]) == 0
    out = capsys.readouterr().out
    assert "the rest of the planned time, between two soft chimes, with 'halfway' said in the middle" in out


def test_show_topic_prints_only_the_words(capsys):
    assert main(["show", "What to do"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "What to do"
    assert "prednisone" in out and "(" not in out


def test_show_unknown_name_exits_2_listing_every_name(capsys):
    assert main(["show", "exercises"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("voice-guide: There is no topic or session called 'exercises'")
    for name in NAMES:
        assert name in err


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (59.6, "1:00"), (210, "3:30"), (600, "10:00")])
def test_clock(seconds, text):
    assert clock(seconds) == text


@pytest.mark.parametrize("seconds, text", [
    (1, "1 second"), (45, "45 seconds"), (60, "1 minute"), (90, "1 minute 30 seconds"),
    (600, "10 minutes"), (121.4, "2 minutes 1 second"),
])
def test_spoken_duration(seconds, text):
    assert spoken_duration(seconds) == text


@pytest.mark.slow
def test_list_loads_no_voice_and_no_sound_maths(tmp_path):
    """What keeps `list` quick from cold: no synthesiser, and not even numpy, is loaded to list names
    (scripts print timings; tests do not)."""
    import os
    import subprocess
    import sys

    script = ("import sys, contextlib, io\nfrom voice_guide.cli import main\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['list']) == 0\n"
              "heavy = [m for m in ('numpy', 'onnxruntime', 'piper', 'voice_guide.speaking.render') if m in sys.modules]\n"
              "print(heavy)\n")
    env = dict(os.environ, VOICE_GUIDE_HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
