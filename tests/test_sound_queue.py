"""The echo reference: what the guide's sound queue says it is playing at a given moment."""

from __future__ import annotations

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.sound_queue import Playing
from voice_guide.testing import MemoryPlayback

RAMP = Audio(np.arange(2 * SPEECH_RATE, dtype=np.float32) / (2 * SPEECH_RATE), SPEECH_RATE)
"""Two seconds whose every sample tells where in the sound it is."""


class DuckedAheadPlayback(MemoryPlayback):
    """A device that took the duck from 1.3 s into the sound (the samples it had not been given yet)."""

    def gain_changes(self) -> list[tuple[float, float]]:
        return [(0.0, 1.0), (1.3, 0.3)]


def test_the_reference_follows_the_gain_each_sample_was_played_with():
    playing = Playing(DuckedAheadPlayback(RAMP, instant=False), RAMP, None, start=0.0)
    playing.duck(0.3)  # asked for long before; the device applied it from 1.3 s
    ref = playing.reference(SPEECH_RATE, 1.2, round(0.2 * SPEECH_RATE))
    expected = RAMP.samples[round(1.2 * SPEECH_RATE) : round(1.4 * SPEECH_RATE)].copy()
    expected[round(0.1 * SPEECH_RATE) :] *= np.float32(0.3)
    np.testing.assert_allclose(ref, expected, atol=1e-6)


def test_without_the_devices_word_the_reference_is_at_the_gain_asked_for():
    playing = Playing(MemoryPlayback(RAMP, instant=False), RAMP, None, start=0.5)
    playing.duck(0.3)
    ref = playing.reference(SPEECH_RATE, 2.4, round(0.2 * SPEECH_RATE))  # its last 0.1 s, then silence
    half = round(0.1 * SPEECH_RATE)
    np.testing.assert_allclose(ref[:half], RAMP.samples[-half:] * np.float32(0.3), atol=1e-6)
    assert not ref[half:].any()
