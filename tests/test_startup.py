"""Starting fast and quietly: engines that load in the background, a speaker that may be missing,
and the sound libraries' own messages kept off the screen."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from voice_guide.audio import tone
from voice_guide.background import Deferred, LoadingRecognizer, LoadingScorer
from voice_guide.engines import Hypothesis
from voice_guide.errors import DeviceError, EngineError
from voice_guide.session.machine import Session
from voice_guide.session.events import Notice
from voice_guide.testing import FakeClock, MemoryAudioOut, ScriptedRecognizer
from voice_guide.speaking.text_only import NO_SOUND, SpeakerOrText


def test_deferred_makes_its_value_in_the_background_and_only_once_started():
    gate = threading.Event()
    made = []
    later = Deferred(lambda: made.append(1) or gate.wait(5) and "value", start=False)
    assert not later.ready() and made == []
    later.start()
    later.start()  # idempotent
    gate.set()
    assert later.get(5) == "value" and made == [1] and later.ready()


def test_deferred_hands_its_error_to_whoever_asks():
    def fail():
        raise EngineError("no engine")

    with pytest.raises(EngineError, match="no engine"):
        Deferred(fail).get(5)


def test_a_stop_that_was_lost_still_ends_a_wait_for_a_load_that_never_finishes():
    """A stop's KeyboardInterrupt can be lost (raised inside an import that then holds the import lock
    for ever, so a loader never finishes): waiting for the load still ends at the stop."""
    from voice_guide import fileio
    from voice_guide.commands.export import sigterm_stops

    gate = threading.Event()
    never = Deferred(lambda: gate.wait(10))
    try:
        with sigterm_stops():
            assert not fileio.defer_stop()  # what the signal handler asks first: the stop is noted
            with pytest.raises(KeyboardInterrupt):
                never.get()
        fileio.check_stop()  # a new run starts without it
    finally:
        gate.set()


def test_a_recogniser_that_cannot_load_is_said_once_and_hears_nothing():
    told = []

    def broken():
        raise EngineError("The recogniser could not be loaded.")

    rec = LoadingRecognizer(broken, lambda text, deaf: told.append((text, deaf)))
    audio = tone(200, 0.5, 16000)
    assert rec.decode(audio) == [] and rec.decode(audio) == []
    assert len(told) == 1 and told[0][1] is True and told[0][0].startswith("The recogniser could not be loaded.")


def test_a_loaded_recogniser_decodes_and_its_notice_is_told_with_the_first_utterance():
    inner = ScriptedRecognizer(["next"])
    inner.notice = "I am using the built-in recogniser."
    told = []
    rec = LoadingRecognizer(lambda: inner, lambda text, deaf: told.append((text, deaf)))
    rec.start()
    rec.start()
    assert rec.decode(tone(200, 0.5, 16000)) == [Hypothesis("next")] and rec.decode(tone(200, 0.5, 16000)) == []
    assert told == [("I am using the built-in recogniser.", False)] and rec.name == "scripted"


def test_the_command_model_hears_through_the_loaded_recognisers_encoder_or_is_left_out_untold():
    import numpy as np

    class Encoding(ScriptedRecognizer):
        def encoder_states(self, audio):
            return np.ones((3, 2), np.float32)

    rec = LoadingRecognizer(lambda: Encoding(["next"], encoder="enc"), lambda text, deaf: None)
    assert rec.encoder == "enc" and rec.encoder_states(tone(200, 0.5, 16000)).shape == (3, 2)
    assert LoadingRecognizer(lambda: ScriptedRecognizer([]), lambda text, deaf: None).encoder == ""

    def broken():
        raise EngineError("The recogniser could not be loaded.")

    assert LoadingRecognizer(broken, lambda text, deaf: None).encoder == ""
    told = []
    scorer = LoadingScorer(lambda: None, lambda text, deaf: told.append(text))
    assert scorer.scores(tone(200, 0.5, 16000)) == {} and told == []


def test_a_deaf_notice_turns_the_words_to_keys():
    s = Session([], lambda text, rate: 1.0)
    s.start(0.0)
    actions = s.handle(Notice("I will not hear you this time.", deaf=True), 1.0)
    assert [a.text for a in actions] == ["I will not hear you this time."]
    assert not s.hears and s.help().startswith("Keys:")


def test_no_speaker_plays_in_silence_for_the_sounds_length_and_says_so_once():
    class NoSpeaker:
        def play(self, audio):
            raise DeviceError("No speaker or sound output was found.")

    clock, told = FakeClock(), []
    out = SpeakerOrText(NoSpeaker(), clock, told.append)
    playback = out.play(tone(200, 2.0, 16000))
    out.play(tone(200, 1.0, 16000))
    assert told == [NO_SOUND]
    clock.advance(0.9)
    assert not playback.done()
    playback.stop()
    assert playback.done()


def test_a_working_speaker_is_used():
    speaker, told = MemoryAudioOut(), []
    SpeakerOrText(speaker, FakeClock(), told.append).play(tone(200, 0.1, 16000))
    assert len(speaker.played) == 1 and told == []


def test_library_messages_go_to_the_log_and_ours_stay_on_screen(tmp_path):
    log = tmp_path / "sound.log"
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from voice_guide.chatter import library_messages_to_log
        with library_messages_to_log(Path({str(log)!r})):
            os.write(2, b"ALSA lib pcm.c:8570:(snd_pcm_recover) underrun occurred\\n")
            print("voice-guide: our own message", file=sys.stderr)
        os.write(2, b"after: fd 2 is back\\n")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == ["voice-guide: our own message", "after: fd 2 is back"]
    assert "underrun occurred" in log.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["enroll", "doctor", "export", "hear", "list"])
def test_every_command_sends_library_messages_to_the_log(tmp_path, command):
    """A message a sound library writes straight to fd 2 in any command (ALSA's underruns while
    `enroll` records) reaches the log in the cache folder, not the screen."""
    script = textwrap.dedent(f"""
        import os, sys
        from voice_guide import cli
        from voice_guide.commands import {command} as command

        def run(args):
            os.write(2, b"ALSA lib pcm.c:8570:(snd_pcm_recover) underrun occurred\\n")
            print("voice-guide: our own message", file=sys.stderr)
            return 0

        command.run = run
        sys.exit(cli.main([{command!r}] + ([] if {command!r} != "hear" else ["x.wav"])))
    """)
    env = dict(os.environ, VOICE_GUIDE_HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == ["voice-guide: our own message"]
    assert "underrun occurred" in (tmp_path / "cache" / "sound-libraries.log").read_text()


@pytest.mark.parametrize("kind", ["link", "pipe"])
def test_the_log_replaces_a_link_or_pipe_at_its_name_and_never_writes_through_it(kind, tmp_path):
    """Issue 17 item 1: a link at the log's name to someone's file is replaced, not truncated; a pipe
    there does not hang the start."""
    victim, log = tmp_path / "victim", tmp_path / "cache" / "sound.log"
    victim.write_text("keep\n")
    log.parent.mkdir()
    if kind == "link":
        log.symlink_to(victim)
    else:
        os.mkfifo(log)
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from voice_guide.chatter import library_messages_to_log
        with library_messages_to_log(Path({str(log)!r})):
            os.write(2, b"ALSA lib underrun occurred\\n")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "keep\n"
    assert not log.is_symlink() and log.is_file() and "underrun occurred" in log.read_text()
    assert sorted(p.name for p in log.parent.iterdir()) == ["sound.log"]
