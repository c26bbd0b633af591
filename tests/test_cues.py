import wave
from pathlib import Path

import numpy as np
import pytest

from voice_guide.speaking import cues
from voice_guide.audio import rms_dbfs
from voice_guide.timeline import CUE_SECONDS

CUE_DIR = Path(__file__).resolve().parent.parent / "audio" / "cues"


@pytest.mark.parametrize("rate", [16000, 22050, 44100])
@pytest.mark.parametrize("end", [False, True])
def test_chime_lasts_exactly_the_timeline_cue(rate, end):
    sound = cues.chime(end=end, rate=rate)
    assert len(sound) == round(CUE_SECONDS * rate)
    assert sound.rate == rate


@pytest.mark.parametrize("name", sorted(cues.CUES))
def test_cues_are_gentle_and_click_free(name):
    sound = cues.CUES[name]()
    peak = float(np.max(np.abs(sound.samples)))
    assert 0.02 < peak < 0.3
    assert -40 < rms_dbfs(sound.samples) < -15
    assert abs(sound.samples[0]) < 1e-3 and abs(sound.samples[-1]) < 1e-3


def test_cues_are_distinct_and_short():
    sounds = {name: make() for name, make in cues.CUES.items()}
    for name, sound in sounds.items():
        assert sound.duration <= 0.6, name
    names = sorted(sounds)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x, y = sounds[a].samples, sounds[b].samples
            n = min(len(x), len(y))
            assert not np.allclose(x[:n], y[:n], atol=0.01), (a, b)


def test_cues_are_deterministic():
    assert np.array_equal(cues.chime().samples, cues.chime().samples)
    assert np.array_equal(cues.understood().samples, cues.understood().samples)


@pytest.mark.parametrize("name", sorted(cues.CUES))
def test_committed_cue_files_equal_what_cues_makes(name):
    with wave.open(str(CUE_DIR / f"{name}.wav"), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, cues.RATE)
        stored = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(int)
    made = np.frombuffer(cues.CUES[name]().to_pcm16(), dtype="<i2").astype(int)
    assert len(stored) == len(made)
    # One step of rounding is allowed for a different numpy or CPU; anything more means cues.py
    # changed without running scripts/make_cues.py.
    assert np.max(np.abs(stored - made)) <= 1
