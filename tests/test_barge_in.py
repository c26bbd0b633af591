"""Barge-in (`voice_guide.hearing.barge_in`): "stop" said over the guide's own voice is taken, and the
guide's echo never is, on espeak-ng speech through simulated rooms and sound cards."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from voice_guide.audio import SPEECH_RATE, Audio, add_noise_floor, concatenate
from voice_guide.hearing.barge_in import BargeIn
from voice_guide.hearing.listen import frame_levels
from voice_guide.testing import espeak_speech


@lru_cache(maxsize=64)
def speak(text: str, voice: str = "en-us", speed: int = 150) -> Audio:
    return espeak_speech(text, voice, speed)


def quiet(seconds: float) -> Audio:
    return Audio.silence(seconds, SPEECH_RATE)


def barge_run(mic: Audio, ref: Audio, block: int = 1600) -> list[Audio]:
    barge = BargeIn()
    found = []
    for i in range(0, len(mic.samples), block):
        u = barge.feed(mic.samples[i : i + block], ref.samples[i : i + block])
        if u is not None:
            found.append(u)
    return found


def guide_voice() -> Audio:
    """What the guide plays: several sentences full of command words."""
    text = "Say stop to stop, or say pause. Next, we rest the face. Stop. Pause. Repeat after me."
    return speak(text, "en", 140)


def over(ref: Audio, user: Audio | None, user_gain: float, at: float, echo_gain: float = 0.5,
         delay: float = 0.08, noisy: bool = True) -> Audio:
    """The microphone: the delayed, scaled echo of `ref`, plus the user at `at` seconds, plus noise
    (not `noisy`: digital silence wherever nothing sounds, as a virtual card's)."""
    d = round(delay * SPEECH_RATE)
    echo = np.concatenate([np.zeros(d, np.float32), ref.samples[: len(ref.samples) - d]]) * echo_gain
    if user is not None:
        i = round(at * SPEECH_RATE)
        n = min(len(user.samples), len(echo) - i)
        echo[i : i + n] += user.samples[:n] * user_gain
    heard = Audio(echo, SPEECH_RATE)
    return add_noise_floor(heard, -60.0, seed=9) if noisy else heard


def test_barge_in_never_hears_the_echo_alone():
    ref = guide_voice()
    assert barge_run(over(ref, None, 0.0, 0.0), ref) == []
    assert barge_run(over(ref, None, 0.0, 0.0, echo_gain=2.0, delay=0.25), ref) == []
    assert barge_run(over(ref, None, 0.0, 0.0, echo_gain=1.0, delay=0.5), ref) == []  # a late echo


def reverberant(ref: Audio) -> Audio:
    """`ref` as a room gives it back: a direct sound and an 80 ms tail of reflections, which no
    delay-and-gain copy takes out."""
    n = round(0.08 * SPEECH_RATE)
    ir = np.random.default_rng(3).standard_normal(n) * np.exp(-np.arange(n) / (0.02 * SPEECH_RATE))
    ir[round(0.01 * SPEECH_RATE)] += 3.0
    ir /= np.sqrt(np.sum(ir**2))
    return Audio(np.convolve(ref.samples, ir)[: len(ref.samples)].astype(np.float32), SPEECH_RATE)


@pytest.mark.parametrize("room, user_db, heard", [("reverberant", 22.0, 1), ("reverberant", 6.0, 0),
                                                  ("copy", 6.0, 1)])
def test_barge_in_hears_only_a_voice_clearly_over_the_echo(room, user_db, heard):
    """Levels compared as the loud frames (95th percentile) of the echo and of the user's word. Where
    the echo is an exact copy (a sound card's monitor), it is taken out and a voice only a little
    louder than it stands out; in a room what is left of the echo must be clearly exceeded."""
    ref = guide_voice()
    stop = speak("stop")
    loud = lambda a: np.percentile(frame_levels(a.samples, 320), 95)  # noqa: E731
    gain = 10 ** ((loud(ref) - 6.0 + user_db - loud(stop)) / 20)  # the echo is 6 dB below ref
    echoed = reverberant(ref) if room == "reverberant" else ref
    assert len(barge_run(over(echoed, stop, gain, at=2.5), ref)) == heard


def test_barge_in_with_headphones_hears_a_normal_voice():
    ref = guide_voice()
    mic = over(ref, speak("pause"), 1.0, at=2.0, echo_gain=0.0)
    assert len(barge_run(mic, ref)) == 1


def test_barge_in_waits_until_the_echo_is_measured():
    ref = guide_voice()
    mic = over(ref, speak("stop"), 4.0, at=0.0)
    assert barge_run(mic.slice(0, 0.4), ref.slice(0, 0.4)) == []


def barge_sounds(sounds: list[tuple[Audio, Audio]], block: int = 1600, one_stream: bool = False,
                 silent_between: bool = True) -> list[tuple[float, Audio]]:
    """Sounds one after another, each (microphone, reference), fed as the player feeds them (each on
    a stream of its own, or all on `one_stream` with the guide silent in between, or, not
    `silent_between`, one straight after the other); (seconds into its sound, what was taken) for
    each voice taken."""
    barge, found = BargeIn(), []
    for n, (mic, ref) in enumerate(sounds):
        if one_stream and silent_between:
            barge.reset()
        for i in range(0, len(mic.samples), block):
            u = barge.feed(mic.samples[i : i + block], ref.samples[i : i + block], 0 if one_stream else n, n)
            if u is not None:
                found.append((i / SPEECH_RATE, u))
    return found


def just_over(echo_gain: float, user: Audio, db: float, ref: Audio) -> float:
    """The gain that makes `user`'s loud frames `db` louder than those of the echo of `ref`."""
    loud = lambda a: np.percentile(frame_levels(a.samples, 320), 95)  # noqa: E731
    return 10 ** ((loud(ref) + 20 * np.log10(echo_gain) + db - loud(user)) / 20)


def test_a_pause_inside_a_sound_forgets_nothing():
    """A stop 2 dB over the echo (too little for the raw microphone) said just after the guide's
    voice comes back from a second of silence is heard: the learnt echo was kept over the silence."""
    ref = concatenate([guide_voice(), quiet(1.0), speak("Let your shoulders drop and breathe.")], SPEECH_RATE)
    back = len(guide_voice().samples) / SPEECH_RATE + 1.0
    stop = speak("stop")
    mic = over(ref, stop, just_over(0.5, stop, 2.0, ref), at=back + 0.1)
    [(t, _)] = barge_sounds([(mic, ref)])
    assert back < t < back + 1.5
    assert barge_run(over(ref, None, 0.0, 0.0), ref) == []


def test_the_coupling_is_kept_for_the_next_sound_and_its_echo_is_never_taken():
    """A second sound reaches the microphone with another delay and gain (a device starts each stream
    a little differently): it is learnt again, its echo is never taken, and a stop half a second into
    it is heard at once, with no new wait for the coupling to be measured."""
    first, second = guide_voice(), speak("Now let your forehead soften and your jaw go loose.")
    stop = speak("stop")
    sounds = [(over(first, None, 0.0, 0.0), first),
              (over(second, None, 0.0, 0.0, echo_gain=0.7, delay=0.03), second)]
    assert barge_sounds(sounds) == []
    sounds[1] = (over(second, stop, just_over(0.7, stop, 2.0, second), at=0.5, echo_gain=0.7, delay=0.03), second)
    [(t, _)] = barge_sounds(sounds)
    assert 0.5 < t < 1.5


def test_on_one_stream_a_stop_at_the_very_start_of_the_next_sound_is_heard():
    """All sounds on one output stream reach the microphone with one delay: the echo learnt on the
    first is taken out of the next from its first sample, so a stop only 2 dB over the echo (as loud
    as the guide's voice at the microphone) is heard 0.1 s into it; the echo alone never is."""
    first, second = guide_voice(), speak("Now let your forehead soften and your jaw go loose.")
    stop = speak("stop")
    sounds = [(over(first, None, 0.0, 0.0), first),
              (over(second, stop, just_over(0.5, stop, 2.0, second), at=0.1), second)]
    [(t, _)] = barge_sounds(sounds, one_stream=True)
    assert t < 1.5  # taken once the word has ended
    sounds[1] = (over(second, None, 0.0, 0.0), second)
    assert barge_sounds(sounds, one_stream=True) == []


@pytest.mark.parametrize("change", ["gain", "delay"])
def test_the_echo_changing_within_a_sound_is_never_taken(change):
    """The guide's own echo, after a change the estimate has not learnt yet (the volume turned up, or
    the device's timing moving by 20 ms), is still not taken for a voice."""
    ref = guide_voice()
    half = len(ref.samples) // 2
    before = over(ref, None, 0.0, 0.0)
    after = over(ref, None, 0.0, 0.0, echo_gain=0.9) if change == "gain" else over(ref, None, 0.0, 0.0, delay=0.1)
    mic = Audio(np.concatenate([before.samples[:half], after.samples[half:]]), SPEECH_RATE)
    assert barge_run(mic, ref) == []


def test_in_the_first_sentence_a_stop_is_heard_once_its_echo_is_learnt():
    """A session's first sentence follows only its short title: the raw coupling has been read on the
    title, the clean one not yet. Until it has been, the subtraction is taken to leave `CLEAN_DEPTH`
    under the raw coupling, so a stop as loud as the guide's voice, said once the echo is learnt on the
    sentence (0.5 s in), is heard; the sentence's echo alone never is, in a room either."""
    title, sentence = speak("Long title"), speak("Sit back and let your shoulders drop, and let your breathing settle.")
    stop = speak("stop")
    sounds = [(over(title, None, 0.0, 0.0), title),
              (over(sentence, stop, just_over(0.5, stop, 0.0, sentence), at=0.6), sentence)]
    [(t, _)] = barge_sounds(sounds)
    assert 0.6 < t < 1.8
    for room in (lambda a: a, reverberant, half_reverberant):
        echoes = [(over(room(title), None, 0.0, 0.0), title), (over(room(sentence), None, 0.0, 0.0), sentence)]
        assert barge_sounds(echoes) == []


def test_on_one_stream_a_stop_early_in_the_sentence_after_the_title_is_heard():
    """On the speaker's one stream a session's first sentence follows its title with no silence the
    echo gate opens on: the sentence has frames of its own in which the clean coupling is assumed
    (the title used its own up), so a stop as loud as the guide's voice said 0.2 s into it is heard;
    its echo alone never is."""
    title, sentence = speak("Long title"), speak("Sit back and let your shoulders drop, and let your breathing settle.")
    stop = speak("stop")
    sounds = [(over(title, None, 0.0, 0.0), title),
              (over(sentence, stop, just_over(0.5, stop, 0.0, sentence), at=0.2), sentence)]
    [(t, _)] = barge_sounds(sounds, one_stream=True, silent_between=False)
    assert 0.2 < t < 1.5
    sounds[1] = (over(sentence, None, 0.0, 0.0), sentence)
    assert barge_sounds(sounds, one_stream=True, silent_between=False) == []


def half_reverberant(ref: Audio) -> Audio:
    """A room whose reflections hold a third of the echo's energy: the echo's estimate settles on the
    direct sound but takes out only 5 dB, so the clean coupling must be measured before it is used."""
    n = round(0.08 * SPEECH_RATE)
    ir = np.random.default_rng(3).standard_normal(n) * np.exp(-np.arange(n) / (0.02 * SPEECH_RATE))
    ir *= np.sqrt(0.5 / np.sum(ir[round(0.005 * SPEECH_RATE) :] ** 2))
    ir[: round(0.005 * SPEECH_RATE)] = 0.0
    ir[0] = 1.0
    return Audio(np.convolve(ref.samples, ir)[: len(ref.samples)].astype(np.float32), SPEECH_RATE)


def test_what_is_taken_ends_with_the_voice_not_with_the_guide_s_residue():
    """In a room, what is left of the guide's voice after a stop was heard to its end with it, and
    Whisper wrote it as words after the stop ("stop playing", "start your"): what is taken ends a tenth
    of a second after its last frame within 20 dB of its loudest."""
    ref, stop = guide_voice(), speak("stop")
    [taken] = barge_run(over(reverberant(ref), stop, just_over(0.5, stop, 22.0, ref), at=2.5), ref)
    assert taken.duration <= stop.duration + 0.2


def test_a_voice_cut_at_its_longest_is_taken_whole():
    """Talk over the guide goes on past `max_len` and is cut there: it is talk (perhaps the guide's
    own), and a part of it may sound like a command, so none of it is left out."""
    ref, stop, talk = guide_voice(), speak("stop"), speak("and let your shoulders drop and breathe slowly")
    loud, soft = just_over(0.5, stop, 24.0, ref), just_over(0.5, talk, 2.0, ref)
    user = Audio(np.concatenate([stop.samples * loud, talk.samples * soft]), SPEECH_RATE)
    taken = barge_run(over(ref, user, 1.0, at=2.5), ref)
    assert taken and taken[0].duration == pytest.approx(1.5, abs=0.03)


def title_and_sentence() -> tuple[Audio, Audio]:
    """A session's start: its short title, then its first long sentence."""
    return speak("Long title"), speak("Sit back and let your shoulders drop, and let your breathing settle "
                                      "into a slow and easy rhythm, with nothing to do and nowhere to go.")


def test_a_stop_as_loud_as_the_guide_is_heard_seconds_into_a_sound_begun_with_a_moved_filter():
    """A session's first sentence, after its title: its echo is first taken out by the title's filter,
    moved to its delay, and where the sound server treats this stream a little differently (here half
    a sample later) that takes out only some 15 dB. What it leaves was kept as the clean coupling for
    seconds after the filter learnt on the sentence took out far more, and hid a stop as loud as the
    guide's voice 2 s in: it is heard; the echo alone never is."""
    def half_later(a: Audio) -> Audio:
        return Audio(0.5 * a.samples + 0.5 * np.concatenate([[0.0], a.samples[:-1]]).astype(np.float32), a.rate)

    first, second = title_and_sentence()
    stop = speak("stop")
    sounds = [(over(first, None, 0.0, 0.0), first),
              (over(half_later(second), stop, just_over(0.5, stop, 0.0, second), at=2.0, delay=0.09), second)]
    [(t, _)] = barge_sounds(sounds)
    assert 2.0 < t < 3.5
    sounds[1] = (over(half_later(second), None, 0.0, 0.0, delay=0.09), second)
    assert barge_sounds(sounds) == []


@pytest.mark.parametrize("at, jump", [(2.0, 0.01), (3.0, 0.005), (3.0, 0.003), (0.6, 0.01), (0.15, 0.01), (0.25, 0.005),
                                      (0.1, 0.003), (0.3, 0.02)])
def test_the_guide_s_voice_is_never_taken_when_the_device_s_timing_moves_inside_a_sound(at, jump):
    """Under load an underrun moves the echo a few milliseconds against what the guide plays, in
    the middle of a sound, until the estimate learns it again: the copy then subtracted adds to the
    echo, and that stretch of the guide's own voice is never taken for the user's."""
    title, sentence = title_and_sentence()
    before, after = over(sentence, None, 0.0, 0.0, delay=0.09), over(sentence, None, 0.0, 0.0, delay=0.09 + jump)
    k = round(at * SPEECH_RATE)
    mic = Audio(np.concatenate([before.samples[:k], after.samples[k:]]), SPEECH_RATE)
    assert barge_sounds([(over(title, None, 0.0, 0.0), title), (mic, sentence)]) == []


def through_card(ref: Audio, delay: float, part: float, user: Audio | None = None, user_gain: float = 0.0,
                 at: float = 0.0) -> Audio:
    """The microphone as a sound card's monitor gives a stream back: `ref` `delay` seconds and `part` of
    a sample later (each stream lies otherwise between two samples), at half its level, plus the user
    at `at` seconds and a faint noise floor."""
    from voice_guide.hearing.echo import FRACTION, fractional_delay

    d = round(delay * SPEECH_RATE)
    late = np.concatenate([np.zeros(d), ref.samples[: len(ref.samples) - d]])
    echo = 0.5 * np.convolve(late, fractional_delay(part))[FRACTION : FRACTION + len(late)]
    if user is not None:
        i = round(at * SPEECH_RATE)
        n = min(len(user.samples), len(echo) - i)
        echo[i : i + n] += user.samples[:n] * user_gain
    return add_noise_floor(Audio(echo.astype(np.float32), SPEECH_RATE), -80.0, seed=9)


@pytest.mark.parametrize("at", [0.05, 0.1, 0.2, 0.3])
def test_a_stop_said_in_the_first_tenths_of_a_session_s_first_sentence_is_heard_without_the_guide(at):
    """The title's filter, moved to the first sentence's delay to a 16th of a sample, takes its echo
    out from 0.15 s on; a stop as loud as the guide said a fifth of a second in is heard, and what was
    kept to begin it with, heard on the raw microphone before, is cleaned of the guide's voice (taken
    with it, a stop was written "it's done"). A stop said earlier covers the stretch the filter is
    moved on: once it has ended and the filter is moved, the sound so far is looked back on, and it
    is heard then. The echo alone never is."""
    title, sentence = title_and_sentence()
    stop = speak("stop")
    gain = just_over(0.5, stop, 0.0, sentence)
    [(t, taken)] = barge_sounds([(through_card(title, 0.1, 0.3), title),
                                 (through_card(sentence, 0.01, 0.7, stop, gain, at), sentence)])
    assert at < t < at + 1.2
    onset = frame_levels(taken.samples, 320)[:2]  # before the stop's own onset: what is left of the guide
    assert onset.max() < frame_levels(stop.samples * gain, 320).max() - 30.0
    assert barge_sounds([(through_card(title, 0.1, 0.3), title), (through_card(sentence, 0.01, 0.7), sentence)]) == []


def test_a_microphone_silent_until_the_echo_arrives_says_nothing_of_the_coupling():
    """On the virtual card the microphone is digital silence until a sound's echo arrives, then the
    echo (and what the filter will not take out of it, here a faint noise). In a user's second
    session the echo path kept is moved to the title's delay 0.15 s in, and neither the title's nor
    the sentence's own voice is ever taken: those silent frames, read as the coupling, made every
    frame after them a voice over the guide (the title and the sentence taken for 1.5 s)."""
    title, sentence = title_and_sentence()

    def card(ref: Audio) -> Audio:
        d = round(0.1 * SPEECH_RATE)
        heard = ref.samples + np.random.default_rng(5).normal(0, 10 ** (-55 / 20), len(ref.samples)).astype(np.float32)
        return Audio(np.concatenate([np.zeros(d, np.float32), heard[: len(heard) - d]]), SPEECH_RATE)

    def session(barge: BargeIn) -> list[Audio]:
        found = []
        for n, ref in enumerate((title, sentence)):
            mic = card(ref)
            for i in range(0, len(mic.samples), 1600):
                u = barge.feed(mic.samples[i : i + 1600], ref.samples[i : i + 1600], 0, n)
                found += [u] if u is not None else []
        return found

    first = BargeIn()
    session(first)
    assert first.echo.learnt is not None
    barge = BargeIn(known=first.echo.learnt)
    assert session(barge) == [] and not barge.hearing


@pytest.mark.parametrize("at", [1.1, 1.3])
def test_on_a_card_silent_between_words_a_stop_is_heard_while_the_clean_coupling_is_still_read(at):
    """A virtual card's microphone is digital silence wherever the guide is silent (between its words,
    between a title and a sentence): those frames say nothing of the clean coupling, and the frames in
    which it is assumed are counted as its readings, not as frames. Counted as frames, they ran out
    before the coupling was read, and a British stop as loud as the guide said 1.1-1.4 s into a
    session's first sentence was judged on the raw microphone and dropped (volume 0.3 on the card).
    The echo alone is never taken."""
    def card(ref: Audio, user: Audio | None = None, gain: float = 0.0) -> Audio:
        return over(ref, user, gain, at, delay=0.1, noisy=False)

    title = concatenate([speak("Long"), quiet(0.3)], SPEECH_RATE)
    sentence = concatenate([speak("Sit back"), quiet(0.4), speak("and let your shoulders drop, and let your "
                                                                  "breathing settle into a slow and easy rhythm.")],
                           SPEECH_RATE)
    stop = speak("stop", "en-gb")
    gain = just_over(0.5, stop, 0.0, sentence)
    [(t, _)] = barge_sounds([(card(title), title), (card(sentence, stop, gain), sentence)], one_stream=True,
                            silent_between=False)
    assert at < t < at + 1.0
    assert barge_sounds([(card(title), title), (card(sentence), sentence)], one_stream=True,
                        silent_between=False) == []


@pytest.mark.parametrize("at", [1.5, 2.0, 2.5])
def test_a_short_british_stop_a_little_softer_than_the_guide_is_heard(at):
    """A voice begins only `margin_db` over the echo, but its frames count towards `min_speech` from
    `HOLD_DB` less: a short British "stop" has few frames over the full margin (on the card one as
    loud as the guide's voice had 4, one short of 0.1 s, and was dropped). One 4 dB softer than the
    guide's voice is heard seconds into a sentence; the echo alone never is."""
    title, sentence = title_and_sentence()
    stop = speak("stop", "en-gb")
    gain = just_over(0.5, stop, -4.0, sentence)
    [(t, _)] = barge_sounds([(through_card(title, 0.1, 0.3), title),
                             (through_card(sentence, 0.01, 0.7, stop, gain, at), sentence)])
    assert at < t < at + 1.0
    assert barge_sounds([(through_card(title, 0.1, 0.3), title), (through_card(sentence, 0.01, 0.7), sentence)]) == []
