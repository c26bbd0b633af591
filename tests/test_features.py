"""Features: the sounding part only, invariant to loudness, and a DTW distance that tells words apart."""

import numpy as np
import pytest

from voice_guide.audio import Audio, tone
from voice_guide.hearing.features import (DEFAULT, dct_matrix, deltas, dtw_distance, log_mel, mel_filterbank, mfcc,
                                          sounding_span, trim, utterance_features)

from degraded_speaker import espeak, take

RATE = 16000


def quiet_then(sound: Audio, before: float = 0.5, after: float = 0.7) -> Audio:
    rng = np.random.default_rng(1)
    x = np.concatenate([np.zeros(int(before * RATE)), sound.samples, np.zeros(int(after * RATE))])
    return Audio(x + rng.standard_normal(len(x)) * 1e-3, RATE)


def test_sounding_span_finds_the_tone_inside_quiet():
    audio = quiet_then(tone(440, 0.3, RATE, volume=0.3))
    a, b = sounding_span(audio.samples, RATE)
    assert 0.4 * RATE <= a <= 0.5 * RATE
    assert 0.8 * RATE <= b <= 0.9 * RATE
    assert trim(audio).duration == pytest.approx((b - a) / RATE)


@pytest.mark.parametrize("samples", [np.zeros(0), np.zeros(8000), np.full(8000, 1e-3)])
def test_sounding_span_of_nothing_is_everything(samples):
    assert sounding_span(samples.astype(np.float32), RATE) == (0, len(samples))


def test_shapes_and_filterbank():
    audio = tone(300, 1.0, RATE)
    assert log_mel(audio).shape == (98, DEFAULT.n_mels)
    assert mfcc(audio).shape == (98, DEFAULT.n_mfcc)
    bank = mel_filterbank(RATE, 512, 40, 60.0, 4000.0)
    assert bank.shape == (40, 257) and (bank >= 0).all() and (bank.max(axis=1) > 0.5).all()
    assert not bank[:, np.fft.rfftfreq(512, 1 / RATE) > 4000].any()


def test_deltas_of_a_ramp_are_its_slope():
    x = np.arange(20, dtype=float)[:, None] * 3.0
    assert np.allclose(deltas(x)[2:-2], 3.0)


@pytest.mark.slow
def test_features_ignore_loudness_and_surrounding_quiet():
    word = espeak("pause", 120, 40)
    a = utterance_features(quiet_then(word, 0.2, 0.2))
    b = utterance_features(quiet_then(word, 0.8, 0.5).gain(0.2))
    assert abs(len(a) - len(b)) <= 3
    assert dtw_distance(a, b) < 1.5 < 2.5 < dtw_distance(a, utterance_features(quiet_then(espeak("louder", 120, 40))))
    assert np.allclose(a.mean(axis=0), 0, atol=1e-6)


def test_dtw_distance_tells_words_apart_more_than_takes():
    pause = [utterance_features(take("pause", i)) for i in range(3)]
    louder = utterance_features(take("louder", 0))
    same = max(dtw_distance(pause[0], p) for p in pause[1:])
    assert dtw_distance(pause[0], pause[0]) == 0.0
    assert dtw_distance(pause[0], louder) > same
    assert dtw_distance(pause[0], pause[1]) == pytest.approx(dtw_distance(pause[1], pause[0]))


@pytest.mark.slow
def test_dtw_of_empty_is_infinite_and_rate_is_handled():
    assert dtw_distance(np.zeros((0, 26)), np.zeros((5, 26))) == float("inf")
    word = quiet_then(espeak("next", 120, 40))
    at_22k = word.resample(22050)
    assert dtw_distance(utterance_features(word), utterance_features(at_22k)) < 0.5


def test_the_cepstrum_is_the_orthonormal_dct():
    scipy_fft = pytest.importorskip("scipy.fft")
    x = np.random.default_rng(5).standard_normal((7, 26))
    assert np.allclose(x @ dct_matrix(26, 13).T, scipy_fft.dct(x, type=2, axis=1, norm="ortho")[:, :13])
