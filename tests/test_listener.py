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


def test_a_stop_begun_as_the_guide_falls_silent_is_followed_to_its_end():
    """"stop", begun over the last 0.15 s of the guide's sentence and as loud as its voice, ends in
    the quiet after it: followed to its end over the echo gate's guard, it is heard, not cut off
    when the sound ends."""
    clock = FakeClock(10.0)
    out = ClockAudioOut(clock)
    voice = espeak_speech("Let your shoulders drop, and let your breathing settle and slow down.")
    playing = Playing(out.play(voice), voice, None, clock.now())
    echo = voice.resample(SPEECH_RATE).gain(0.5)
    stop = espeak_speech("stop")
    loud = lambda a: np.percentile(np.abs(a.samples), 99)  # noqa: E731
    user = stop.gain(float(loud(echo) / loud(stop)))
    at = round((echo.duration - 0.15) * SPEECH_RATE)
    mic = np.zeros(at + len(user.samples) + 2 * SPEECH_RATE, dtype=np.float32)
    mic[: len(echo.samples)] += echo.samples
    mic[at : at + len(user.samples)] += user.samples
    lst = listener(clock, script=["stop"])
    found = []
    for block in lst.follow(blocks(Audio(mic, SPEECH_RATE))):
        clock.advance(len(block) / SPEECH_RATE)
        current = None if playing.playback.done() else playing
        lst.quiet(current, clock.now())
        taken = lst.take(block, current, clock.now())
        if isinstance(taken, (Said, SaidOver)):
            found.append(taken)
    assert [type(t) for t in found] == [SaidOver]
    assert found[0].heard.match.command.id == "stop"


def test_words_said_long_after_the_guide_fell_silent_are_said_even_when_blocks_come_slowly():
    """Blocks that come more slowly than they last (recordings played on a busy machine's clock, as
    `--input` and the long measurements do, or blocks lost): their counted time falls further behind
    each one. Words said seconds after the guide fell silent are still `Said` (any command counts),
    never taken as said over the guide (only stop or pause), or a long run stops acting on anything."""
    clock = FakeClock(10.0)
    out = ClockAudioOut(clock)
    voice = espeak_speech("Let your shoulders drop.")
    lst = listener(clock, script=["menu"])
    mic = blocks(Audio.silence(10.0, SPEECH_RATE), Audio.silence(3.0, SPEECH_RATE), espeak_speech("menu"),
                 Audio.silence(1.5, SPEECH_RATE))
    found, playing = [], None
    for n, block in enumerate(lst.follow(mic)):
        clock.advance(len(block) / SPEECH_RATE + 0.2)  # each block read 0.2 s later than the one before
        if n == 100:  # the guide speaks after 10 s of blocks (30 s on the clock)
            playing = Playing(out.play(voice), voice, None, clock.now())
        current = None if playing is None or playing.playback.done() else playing
        lst.quiet(current, clock.now())
        taken = lst.take(block, current, clock.now())
        if isinstance(taken, (Said, SaidOver)):
            found.append(taken)
    assert [type(t) for t in found] == [Said]
    assert found[0].heard.match.command.id == "menu"


def test_the_guide_s_last_words_read_late_after_it_fell_silent_are_never_said():
    """The loop stalls for a second while the guide speaks (a busy machine) and then reads the blocks
    a second late: when the guide falls silent, the blocks still to be read hold its last words. The
    gate is judged at their own time, so they are never taken as something the user said."""
    clock = FakeClock(10.0)
    out = ClockAudioOut(clock)
    voice = espeak_speech("Let your shoulders drop, and let your breathing settle and slow down.")
    playing = Playing(out.play(voice), voice, None, clock.now())
    lst = listener(clock, script=["next"] * 3)
    found = []
    mic = blocks(voice.resample(SPEECH_RATE).gain(0.5), Audio.silence(2.0, SPEECH_RATE))
    for n, block in enumerate(lst.follow(mic)):
        clock.advance(len(block) / SPEECH_RATE + (1.0 if n == 5 else 0.0))
        current = None if playing.playback.done() else playing
        lst.quiet(current, clock.now())
        taken = lst.take(block, current, clock.now())
        if isinstance(taken, (Said, SaidOver)):
            found.append(taken)
    assert found == []
