"""Reading utterances and streams from sound files of every common flavour, and refusing bad ones."""

from __future__ import annotations

import shutil
import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voice_guide.audio import resample
from voice_guide.hearing.audio_files import iter_blocks, read_utterance
from voice_guide.errors import AudioInputError


def sine(rate: int, seconds: float = 1.0, freq: float = 440.0) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


FLAVOURS = [
    (8000, 1, "PCM_16"), (11025, 1, "PCM_U8"), (16000, 1, "PCM_16"), (22050, 2, "PCM_16"),
    (44100, 2, "PCM_24"), (48000, 1, "PCM_24"), (48000, 2, "FLOAT"), (32000, 1, "DOUBLE"),
    (16000, 6, "PCM_32"),
]


@pytest.mark.parametrize("rate, channels, subtype", FLAVOURS)
def test_any_wav_flavour_becomes_16k_mono(tmp_path, rate, channels, subtype):
    path = tmp_path / "x.wav"
    mono = sine(rate)
    sf.write(path, np.repeat(mono[:, None], channels, axis=1), rate, subtype=subtype)
    audio = read_utterance(path)
    assert audio.rate == 16000
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert abs(audio.duration - 1.0) < 0.001
    expected = resample(mono, rate, 16000)
    middle = slice(800, -800)
    assert np.abs(audio.samples[middle] - expected[middle]).max() < 0.02


def test_stereo_channels_are_mixed_not_dropped(tmp_path):
    path = tmp_path / "stereo.wav"
    left = sine(16000)
    sf.write(path, np.stack([left, np.zeros_like(left)], axis=1), 16000)
    assert np.abs(read_utterance(path).samples).max() == pytest.approx(0.25, abs=0.01)


def test_other_rates_on_request(tmp_path):
    path = tmp_path / "x.wav"
    sf.write(path, sine(16000), 16000)
    assert len(read_utterance(path, rate=8000).samples) == 8000


def test_broken_float_samples_become_silence(tmp_path):
    path = tmp_path / "nan.wav"
    data = sine(16000)
    data[100:200] = np.nan
    data[300] = np.inf
    sf.write(path, data, 16000, subtype="FLOAT")
    samples = read_utterance(path).samples
    assert np.isfinite(samples).all() and np.abs(samples).max() <= 1.0


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
@pytest.mark.slow
def test_an_mp3_named_wav_is_decoded(tmp_path):
    mp3 = tmp_path / "x.mp3"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
         "-ar", "22050", str(mp3)],
        check=True,
    )
    renamed = tmp_path / "x.wav"
    mp3.rename(renamed)
    audio = read_utterance(renamed)
    assert audio.rate == 16000
    assert 0.9 < audio.duration < 1.2
    assert np.abs(audio.samples).max() > 0.05


def _bad_files(tmp_path):
    (tmp_path / "zero.wav").write_bytes(b"")
    (tmp_path / "random.wav").write_bytes(np.random.default_rng(0).bytes(5000))
    (tmp_path / "text.wav").write_text("this is not sound\n" * 50)
    sf.write(tmp_path / "nosamples.wav", np.zeros((0, 1), dtype=np.float32), 16000)
    (tmp_path / "folder.wav").mkdir()
    return {
        "missing.wav": "no such file",
        "zero.wav": "empty (0 bytes)",
        "random.wav": "not a WAV file",
        "text.wav": "not a WAV file",
        "nosamples.wav": "no sound (no samples)",
        "folder.wav": "folder",
    }


@pytest.mark.parametrize("reader", [read_utterance, lambda p: list(iter_blocks(p))])
def test_bad_files_get_one_clear_sentence_naming_the_file(tmp_path, reader):
    for name, says in _bad_files(tmp_path).items():
        with pytest.raises(AudioInputError) as err:
            reader(tmp_path / name)
        message = str(err.value)
        assert name in message and says in message
        assert message.endswith(".") and "\n" not in message


def test_too_long_for_one_utterance_says_so(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros(16000 * 31, dtype=np.float32), 16000)
    with pytest.raises(AudioInputError, match="too long for one utterance"):
        read_utterance(path)
    assert read_utterance(path, max_seconds=40).duration == pytest.approx(31)


