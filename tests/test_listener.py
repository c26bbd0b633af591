"""The microphone side of the loop: what a block completes, given what the guide plays."""

from __future__ import annotations

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio, add_noise_floor, concatenate
from voice_guide.live.listener import Listener, Said, SaidOver, Switched, VoiceOver
from voice_guide.understanding.matching import Match
from voice_guide.understanding.understand import Understander
from voice_guide.understanding.vocabulary import build_vocabulary
from voice_guide.live.sound_queue import Playing
from voice_guide.testing import ClockAudioOut, FakeClock, ScriptedRecognizer, espeak_speech

BLOCK = 1600


def listener(clock, script=("next",), watch=None, barge_in=True) -> Listener:
    ears = Understander(ScriptedRecognizer(list(script)), build_vocabulary())
    return Listener(clock, ears, SPEECH_RATE, 0.8, 4.0, barge_in, watch)


def blocks(*parts: Audio):
    audio = add_noise_floor(concatenate(list(parts), SPEECH_RATE), -60.0, seed=3)
    return [audio.samples[i : i + BLOCK] for i in range(0, len(audio.samples), BLOCK)]


def takes(lst: Listener, clock: FakeClock, chunks, playing=None) -> list:
    found = []
    for block in lst.follow(chunks):
        clock.advance(len(block) / SPEECH_RATE)
        lst.quiet(playing, clock.now())
        taken = lst.take(block, playing, clock.now())
        if taken is not None:
            found.append(taken)
    return found


def test_a_word_in_the_quiet_is_said_and_understood():
    clock = FakeClock(10.0)
    lst = listener(clock)
    found = takes(lst, clock, blocks(Audio.silence(1.0, SPEECH_RATE), espeak_speech("next"),
                                     Audio.silence(1.5, SPEECH_RATE)))
    assert [type(t) for t in found] == [Said]
    assert found[0].heard.match.decision == "act" and found[0].heard.match.command.id == "next"
    assert not lst.speaking()


def test_the_switch_is_taken_from_a_block_the_endpointer_ignores():
    clock = FakeClock(10.0)
    toggle = Match(None, 1.0, "act", heard="switch")
    lst = listener(clock, watch=lambda block, rate: toggle if np.max(np.abs(block)) > 0.5 else None)
    click = np.zeros(BLOCK, dtype=np.float32)
    click[10] = 0.9
    found = takes(lst, clock, [np.zeros(BLOCK, dtype=np.float32)] * 5 + [click])
    assert found == [Switched(toggle)]


def test_while_the_guide_plays_its_own_echo_is_never_taken():
    clock = FakeClock(10.0)
    out = ClockAudioOut(clock)
    voice = espeak_speech("Let your shoulders drop and breathe slowly.")
    playing = Playing(out.play(voice), voice, None, clock.now())
    lst = listener(clock)
    found = takes(lst, clock, blocks(voice.resample(SPEECH_RATE).gain(0.5)), playing)
    assert found and all(isinstance(t, VoiceOver) and not t.hearing for t in found)
    assert not any(isinstance(t, (Said, SaidOver)) for t in found)


def test_without_barge_in_a_playing_guide_takes_nothing():
    clock = FakeClock(10.0)
    out = ClockAudioOut(clock)
    voice = espeak_speech("Stop.")
    playing = Playing(out.play(voice), voice, None, clock.now())
    lst = listener(clock, barge_in=False)
    assert takes(lst, clock, blocks(voice.resample(SPEECH_RATE)), playing) == []
