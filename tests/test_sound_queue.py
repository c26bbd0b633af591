"""The echo reference: what the guide's sound queue says is sounding at a given moment."""

from __future__ import annotations

import numpy as np
import pytest

from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.live.sound_queue import Playing
from voice_guide.testing import MemoryPlayback

RAMP = Audio(np.arange(2 * SPEECH_RATE, dtype=np.float32) / (2 * SPEECH_RATE), SPEECH_RATE)
"""Two seconds whose every sample tells where in the sound it is."""


class LateDuckedPlayback(MemoryPlayback):
    """The device reports the sound sounding from 0.3 s after `play`, and a duck reaching the speaker
    at 1.0 s."""

    def position(self, at: float) -> tuple[float, float]:
        return at - 0.3, (0.3 if at >= 1.0 else 1.0)


def test_the_reference_follows_where_and_how_loud_the_device_says_the_sound_is():
    playing = Playing(LateDuckedPlayback(RAMP, instant=False), RAMP, None, start=0.0)
    ref = playing.reference(SPEECH_RATE, 0.9, round(0.2 * SPEECH_RATE))
    half = round(0.1 * SPEECH_RATE)
    expected = RAMP.samples[round(0.6 * SPEECH_RATE) : round(0.8 * SPEECH_RATE)].copy()
    expected[half:] *= np.float32(0.3)
    np.testing.assert_allclose(ref, expected, atol=1e-6)


def test_without_the_devices_word_the_reference_counts_from_play_at_the_gain_asked_for():
    playing = Playing(MemoryPlayback(RAMP, instant=False), RAMP, None, start=0.5)
    playing.duck(0.3)
    ref = playing.reference(SPEECH_RATE, 2.4, round(0.2 * SPEECH_RATE))  # its last 0.1 s, then silence
    half = round(0.1 * SPEECH_RATE)
    np.testing.assert_allclose(ref[:half], RAMP.samples[-half:] * np.float32(0.3), atol=1e-6)
    assert not ref[half:].any()


def test_a_sound_still_rendering_waits_its_turn_without_holding_up_the_loop():
    """A sentence queued while it renders elsewhere: `pump` returns at once (the loop goes on hearing
    the microphone), the cue before it plays, and the sentence plays, in order, once rendered."""
    from concurrent.futures import Future

    from voice_guide.live.sound_queue import SoundQueue
    from voice_guide.testing import FakeClock, MemoryAudioOut

    out, started = MemoryAudioOut(instant=False), []
    queue = SoundQueue(out, FakeClock(), on_start=started.append, on_done=lambda done: None, wait=lambda: False)
    rendering: Future = Future()
    queue.add(RAMP, None, "")
    queue.add(rendering, 1, "Breathe in.")
    queue.pump()
    out.played[0].finish()
    queue.pump()
    assert len(out.played) == 1 and queue.busy() and started == []
    rendering.set_result(RAMP)
    queue.pump()
    assert len(out.played) == 2 and started == ["Breathe in."]


def test_the_rest_of_a_text_follows_its_first_sentence_at_once_and_at_its_volume():
    """A text's later sentences are rendered when their turn comes, start in the same pump as the one
    before ends (even while a voice over the guide is being heard, as one sound would go on), keep
    its duck, start with the pause between sentences shortened by however late they start, and only
    the last reports the text's end."""
    from voice_guide.live.sound_queue import SoundQueue
    from voice_guide.testing import FakeClock, MemoryAudioOut

    out, clock, started, done, hearing = MemoryAudioOut(instant=False), FakeClock(), [], [], [False]
    queue = SoundQueue(out, clock, on_start=started.append, on_done=done.append, wait=lambda: hearing[0])
    rendered = []
    paused = Audio(np.concatenate([np.zeros(SPEECH_RATE // 2, np.float32), RAMP.samples]), SPEECH_RATE)
    queue.add(RAMP, None, "One. Two.")
    queue.add(lambda: rendered.append("Two.") or paused, 7, "", lead=0.5)
    queue.add(RAMP, 8, "Next text.")
    queue.pump()
    assert rendered == [] and started == ["One. Two."]
    queue.current.duck(0.3)
    hearing[0] = True
    clock.advance(RAMP.duration + 0.2)  # the device says it is done 0.2 s after its end
    out.played[0].finish()
    queue.pump()
    assert rendered == ["Two."] and len(out.played) == 2 and out.played[1].gains == [0.3] and done == []
    assert out.played[1].audio.duration == pytest.approx(paused.duration - 0.2)  # 0.5 s of quiet between, all told
    out.played[1].finish()
    queue.pump()
    assert [d.say_id for d in done] == [7] and len(out.played) == 2  # the next text waits for the voice


def test_a_text_waits_at_its_start_until_it_is_ready_and_its_rest_follows_at_once():
    """`ready` holds a text's first sentence (asked on each pump); a sentence that continues it never
    waits on it."""
    from voice_guide.live.sound_queue import SoundQueue
    from voice_guide.testing import FakeClock, MemoryAudioOut

    out, started, go = MemoryAudioOut(instant=False), [], []
    queue = SoundQueue(out, FakeClock(), on_start=started.append, on_done=lambda done: None, wait=lambda: False)
    queue.add(RAMP, None, "First.", ready=lambda: bool(go))
    queue.add(RAMP, 1, "", lead=0.2, ready=lambda: False)
    queue.pump()
    assert out.played == [] and started == [] and queue.busy()
    go.append(True)
    queue.pump()
    assert started == ["First."]
    out.played[0].finish()
    queue.pump()
    assert len(out.played) == 2


def test_a_text_never_waits_for_its_rest_longer_than_the_longest_wait():
    """On a machine too busy to render ahead, a long silence is taken for the end: it starts anyway."""
    from voice_guide.live.sound_queue import READY_WAIT, SoundQueue
    from voice_guide.testing import FakeClock, MemoryAudioOut

    out, clock, started = MemoryAudioOut(instant=False), FakeClock(), []
    queue = SoundQueue(out, clock, on_start=started.append, on_done=lambda done: None, wait=lambda: False)
    queue.add(RAMP, 1, "Never ready.", ready=lambda: False)
    queue.pump()
    clock.advance(READY_WAIT - 0.1)
    queue.pump()
    assert started == []
    clock.advance(0.2)
    queue.pump()
    assert started == ["Never ready."]


class BetweenSamplesPlayback(MemoryPlayback):
    """The device reports the sound sounding from 0.3 s and a quarter of a sample after `play`."""

    def position(self, at: float) -> tuple[float, float]:
        return at - 0.3 - 0.25 / SPEECH_RATE, 1.0


def test_the_reference_is_placed_between_samples_where_the_device_says_the_sound_is():
    """A sound on the speaker's one stream starts a part of a sample otherwise on the microphone's:
    its echo reference is the sound taken that part of a sample later, not at the nearest sample."""
    t = np.arange(SPEECH_RATE) / SPEECH_RATE
    sine = Audio(np.sin(2 * np.pi * 500.0 * t).astype(np.float32), SPEECH_RATE)
    playing = Playing(BetweenSamplesPlayback(sine, instant=False), sine, None, start=0.0)
    ref = playing.reference(SPEECH_RATE, 0.8, round(0.1 * SPEECH_RATE))
    exact = np.sin(2 * np.pi * 500.0 * (np.arange(len(ref)) / SPEECH_RATE + 0.5 - 0.25 / SPEECH_RATE))
    nearest = sine.samples[round(0.5 * SPEECH_RATE) :][: len(ref)]
    assert np.max(np.abs(ref - exact)) < 0.01 < np.max(np.abs(nearest - exact))
