"""End-of-speech detection, the echo gate and recorded input, on espeak-ng speech with a noise floor."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from voice_guide.audio import SPEECH_RATE, Audio, add_noise_floor, concatenate, tone
from voice_guide.hearing.listen import BlockTimes, EchoGate, Endpointer, RecordingsIn
from voice_guide.testing import FakeClock, espeak_speech


@lru_cache(maxsize=64)
def speak(text: str, voice: str = "en-us", speed: int = 150) -> Audio:
    return espeak_speech(text, voice, speed)


def quiet(seconds: float) -> Audio:
    return Audio.silence(seconds, SPEECH_RATE)


def stream(*parts: Audio, noise_dbfs: float = -60.0) -> Audio:
    return add_noise_floor(concatenate(list(parts), SPEECH_RATE), noise_dbfs, seed=3)


def utterances(audio: Audio, endpointer: Endpointer | None = None, block: int = 1600) -> list[Audio]:
    ep = endpointer or Endpointer()
    found = []
    for i in range(0, len(audio.samples), block):
        u = ep.feed(audio.samples[i : i + block])
        if u is not None:
            found.append(u)
    return found


def test_a_command_between_silences_is_one_utterance_with_its_start_kept():
    word = speak("next")
    found = utterances(stream(quiet(1.0), word, quiet(1.5)))
    assert len(found) == 1
    # pre-roll and tail: the whole word is there, and not much more
    assert word.duration - 0.15 <= found[0].duration <= word.duration + 0.6


@pytest.mark.parametrize("voice, speed", [("en-us", 150), ("en", 110), ("en-gb-x-rp", 90), ("en-us+f3", 175)])
def test_several_commands_in_several_voices(voice, speed):
    words = ["pause", "go on", "slower please"]
    parts = [quiet(1.0)]
    for w in words:
        parts += [speak(w, voice, speed), quiet(1.2)]
    assert len(utterances(stream(*parts))) == 3


def test_slow_speaker_is_not_cut_off_when_trailing_silence_is_raised():
    """'go ... on' with a 0.6 s gap: two pieces at a short trailing silence, one at a longer one."""
    audio = stream(quiet(1.0), speak("go", speed=90), quiet(0.6), speak("on", speed=90), quiet(2.0))
    assert len(utterances(audio, Endpointer(trailing_silence=0.4))) == 2
    assert len(utterances(audio, Endpointer(trailing_silence=1.0))) == 1


def test_a_long_title_said_very_slowly_is_heard_whole():
    """With weak lips the guide's longest phrases take 5-6 s: by default they are a command, not talk."""
    title = speak("read causes and what they mean for recovery", speed=80)
    assert title.duration > 4.5
    found = utterances(stream(quiet(1.0), title, quiet(1.5)))
    assert len(found) == 1 and found[0].duration >= title.duration - 0.3


def test_long_speech_is_dropped():
    talk = speak("I was just telling my sister about the weather and the garden and the dog next door")
    ep = Endpointer(max_utterance=4.0)
    assert talk.duration > 4.0
    assert utterances(stream(quiet(1.0), talk, quiet(1.5)), ep) == []
    assert ep.dropped == ["long"]


def test_clicks_and_silence_are_dropped():
    click = tone(2000.0, 0.04, SPEECH_RATE, volume=0.5, fade=0.002)
    ep = Endpointer()
    audio = stream(quiet(1.0), click, quiet(1.0), click, quiet(1.5))
    assert utterances(audio, ep) == []
    assert set(ep.dropped) == {"short"}
    assert utterances(stream(quiet(5.0))) == []


def test_the_noise_floor_adapts_to_a_steady_room():
    """A fan at -40 dBFS is not speech; a word spoken over it still is."""
    rng = np.random.default_rng(0)
    fan = Audio((rng.standard_normal(SPEECH_RATE * 4) * 0.01).astype(np.float32), SPEECH_RATE)
    word = speak("repeat").gain(2.0)
    room = Audio(np.concatenate([fan.samples, fan.samples[: len(word)] + word.samples, fan.samples[:24000]]),
                 SPEECH_RATE)
    ep = Endpointer()
    assert len(utterances(room, ep)) == 1
    assert ep.floor == pytest.approx(-40, abs=3)


def test_discard_forgets_a_half_heard_utterance():
    ep = Endpointer()
    audio = stream(quiet(0.5), speak("stop"))
    half = len(audio.samples) // 2 + 8000
    for i in range(0, half, 1600):
        ep.feed(audio.samples[i : i + 1600])
    ep.discard()
    assert utterances(stream(quiet(1.5)), ep) == []


def test_echo_gate_is_closed_while_playing_and_a_guard_after():
    gate = EchoGate(guard=0.3)
    gate.update(False, 0.0)
    assert gate.open(0.3)
    gate.update(True, 1.0)
    assert not gate.open(1.0)
    gate.update(False, 2.0)
    assert not gate.open(2.2)
    assert gate.open(2.3)


def test_recordings_wait_until_the_guide_listens():
    clock = FakeClock()
    listening = {"now": False}
    mic = RecordingsIn([speak("next")], clock.sleep, ready=lambda: listening["now"], gap=0.5, tail=1.0)
    with mic.blocks() as blocks:
        it = iter(blocks)
        for _ in range(30):
            next(it)
        assert mic.said == 0 and clock.now() == pytest.approx(3.0)
        listening["now"] = True
        rest = list(it)
    assert mic.said == 1
    heard = utterances(Audio(np.concatenate(rest), SPEECH_RATE))
    assert len(heard) == 1


def test_recordings_are_read_one_at_a_time_when_their_turn_comes():
    """Issue 17 item 11: `--input` hands loaders, so only the recording being said is in memory."""
    clock, read = FakeClock(), []

    def loader(k):
        def load():
            read.append(k)
            return speak("next")
        return load

    mic = RecordingsIn([loader(k) for k in range(3)], clock.sleep, gap=0.1, after=0.2)
    with mic.blocks() as blocks:
        for _ in blocks:
            assert len(read) <= mic.said + 1  # the one being said, none ahead
    assert read == [0, 1, 2] and mic.said == 3


def test_the_microphone_s_start_moved_is_counted():
    """Blocks read late at first, then one read at once: the microphone stream is taken to have
    started earlier, which moves the guide's echo off the delay learnt (barge-in is told)."""
    clock = FakeClock(10.0)

    def blocks():
        for k, late in enumerate((0.05, 0.05, 0.0, 0.0)):
            clock.t = 10.0 + 0.1 * (k + 1) + late  # when block k is read
            yield np.zeros(1600, np.float32)

    times = BlockTimes(clock)
    moves = [times.moves for _ in times.follow(blocks(), 16000)]
    assert moves == [0, 0, 1, 1]
