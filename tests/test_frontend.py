"""The pure audio front-end: level, trimming, filtering, dither."""

import numpy as np
import pytest

from voice_guide.audio import SPEECH_RATE, Audio, frame_dbfs, frame_power, rms_dbfs, tone
from voice_guide.hearing.frontend import FRAME, FrontEnd, dither, highpass, normalise_gain, speech_bounds

RATE = SPEECH_RATE


def test_frame_levels_side_by_side_or_overlapping():
    x = np.concatenate([np.full(4, 0.5), np.zeros(4), np.full(3, 0.1)]).astype(np.float32)
    assert frame_power(x, 4) == pytest.approx([0.25, 0.0])
    assert frame_dbfs(x, 4) == pytest.approx([20 * np.log10(0.5), -120.0])
    assert frame_dbfs(x, 4, floor_db=-200) == pytest.approx([20 * np.log10(0.5), -200.0])
    assert frame_power(x, 4, hop=2) == pytest.approx([0.25, 0.125, 0.0, 0.005])
    assert len(frame_power(x[:3], 4)) == 0


def word_in_quiet(before: float, word: float, after: float, level: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(1)
    quiet = lambda s: (rng.standard_normal(round(s * RATE)) * 1e-3).astype(np.float32)  # noqa: E731
    return np.concatenate([quiet(before), tone(300, word, RATE, volume=level, fade=0.005).samples, quiet(after)])


@pytest.mark.parametrize("before, word, after", [(0.5, 0.4, 0.5), (0.1, 0.3, 1.0), (1.0, 0.2, 0.05)])
def test_speech_bounds_keep_the_word_with_padding(before, word, after):
    x = word_in_quiet(before, word, after)
    start, end = speech_bounds(x, RATE, pad=0.1)
    assert start <= round(before * RATE) and end >= round((before + word) * RATE)
    assert start >= round((before - 0.15) * RATE) and end <= round((before + word + 0.15) * RATE)


@pytest.mark.parametrize("x", [np.zeros(16000, np.float32), np.ones(100, np.float32) * 0.1, np.zeros(0, np.float32)])
def test_speech_bounds_keep_everything_when_nothing_stands_out(x):
    assert speech_bounds(x, RATE) == (0, len(x))


@pytest.mark.parametrize("level, target", [(0.01, -22.0), (0.3, -22.0), (0.05, -16.0)])
def test_normalise_gain_brings_the_loud_part_to_target(level, target):
    y = normalise_gain(tone(440, 1.0, RATE, volume=level).samples, RATE, target, max_gain_db=40)
    loud = np.percentile(frame_dbfs(y, round(FRAME * RATE)), 90)
    assert loud == pytest.approx(target, abs=0.5)


@pytest.mark.parametrize("level, max_gain_db", [(1e-4, 30.0), (1e-3, 10.0)])
def test_normalise_gain_never_amplifies_more_than_the_limit(level, max_gain_db):
    x = tone(440, 1.0, RATE, volume=level).samples
    y = normalise_gain(x, RATE, -22.0, max_gain_db)
    assert rms_dbfs(y) - rms_dbfs(x) == pytest.approx(max_gain_db, abs=0.1)


def test_normalise_gain_never_clips():
    x = np.zeros(16000, np.float32)
    x[8000] = 0.9  # one click in silence: the 90th percentile is quiet, the peak is not
    assert np.max(np.abs(normalise_gain(x, RATE))) <= 0.98 + 1e-6


def test_highpass_removes_dc_and_rumble_but_keeps_speech_band():
    t = np.arange(RATE) / RATE
    speechy = np.sin(2 * np.pi * 500 * t).astype(np.float32)
    y = highpass(speechy + 0.5 + np.sin(2 * np.pi * 20 * t).astype(np.float32), RATE, 70.0)
    assert abs(float(np.mean(y[2000:-2000]))) < 0.01
    assert np.std(y[2000:-2000] - speechy[2000:-2000]) < 0.1


def test_dither_leaves_no_digital_silence_and_is_repeatable():
    y = dither(np.zeros(1000, np.float32))
    assert np.all(y != 0) and np.array_equal(y, dither(np.zeros(1000, np.float32)))
    assert rms_dbfs(y) == pytest.approx(-70, abs=1)


def test_prepare_resamples_trims_and_levels():
    x = word_in_quiet(1.0, 0.4, 1.0, level=0.02)
    out = FrontEnd(pad=0.1).prepare(Audio(x, RATE).resample(44100))
    assert out.rate == RATE
    assert 0.4 <= out.duration <= 0.7
    assert np.percentile(frame_dbfs(out.samples, round(FRAME * RATE)), 90) == pytest.approx(-22, abs=1.5)


def test_prepare_without_trim_keeps_length():
    x = word_in_quiet(0.5, 0.3, 0.5)
    assert len(FrontEnd(trim=False).prepare(Audio(x, RATE))) == len(x)


def test_highpass_is_a_forward_backward_butterworth_away_from_the_edges():
    signal = pytest.importorskip("scipy.signal")
    x = (np.random.default_rng(8).standard_normal(RATE) * 0.1).astype(np.float32)
    theirs = signal.sosfiltfilt(signal.butter(2, 70.0, btype="highpass", fs=RATE, output="sos"), x - x.mean())
    assert np.allclose(highpass(x, RATE, 70.0)[1600:-1600], theirs[1600:-1600], atol=1e-3)