@pytest.mark.parametrize("rate, channels", [(8000, 1), (44100, 2), (48000, 1), (16000, 1)])
def test_streamed_blocks_equal_the_whole_file_resampled(tmp_path, rate, channels):
    rng = np.random.default_rng(1)
    mono = (rng.standard_normal(rate * 2 + 77) * 0.1).astype(np.float32)
    path = tmp_path / "x.wav"
    sf.write(path, np.repeat(mono[:, None], channels, axis=1), rate, subtype="FLOAT")
    blocks = list(iter_blocks(path, block=1600, chunk=3000))
    assert all(len(b) == 1600 for b in blocks[:-1]) and 0 < len(blocks[-1]) <= 1600
    assert all(b.dtype == np.float32 for b in blocks)
    np.testing.assert_allclose(np.concatenate(blocks), resample(mono, rate, 16000), atol=1e-5)


@pytest.mark.slow
def test_an_hour_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "hour.wav"
    minute = (np.random.default_rng(2).standard_normal(8000 * 60) * 0.05).astype(np.float32)
    with sf.SoundFile(path, "w", 8000, 1, subtype="PCM_16") as f:
        for _ in range(60):
            f.write(minute)
    small = tmp_path / "small.wav"
    sf.write(small, minute[:8000], 8000)
    list(iter_blocks(small))  # imports what reading needs before measuring
    tracemalloc.start()
    try:
        total = 0
        for block in iter_blocks(path):
            total += len(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 16000 * 3600
    size = path.stat().st_size
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB for a file of {size / 2**20:.0f} MiB"


# ---- issue 10: hostile headers and files that are not files (defects 2 and 7) ------------------------

def tiny_wav(path, rate, channels=1):
    """A 46-byte WAV (one 16-bit sample) whose header claims `rate`."""
    import struct

    data = b"\x00\x00" * channels
    fmt = struct.pack("<HHIIHH", 1, channels, rate, min(rate * 2 * channels, 2**32 - 1), 2 * channels, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


@pytest.mark.parametrize("reader", [read_utterance, lambda p: list(iter_blocks(p))])
def test_rates_no_recording_has_are_refused_from_the_header(tmp_path, reader):
    files = [tiny_wav(tmp_path / "fast.wav", 1_999_993), tiny_wav(tmp_path / "max.wav", 2_147_483_647),
             tiny_wav(tmp_path / "slow.wav", 100)]
    flac = tmp_path / "eight.flac"
    sf.write(flac, (np.random.default_rng(1).standard_normal((20000, 8)) * 0.1).astype(np.float32), 655_350)
    for path in [*files, flac]:
        with pytest.raises(AudioInputError, match="which no recording has") as err:
            reader(path)
        assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_odd_rates_in_range_cost_only_their_length(tmp_path):
    """Rates with no common factor with 16 kHz: a filter sized by the factor took minutes and GBs."""
    for rate in (383_999, 4_001, 44_099):
        path = tmp_path / f"{rate}.wav"
        sf.write(path, sine(rate, 0.5), rate)
        expected = round(sf.info(str(path)).frames * 16000 / rate)
        audio = read_utterance(path)
        assert abs(len(audio.samples) - expected) <= 1
        assert 0.3 < np.abs(audio.samples).max() < 0.6
        assert abs(sum(len(b) for b in iter_blocks(path)) - expected) <= 1


def test_many_channels_are_read_a_little_at_a_time(tmp_path, monkeypatch):
    import voice_guide.hearing.audio_files as audio_files

    reads = []
    real = sf.SoundFile.read

    def read(self, frames=-1, *args, **kw):
        reads.append(frames)
        return real(self, frames, *args, **kw)

    monkeypatch.setattr(sf.SoundFile, "read", read)
    path = tmp_path / "many.wav"
    sf.write(path, np.repeat(sine(16000)[:, None], 64, axis=1), 16000)
    assert read_utterance(path).duration == pytest.approx(1.0)
    assert reads and all(0 < n <= audio_files.CHUNK_FRAMES // 64 for n in reads)


def _refused(path, reader):
    """The reader's error for `path`, given within seconds (a pipe must never be waited on)."""
    import threading

    caught = []

    def attempt():
        try:
            reader(path)
        except AudioInputError as exc:
            caught.append(str(exc))

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), f"reading {path} hangs"
    assert len(caught) == 1, caught
    return caught[0]


@pytest.mark.parametrize("reader", [read_utterance, lambda p: list(iter_blocks(p))])
def test_files_that_are_not_recordings_say_what_they_are(tmp_path, reader):
    import os

    fifo = tmp_path / "fifo.wav"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.wav"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling.wav"
    dangling.symlink_to(tmp_path / "gone.wav")
    cases = {fifo: "pipe (FIFO)", Path("/dev/zero"): "device", Path("/proc/self/status"): "system file",
             loop: "points back to itself", dangling: "points to a file that does not exist"}
    for path, says in cases.items():
        message = _refused(path, reader)
        assert message.startswith(str(path)) and says in message and "empty" not in message, message
