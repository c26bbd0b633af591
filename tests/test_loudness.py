"""Exported tracks' loudness: BS.1770 integrated loudness, true peak, and the gain to a target."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from voice_guide import cli, loudness
from voice_guide.testing import FakeEncoder, FakeSynthesizer
from voice_guide.wiring import Devices

RATE = 22050


def sine(freq: float, amplitude: float, seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def speech_like(seconds: float = 20.0, rate: int = RATE, seed: int = 1) -> np.ndarray:
    """Bursts of noise shaped like syllables, with pauses and a few sharp peaks: what a limiter meets."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * np.arange(n) / rate), 0, None) ** 2
    envelope[(np.arange(n) // rate) % 4 == 3] = 0.0  # a quiet second in every four
    x = rng.standard_normal(n) * envelope * 0.05
    x[rng.integers(0, n, 40)] = 0.6
    return x.astype(np.float32)


def true_peak_by_scipy(samples: np.ndarray) -> float:
    from scipy.signal import resample

    return float(20 * np.log10(np.max(np.abs(resample(samples.astype(np.float64), 4 * len(samples))))))


def test_a_1khz_sine_measures_as_the_standard_says():
    """BS.1770: a full-scale 997 Hz sine reads -3.01 LUFS, so one at 0.1 reads 20 dB lower."""
    for rate in (22050, 48000):
        assert loudness.integrated_lufs(sine(997, 0.1, 5, rate), rate) == pytest.approx(-23.01, abs=0.1)


def test_k_weighting_is_the_standard_pair_of_filters():
    from scipy.signal import lfilter

    x = speech_like(3.0)
    expected = x.astype(np.float64)
    for stage in (("high_shelf", 4.0, 1 / np.sqrt(2), 1500.0), ("high_pass", 0.0, 0.5, 38.0)):
        b, a = loudness._biquad(*stage, RATE)
        expected = lfilter(b, a, expected)
    assert np.max(np.abs(loudness.k_weighted(x, RATE) - expected)) < 1e-6


def test_silence_is_gated_out():
    """A session's long quiet holds do not make its speech count as quieter."""
    tone = sine(997, 0.1, 4)
    short, long = (np.concatenate([tone, np.zeros(seconds * RATE, dtype=np.float32)]) for seconds in (2, 60))
    assert loudness.integrated_lufs(long, RATE) == pytest.approx(loudness.integrated_lufs(short, RATE), abs=0.001)
    assert loudness.integrated_lufs(np.zeros(RATE, dtype=np.float32), RATE) == float("-inf")


@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_to_loudness_reaches_the_target_with_true_peak_under_the_ceiling(target):
    x = speech_like()
    out = loudness.to_loudness(x, RATE, target)
    assert loudness.integrated_lufs(out, RATE) == pytest.approx(target, abs=0.1)
    assert true_peak_by_scipy(out) <= loudness.PEAK_DBTP
    assert len(out) == len(x) and out.dtype == np.float32


def test_to_loudness_leaves_silence_alone():
    quiet = np.zeros(RATE, dtype=np.float32)
    assert np.array_equal(loudness.to_loudness(quiet, RATE), quiet)


def _export(out, *extra):
    out.mkdir()
    devices = Devices(synthesizer=lambda settings: FakeSynthesizer(), encoder=FakeEncoder)
    assert cli.main(["export", "what-to-do", "--format", "wav", "--out", str(out), "--jobs", "1", *extra],
                    devices=devices) == 0
    (track,) = out.glob("*.wav")
    samples, rate = soundfile.read(str(track), dtype="float32")
    return samples, rate


def test_export_writes_tracks_at_minus_16_lufs_and_the_setting_changes_it(tmp_path, guide_home, capsys):
    samples, rate = _export(tmp_path / "default")
    assert loudness.integrated_lufs(samples, rate) == pytest.approx(-16.0, abs=0.2)
    assert true_peak_by_scipy(samples) <= loudness.PEAK_DBTP + 0.05  # 16-bit rounding
    assert cli.main(["settings", "set", "loudness", "-20"]) == 0
    samples, rate = _export(tmp_path / "setting")
    assert loudness.integrated_lufs(samples, rate) == pytest.approx(-20.0, abs=0.2)
    samples, rate = _export(tmp_path / "flag", "--loudness", "-18")
    assert loudness.integrated_lufs(samples, rate) == pytest.approx(-18.0, abs=0.2)


def test_a_loudness_out_of_range_is_refused(guide_home, capsys):
    assert cli.main(["settings", "set", "loudness", "-3"]) == 2
    assert "loudness must be -30 to -10 LUFS" in capsys.readouterr().err
