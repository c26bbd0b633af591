"""The echo reference: what the guide's sound queue says is sounding at a given moment."""

from __future__ import annotations

import numpy as np

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
