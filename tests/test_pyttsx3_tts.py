"""The pyttsx3 adapter against the real engine: many utterances in a row, a killed or frozen worker,
long texts, and errors that say what to do."""

from __future__ import annotations

import functools
import os
import signal
import threading
import time

import pytest

from voice_guide.adapters.espeak_tts import EspeakSynthesizer
from voice_guide.adapters.pyttsx3_tts import PAUSE_SECONDS, Pyttsx3Synthesizer
from voice_guide.audio import rms_dbfs
from voice_guide.engines import Synthesizer, VoiceSettings
from voice_guide.errors import EngineError

PARTS = ["brow", "left eyelid", "cheek and the side of your nose", "lips", "jaw, slowly and gently",
         "neck and both shoulders", "whole face, from the forehead down to the chin"]


def utterance(i: int) -> str:
    """Texts of different lengths, so an answer swapped with another request's would be noticed."""
    return f"Now relax your {PARTS[i % len(PARTS)]} for {i % 5 + 1} breaths."


@pytest.fixture(scope="module")
def synth():
    engine = Pyttsx3Synthesizer()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def reference():
    """The same voice called directly: pyttsx3 drives espeak-ng, so durations must agree."""
    espeak = EspeakSynthesizer()

    @functools.lru_cache(maxsize=None)
    def duration(text: str, settings: VoiceSettings = VoiceSettings()) -> float:
        return espeak.synthesize(text, settings).duration

    return duration


def assert_like(audio, expected_seconds: float) -> None:
    assert audio.rate == 22050
    assert rms_dbfs(audio.samples) > -40, "silent"
    assert audio.duration == pytest.approx(expected_seconds, rel=0.05, abs=0.05)


def test_is_a_synthesizer(synth):
    assert isinstance(synth, Synthesizer)
    assert synth.name == "pyttsx3"


@pytest.mark.slow
def test_120_utterances_in_a_row_are_all_whole(synth, reference):
    restarts = synth.restarts
    for i in range(120):
        audio = synth.synthesize(utterance(i), VoiceSettings())
        assert_like(audio, reference(utterance(i)))
    assert synth.restarts == restarts


@pytest.mark.slow
def test_settings_change_between_requests(synth, reference):
    for settings in [VoiceSettings(rate=100), VoiceSettings(rate=250), VoiceSettings(voice="en-us"),
                     VoiceSettings(volume=0.3), VoiceSettings()]:
        audio = synth.synthesize(utterance(3), settings)
        assert_like(audio, reference(utterance(3), settings))
    loud = synth.synthesize(utterance(2), VoiceSettings(volume=1.0))
    soft = synth.synthesize(utterance(2), VoiceSettings(volume=0.3))
    assert rms_dbfs(loud.samples) - rms_dbfs(soft.samples) > 6


def test_a_killed_worker_is_replaced(synth, reference):
    synth.synthesize("Warm up.", VoiceSettings())
    pid, restarts = synth.worker_pid, synth.restarts
    os.kill(pid, signal.SIGKILL)
    audio = synth.synthesize(utterance(5), VoiceSettings())
    assert_like(audio, reference(utterance(5)))
    assert synth.restarts == restarts + 1
    assert synth.worker_pid not in (None, pid)


@pytest.mark.slow
def test_a_worker_killed_mid_sentence_is_replaced(synth, reference):
    text = " ".join(utterance(i) for i in range(30))
    synth.synthesize("Warm up.", VoiceSettings())
    pid, restarts = synth.worker_pid, synth.restarts
    killer = threading.Timer(0.2, os.kill, (pid, signal.SIGKILL))
    killer.start()
    audio = synth.synthesize(text, VoiceSettings())
    killer.join()
    expected = sum(reference(utterance(i)) for i in range(30)) + 29 * PAUSE_SECONDS
    assert_like(audio, expected)
    assert synth.restarts == restarts + 1


@pytest.mark.slow
def test_a_frozen_worker_is_killed_and_replaced(reference):
    with Pyttsx3Synthesizer(timeout=1.0) as synth:
        synth.synthesize("Warm up.", VoiceSettings())
        pid = synth.worker_pid
        os.kill(pid, signal.SIGSTOP)
        audio = synth.synthesize(utterance(1), VoiceSettings())
        assert_like(audio, reference(utterance(1)))
        assert synth.restarts == 1
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_worker_that_never_answers_gives_an_engine_error():
    with Pyttsx3Synthesizer(timeout=0.0, seconds_per_char=0.0) as synth:
        with pytest.raises(EngineError, match="espeak-ng"):
            synth.synthesize("Hello.", VoiceSettings())
        assert synth.restarts == 1
        assert synth.worker_pid is None


def test_long_text_is_rendered_in_sentences_with_pauses(synth, reference):
    sentences = [utterance(i) for i in range(12)]
    audio = synth.synthesize(" ".join(sentences), VoiceSettings())
    assert_like(audio, sum(reference(s) for s in sentences) + 11 * PAUSE_SECONDS)


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_blank_text_is_silence_without_a_worker(text):
    with Pyttsx3Synthesizer() as synth:
        assert len(synth.synthesize(text, VoiceSettings())) == 0
        assert synth.worker_pid is None


def test_unknown_voice_says_what_to_do(synth):
    restarts = synth.restarts
    with pytest.raises(EngineError, match="no voice 'xx-no-such-voice'"):
        synth.synthesize("Hello.", VoiceSettings(voice="xx-no-such-voice"))
    assert synth.restarts == restarts
    assert synth.synthesize("Hello.", VoiceSettings()).duration > 0.3


@pytest.mark.slow
def test_close_stops_the_worker_and_it_restarts_on_demand():
    synth = Pyttsx3Synthesizer()
    synth.synthesize("Hello.", VoiceSettings())
    pid = synth.worker_pid
    synth.close()
    assert synth.worker_pid is None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the worker is still running after close()")
    assert synth.synthesize("Hello again.", VoiceSettings()).duration > 0.3
    synth.close()


def test_missing_engine_gives_an_engine_error():
    """A worker that cannot import pyttsx3 (here: a Python that cannot even start) is an EngineError."""
    with Pyttsx3Synthesizer(start_timeout=10, worker="raise SystemExit(3)") as synth:
        with pytest.raises(EngineError, match="could not start its voice"):
            synth.synthesize("Hello.", VoiceSettings())
