"""The espeak-ng adapter against the real program, and its WAV parsing."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from voice_guide.adapters.espeak_tts import EspeakSynthesizer, list_voices, parse_wav_stream
from voice_guide.audio import rms_dbfs
from voice_guide.engines import Synthesizer, VoiceSettings
from voice_guide.errors import EngineError

TEXT = "Breathe in slowly, and let your shoulders drop."


@pytest.fixture(scope="module")
def synth():
    return EspeakSynthesizer()


def test_speaks_mono_22050_of_plausible_length(synth):
    assert isinstance(synth, Synthesizer)
    audio = synth.synthesize(TEXT, VoiceSettings(rate=150))
    words = len(TEXT.split())
    assert audio.rate == 22050
    assert 0.5 * words * 60 / 150 < audio.duration < 2.5 * words * 60 / 150
    assert rms_dbfs(audio.samples) > -40


def test_slower_rate_is_longer(synth):
    fast = synth.synthesize(TEXT, VoiceSettings(rate=220))
    slow = synth.synthesize(TEXT, VoiceSettings(rate=100))
    assert slow.duration > 1.5 * fast.duration


def test_volume_scales_loudness(synth):
    loud = synth.synthesize(TEXT, VoiceSettings(volume=1.0))
    soft = synth.synthesize(TEXT, VoiceSettings(volume=0.3))
    assert rms_dbfs(loud.samples) - rms_dbfs(soft.samples) > 6


def test_named_voice_is_used(synth):
    default = synth.synthesize(TEXT, VoiceSettings())
    american = synth.synthesize(TEXT, VoiceSettings(voice="en-us"))
    assert american.duration > 0
    n = min(len(default), len(american))
    assert not np.array_equal(default.samples[:n], american.samples[:n])


def test_text_that_looks_like_an_option_is_spoken(synth):
    assert synth.synthesize("-v is not an option here.", VoiceSettings()).duration > 1.0


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_blank_text_is_silence(synth, text):
    assert len(synth.synthesize(text, VoiceSettings())) == 0


def test_unknown_voice_says_what_to_do(synth):
    with pytest.raises(EngineError, match="voice 'xx-no-such-voice'.*another voice"):
        synth.synthesize("Hello.", VoiceSettings(voice="xx-no-such-voice"))


def test_missing_program_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineError) as err:
        EspeakSynthesizer().synthesize("Hello.", VoiceSettings())
    assert str(err.value) == "espeak-ng is not installed; run scripts/setup.sh (or apt-get install espeak-ng)."
    with pytest.raises(EngineError):
        list_voices()


def test_list_voices_has_english():
    voices = list_voices("en")
    assert voices and all(v.language.startswith("en") for v in voices)
    assert any(v.identifier == "gmw/en-US" for v in voices)


def _wav(pcm: bytes, rate: int = 22050, bogus_sizes: bool = True, extra_chunk: bool = False) -> bytes:
    size = 0x7FFFFFFF if bogus_sizes else len(pcm)
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    extra = b"LIST" + struct.pack("<I", 3) + b"abc\x00" if extra_chunk else b""
    return b"RIFF" + struct.pack("<I", size) + b"WAVE" + fmt + extra + b"data" + struct.pack("<I", size) + pcm


@pytest.mark.parametrize("bogus, extra", [(True, False), (False, False), (False, True)])
def test_parse_wav_stream(bogus, extra):
    pcm = np.array([0, 16384, -16384, 32767], dtype="<i2").tobytes()
    audio = parse_wav_stream(_wav(pcm, 16000, bogus, extra))
    assert audio.rate == 16000
    assert np.allclose(audio.samples, [0, 0.5, -0.5, 32767 / 32768])


@pytest.mark.parametrize("data", [b"", b"hello world, not a wav", b"RIFF\x00\x00\x00\x00WAVE"])
def test_parse_wav_stream_rejects_non_wav(data):
    with pytest.raises(EngineError):
        parse_wav_stream(data)
