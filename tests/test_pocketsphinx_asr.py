"""The embedded pocketsphinx recogniser, against the real engine and espeak-ng speech."""

import logging
import shutil

import numpy as np
import pytest

from voice_guide.understanding import matching
from voice_guide.understanding.vocabulary import build_vocabulary
from voice_guide.adapters.pocketsphinx_asr import PocketsphinxRecognizer, Tuning, _transitions, phone_distance
from voice_guide.audio import SPEECH_RATE, Audio, add_noise_floor
from voice_guide.engines import Hypothesis, Recognizer
from voice_guide.errors import ModelError
from voice_guide.testing import espeak_speech

pytestmark = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")


def espeak(text: str, voice: str = "en-us", rate: int = 150) -> Audio:
    return espeak_speech(text, voice, rate, trim=False, pad=0.3, noise_floor=-60.0)


@pytest.fixture(scope="module")
def vocab():
    return build_vocabulary()


@pytest.fixture(scope="module")
def recognizer(vocab):
    return PocketsphinxRecognizer(vocab.phrases(), vocab.non_commands(grammar_safe=True))


@pytest.mark.slow
def test_it_is_a_recognizer(recognizer):
    assert isinstance(recognizer, Recognizer) and recognizer.name == "pocketsphinx"
    assert recognizer.garbage and not set(recognizer.garbage) & set(recognizer.phrases)


# pocketsphinx's model is fragile on espeak-ng voices (the en-us voice's "next" often becomes "do it"):
# these are voices it hears, not the only ones that work.
@pytest.mark.parametrize("word, voice, command", [("next", "en", "next"), ("pause", "en-us", "pause"),
                                                  ("stop", "en-us", "stop")])
@pytest.mark.slow
def test_command_words_are_recognised(recognizer, vocab, word, voice, command):
    nbest = recognizer.decode(espeak(word, voice, 140))
    assert nbest and all(isinstance(h, Hypothesis) and 0.0 <= h.confidence <= 1.0 for h in nbest)
    m = matching.match(nbest, vocab)
    assert (m.decision, m.command.id if m.command else None) == ("act", command)


@pytest.mark.parametrize("word", ["window", "kitchen"])
@pytest.mark.slow
def test_a_non_command_word_gives_no_command(recognizer, vocab, word):
    assert matching.match(recognizer.decode(espeak(word, "en", 140)), vocab).decision != "act"


def test_silence_gives_nothing(recognizer, vocab):
    nbest = recognizer.decode(add_noise_floor(Audio.silence(1.0, SPEECH_RATE), -60.0))
    assert matching.match(nbest, vocab).decision == "none"


def test_other_rates_are_resampled(recognizer, vocab):
    m = matching.match(recognizer.decode(espeak("stop", "en-us", 140).resample(44100)), vocab)
    assert m.decision == "act" and m.command.id == "stop"


def test_unknown_words_drop_their_phrase_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        rec = PocketsphinxRecognizer(["next", "stop", "flibbertigibbet now"], (), Tuning(garbage_words=20))
    assert rec.phrases == ["next", "stop"] and rec.dropped == ["flibbertigibbet now"]
    assert "flibbertigibbet" in caplog.text


def test_garbage_words_keep_away_from_commands():
    rec = PocketsphinxRecognizer(["no", "stop"], ["know", "stock", "cat"], Tuning(garbage_words=200, min_distance=2))
    assert "know" not in rec.garbage and "stock" not in rec.garbage and "cat" in rec.garbage


def test_missing_model_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="missing or incomplete"):
        PocketsphinxRecognizer(["next"], model_dir=tmp_path)


@pytest.mark.parametrize("a, b, d", [("N OW", "N OW", 0), ("N OW", "G OW", 1), ("S T AA P", "S T AA K", 1),
                                     ("Y EH S", "", 3), ("AH P", "D AW N", 3)])
def test_phone_distance(a, b, d):
    assert phone_distance(a.split(), b.split()) == d


def test_grammar_transitions_chain_phrases_and_share_probability():
    arcs = _transitions(["next", "start massage"], ["cat", "dog"], 0.5)
    assert (0, 1, 0.25, "next") in arcs and (0, 1, 0.25, "cat") in arcs
    chain = [a for a in arcs if a[3] in ("start", "massage")]
    assert chain[0][:2] == (0, 2) and chain[1][:2] == (2, 1)


def test_phrases_sharing_words_share_arcs():
    arcs = _transitions(["go", "go on", "go back", "next"], [], 0.0)
    go = [a for a in arcs if len(a) == 4 and a[3] == "go"]
    assert len(go) == 1 and go[0][0] == 0 and go[0][2] == pytest.approx(0.75)
    state = go[0][1]
    ends = [a for a in arcs if len(a) == 3]
    assert ends == [(state, 1, pytest.approx(1 / 3))]
    assert {a[3] for a in arcs if len(a) == 4 and a[0] == state} == {"on", "back"}


@pytest.mark.parametrize("samples, rate", [(np.zeros(0, np.float32), 16000), (np.zeros(160, np.float32), 16000),
                                           (np.ones(16000, np.float32), 16000), (np.zeros(4000, np.float32), 8000)])
@pytest.mark.slow
def test_odd_sounds_decode_to_nothing(samples, rate):
    rec = PocketsphinxRecognizer(["next", "stop"], (), Tuning(garbage_words=0))
    assert rec.decode(Audio(samples, rate)) == []


@pytest.mark.slow
def test_a_decode_does_not_depend_on_earlier_utterances(vocab):
    """With pocketsphinx's lattice best-path pass, "where" decoded after other words came out as the
    unfinished "where am"; each utterance must be judged on its own."""
    words = ["where", "help", "back", "where", "stop", "help"]
    clips = {w: espeak(w, "en", 140) for w in set(words)}

    def fresh(word):
        return PocketsphinxRecognizer(vocab.phrases(), []).decode(clips[word])

    def top(nbest):
        return nbest[0].text if nbest else None

    alone = {w: top(fresh(w)) for w in clips}
    shared = PocketsphinxRecognizer(vocab.phrases(), [])
    assert [(w, top(shared.decode(clips[w]))) for w in words] == [(w, alone[w]) for w in words]
    assert alone["where"] == "where"
