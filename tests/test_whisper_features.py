"""Whisper's features and tokens computed without faster-whisper are faster-whisper's own."""

import numpy as np
import pytest

from voice_guide.understanding import whisper_models
from voice_guide.adapters.whisper_features import Tokens, log_mel, mel_filters

fw_features = pytest.importorskip("faster_whisper.feature_extractor")
fw_tokenizer = pytest.importorskip("faster_whisper.tokenizer")


@pytest.mark.parametrize("n_mels", [80, 128])
def test_the_filterbank_is_whispers(n_mels):
    theirs = fw_features.FeatureExtractor.get_mel_filters(16000, 400, n_mels=n_mels)
    assert np.allclose(mel_filters(n_mels), theirs, atol=1e-7)


@pytest.mark.parametrize("seconds", [0.3, 1.0, 10.0])
def test_the_log_mel_is_whispers(seconds):
    rng = np.random.default_rng(3)
    samples = (0.1 * rng.standard_normal(int(16000 * seconds))).astype(np.float32)
    samples[: len(samples) // 3] *= 0.01
    theirs = fw_features.FeatureExtractor(feature_size=80)(samples, padding=0)
    ours = log_mel(samples, mel_filters(80))
    assert ours.shape == theirs.shape
    assert np.allclose(ours, theirs, atol=2e-5)


def test_the_tokens_are_whispers():
    tokenizers = pytest.importorskip("tokenizers")
    folder, _ = whisper_models.find("tiny.en")
    if folder is None:
        pytest.skip("tiny.en is not installed")
    hf = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    ours, theirs = Tokens(hf, multilingual=False), fw_tokenizer.Tokenizer(hf, False, task="transcribe", language=None)
    assert ours.sot_sequence == list(theirs.sot_sequence)
    assert (ours.no_timestamps, ours.eot) == (theirs.no_timestamps, theirs.eot)
    assert ours.encode(" Go to step 3.") == theirs.encode(" Go to step 3.")
    assert ours.decode(ours.encode(" Next one, please.")) == " Next one, please."
