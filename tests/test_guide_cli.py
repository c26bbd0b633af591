"""`voice-guide` and `voice-guide read NAME`: argument errors, runs driven by `--input` recordings,
saved progress offered after a restart, settings remembered."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from functools import lru_cache

import pytest
import soundfile

from voice_guide import cli, progress
from voice_guide import settings as settings_mod
from voice_guide.audio import SPEECH_RATE, Audio, add_noise_floor
from voice_guide.commands import guide
from voice_guide.content.loader import Library, load_library
from voice_guide.content.model import Item, Step
from voice_guide.errors import DeviceError
from voice_guide.testing import ClockAudioOut, FakeClock, FakeSynthesizer, ScriptedRecognizer
from voice_guide.speaking.text_only import NO_SOUND
from voice_guide.wiring import Engines

REST = Item(
    name="short-rest", title="Short rest", kind="session", length=30.0, aliases=("rest",), order=2,
    steps=(Step("Sit comfortably.", hold=3.0, label="settle"), Step("Let your face rest.", fill=True),
           Step("Open your eyes.", label="end")),
)
TIP = Item(name="tip", title="A tip", kind="topic", order=1, steps=(Step("Rest your eyes."), Step("Drink water.")))
LIBRARY = Library((TIP, REST))


@lru_cache(maxsize=32)
def _espeak(text: str, voice: str, speed: int) -> bytes:
    return subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
                          check=True, capture_output=True).stdout


def record(tmp_path, words, voices=(("en-us", 140), ("en", 120), ("en-gb-x-rp", 160))) -> list[str]:
    """WAV files of espeak-ng saying `words` (several voices and rates, faint noise, 16 kHz)."""
    files = []
    for i, word in enumerate(words):
        voice, speed = voices[i % len(voices)]
        samples, rate = soundfile.read(io.BytesIO(_espeak(word, voice, speed)), dtype="float32")
        audio = add_noise_floor(Audio(samples, rate).resample(SPEECH_RATE), -58.0, seed=i)
        path = tmp_path / f"{i:02d}-{word.replace(' ', '-')}.wav"
        soundfile.write(path, audio.samples, SPEECH_RATE)
        files.append(str(path))
    return files


def engines(script: list[str]) -> tuple[Engines, ScriptedRecognizer, ClockAudioOut]:
    from voice_guide.understanding.vocabulary import build_vocabulary
    from voice_guide.understanding.understand import Understander

    clock = FakeClock(0.0)
    recognizer = ScriptedRecognizer(script)
    out = ClockAudioOut(clock)
    ears = Understander(recognizer, build_vocabulary(LIBRARY.items))
    return Engines(FakeSynthesizer(), out, clock, None, ears, None, None, []), recognizer, out


def args(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(list(argv))


def test_unknown_name_lists_the_names(guide_home, capsys):
    assert cli.main(["read", "no-such-thing"]) == 2
    err = capsys.readouterr().err
    assert "There is no topic or session called 'no-such-thing'" in err and "quiet-face" in err


def test_bad_rate_is_a_usage_error(guide_home, capsys):
    assert cli.main(["read", "quiet-face", "--rate", "500", "--no-listen"]) == 2
    assert "rate must be 80 to 300" in capsys.readouterr().err


def test_no_command_means_the_spoken_menu():
    parsed = cli.build_parser().parse_args(["guide", "--input", "a.wav"])
    assert parsed.func is guide.run and parsed.name is None and parsed.input == ["a.wav"]


def test_unreadable_input_file_is_a_clear_error(guide_home, tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nonsense")
    assert cli.main(["read", "quiet-face", "--input", str(bad)]) == 6
    assert "bad.wav" in capsys.readouterr().err


def test_read_a_session_from_recordings_to_its_end(guide_home, tmp_path, capsys):
    words = ["pause", "resume", "slower", "next"]
    fakes, recognizer, _ = engines(words)
    code = guide.run(args("read", "short-rest", "--input", *record(tmp_path, words)), fakes, LIBRARY)
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert len(recognizer.decoded) == len(words)
    assert out[0] == "Short rest" and out[-1] == "That was Short rest. Goodbye."
    assert "Paused. Say go, or keep going, to go on, or stop to finish." in out and "Slower." in out
    assert settings_mod.load().rate == 130  # 'slower' is remembered
    assert progress.load().progress is None  # finished: nothing to resume


def test_the_place_is_offered_after_a_restart(guide_home, tmp_path, capsys):
    progress.save(progress.Progress("short-rest", 1))
    words = ["yes", "next"]
    fakes, _, _ = engines(words)
    assert guide.run(args("guide", "--input", *record(tmp_path, words)), fakes, LIBRARY) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Hello, this is voice guide."
    assert out[1].startswith("Last time you were at step 2 of 3 of Short rest.")
    assert out[2] == "Let your face rest." and "Open your eyes." in out
    assert "Sit comfortably." not in out


def test_saying_no_to_the_offer_starts_from_the_menu(guide_home, tmp_path, capsys):
    progress.save(progress.Progress("short-rest", 1))
    fakes, _, _ = engines(["no"])
    assert guide.run(args("guide", "--input", *record(tmp_path, ["no"])), fakes, LIBRARY) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2] == "Say a topic or a session, or say list to hear them all."
    assert progress.load().progress is None


def test_a_corrupt_saved_place_is_told_once_and_kept_aside(guide_home, tmp_path, capsys):
    path = progress.progress_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"format": "voice-guide-progress", "vers')
    fakes, _, _ = engines([])
    assert guide.run(args("guide", "--no-listen"), fakes, LIBRARY) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Your saved place could not be used") and len(list(path.parent.glob("*.bad-*"))) == 1
    fakes, _, _ = engines([])
    guide.run(args("guide", "--no-listen"), fakes, LIBRARY)
    assert not any("saved place" in line for line in capsys.readouterr().out.splitlines())


def test_read_with_no_speaker_runs_as_text(guide_home, capsys):
    """No speaker is not an error: the guide says so in one printed sentence, prints every sentence
    at its pace on the clock and exits 0."""
    class NoSpeaker:
        def play(self, audio):
            raise DeviceError("No speaker or sound output was found.")

    fakes, _, _ = engines([])
    fakes.audio_out = NoSpeaker()
    assert guide.run(args("read", "tip", "--no-listen"), fakes, LIBRARY) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [NO_SOUND, "A tip", "Rest your eyes.", "Drink water.", "That was A tip. Goodbye."]
    spoken = sum(len(line.split()) * 60 / 150 for line in out[1:])
    assert fakes.clock.now() >= spoken  # timed as if heard, not rushed through


@pytest.mark.slow
def test_read_on_a_machine_with_no_sound_device(tmp_path):
    """The installed command, no sound server, and an output device that was set once and is gone:
    the text, and exit 0."""
    home = tmp_path / "home"
    env = dict(os.environ, VOICE_GUIDE_HOME=str(home), PULSE_SERVER="unix:/nonexistent/native")
    settings_mod.save(settings_mod.Settings(output_device="a speaker unplugged since", synthesizer="piper"),
                      home / "config" / "settings.json")
    proc = subprocess.run([sys.executable, "-m", "voice_guide", "read", "safety-notice", "--no-listen",
                           "--rate", "300"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == NO_SOUND and lines[1] == "Safety notice"
    assert "Call emergency services now." in proc.stdout and lines[-1] == "That was Safety notice. Goodbye."
    assert "ALSA" not in proc.stdout + proc.stderr


def test_keys_reach_item_11_from_the_menu(guide_home, capsys):
    """The real library: '1' then '1' opens the eleventh item, not the first."""
    from voice_guide.testing import TimedKeys

    library = load_library()
    clock = FakeClock(0.0)
    keys = TimedKeys(clock, [(30.0, "1"), (30.4, "1"), (60.0, "q")])
    fakes = Engines(FakeSynthesizer(), ClockAudioOut(clock), clock, None, None, None, keys, [])
    assert guide.run(args("guide", "--no-listen"), fakes, library) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "Goodbye. Your place is saved."
    assert "Gentle self massage" in out and "Safety notice" not in out
    assert progress.load().progress.item == "self-massage"


def test_the_safety_line_is_said_at_the_first_start_only(guide_home, capsys):
    from voice_guide.testing import TimedKeys

    library = load_library()
    safety = library.get("safety-notice").summary
    for expected in ([safety], []):
        clock = FakeClock(0.0)
        fakes = Engines(FakeSynthesizer(), ClockAudioOut(clock), clock, None, None, None,
                              TimedKeys(clock, [(40.0, "q")]), [])
        assert guide.run(args("guide", "--no-listen"), fakes, library) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0] == "Hello, this is voice guide." and [line for line in out if line == safety] == expected


@pytest.mark.slow
def test_input_speech_reaches_item_10_from_the_menu(guide_home, tmp_path, capsys):
    """The real library and the real built-in recogniser: a recording of "muscle by muscle" opens
    the tenth item; "wait" then pauses it there."""
    from voice_guide.understanding.vocabulary import build_vocabulary
    from voice_guide.engine_table import open_recognizer
    from voice_guide.understanding.understand import Understander

    library = load_library()
    vocab = build_vocabulary(library.items)
    recognizer = open_recognizer(settings_mod.Settings(recogniser="pocketsphinx"), vocab.phrases(),
                                 vocab.non_commands(grammar_safe=True))
    clock = FakeClock(0.0)
    fakes = Engines(FakeSynthesizer(), ClockAudioOut(clock), clock, None,
                          Understander(recognizer, vocab), None, None, [])
    files = record(tmp_path, ["muscle by muscle", "wait"], voices=(("en-us", 130),))
    assert guide.run(args("guide", "--input", *files), fakes, library) == 0
    out = capsys.readouterr().out.splitlines()
    assert library.items[9].name == "muscle-by-muscle"
    assert library.items[9].title in out and out[-1].startswith("Paused.")
    assert progress.load().progress.item == "muscle-by-muscle"


def test_doctor_says_no_speaker_is_not_an_error():
    from voice_guide.commands.doctor import check_devices

    check = check_devices(settings_mod.Settings(), devices=lambda: ([], []))
    assert check.ok and "print what it would say" in check.detail
    mic_only = check_devices(settings_mod.Settings(), devices=lambda: (["mic"], ["speaker"]))
    assert mic_only.ok and mic_only.detail == "1 output(s), 1 microphone(s)"
