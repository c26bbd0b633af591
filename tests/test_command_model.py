"""The command model: its weights file (saved, loaded, refused when missing, damaged or trained for
another vocabulary or encoder), pooling, the shipped head on Whisper's real encoder (reused from the
decoding of the same utterance), and the speech embedding it was measured against, on real audio."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voice_guide.audio import Audio
from voice_guide.errors import ModelError
from voice_guide.understanding.command_model import (NOT_A_COMMAND, WEIGHTS, CommandModel, Head, describe,
                                                     key_command, command_key, open_command_model, pool,
                                                     shipped_head_path, vocabulary_hash)
from voice_guide.understanding.matching import Command
from voice_guide.understanding.vocabulary import build_vocabulary


@pytest.fixture(scope="module")
def vocab():
    return build_vocabulary()


class Frames:
    """A fake embedder: a fixed number of frames whose values follow the audio's loudness."""

    name = "fake"

    def embed(self, audio: Audio) -> np.ndarray:
        level = float(np.abs(audio.samples).mean()) if len(audio.samples) else 0.0
        return np.full((5, 4), level, dtype=np.float32)


def tiny_head(vocab, classes=("pause", NOT_A_COMMAND), embedding="fake", sureness=(10.0,)) -> Head:
    """One member per sureness: the louder the audio, the surer each member is of "pause"."""
    n_in, hidden, m = 20, 3, len(sureness)
    w2 = np.zeros((m, hidden, len(classes)), np.float32)
    w2[:, 0, 0] = sureness
    w1 = np.zeros((m, n_in, hidden), np.float32)
    w1[:, 0, 0] = 1.0
    return Head(tuple(classes), embedding, vocabulary_hash(vocab), np.zeros(n_in, np.float32),
                np.ones(n_in, np.float32), w1, np.zeros((m, hidden), np.float32), w2,
                np.zeros((m, len(classes)), np.float32))


def write_weights(path, head: Head, classes=("pause", NOT_A_COMMAND), **arrays) -> None:
    """`head`'s weights as a file, with `arrays` in place of its own (a file written otherwise)."""
    meta = {"classes": list(classes), "embedding": "fake", "vocab_hash": "x"}
    weights = {k: getattr(head, k) for k in WEIGHTS} | arrays
    np.savez(path, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **weights)


def test_keys_name_every_kind_of_command():
    for command in (Command("pause"), Command("open", "quiet-face"), Command("step", 3), Command("suggestion", 12),
                    Command("teach", "pause"), None):
        assert key_command(command_key(command)) == command


def test_keys_give_back_the_matchers_own_commands(vocab):
    """The model's and the matcher's command must compare equal, or a sure model of "the first" asks
    "the first or the first?" and a question never takes the model's answer."""
    commands = {p.command for p in vocab.entries + vocab.items}
    assert Command("choice", 1) in commands
    for command in commands:
        assert key_command(command_key(command)) == command


def test_pool_gives_one_length_for_any_number_of_frames():
    lengths = {pool(np.ones((n, 4))).shape for n in (1, 2, 3, 17)}
    assert lengths == {(20,)}
    with pytest.raises(ValueError):
        pool(np.ones((0, 4)))


def test_saved_head_scores_the_same_after_loading(tmp_path, vocab):
    head = tiny_head(vocab)
    head.save(tmp_path / "h.npz")
    model = CommandModel(Frames(), Head.load(tmp_path / "h.npz"), vocab)
    loud = model.scores(Audio(np.full(16000, 0.5, np.float32), 16000))
    quiet = model.scores(Audio(np.zeros(16000, np.float32), 16000))
    assert loud[Command("pause")] > 0.95 and quiet[None] == pytest.approx(0.5)
    assert sum(loud.values()) == pytest.approx(1.0)


def test_members_are_averaged_and_a_head_written_before_members_loads_as_one(tmp_path, vocab):
    loud = pool(Frames().embed(Audio(np.full(16000, 0.5, np.float32), 16000)))
    sure, doubting = tiny_head(vocab, sureness=(10.0,)), tiny_head(vocab, sureness=(-10.0,))
    both = tiny_head(vocab, sureness=(10.0, -10.0))
    assert both.members == 2
    assert both.probabilities(loud) == pytest.approx((sure.probabilities(loud) + doubting.probabilities(loud)) / 2)
    batch = both.probabilities(np.stack([loud, np.zeros_like(loud)]))
    assert batch.shape == (2, 2) and batch[0] == pytest.approx(both.probabilities(loud))
    write_weights(tmp_path / "old.npz", sure, w1=sure.w1[0], b1=sure.b1[0], w2=sure.w2[0], b2=sure.b2[0])
    old = Head.load(tmp_path / "old.npz")
    assert old.members == 1 and old.probabilities(loud) == pytest.approx(sure.probabilities(loud))


def test_missing_and_damaged_weights_are_refused_with_how_to_retrain(tmp_path, vocab):
    with pytest.raises(ModelError, match="missing.*train_commands"):
        Head.load(tmp_path / "none.npz")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ModelError, match="damaged.*train_commands"):
        Head.load(tmp_path / "bad.npz")
    write_weights(tmp_path / "short.npz", tiny_head(vocab), classes=("a",))
    with pytest.raises(ModelError, match="damaged"):
        Head.load(tmp_path / "short.npz")
    two = tiny_head(vocab, sureness=(1.0, 2.0))
    write_weights(tmp_path / "uneven.npz", two, b1=two.b1[:1])
    with pytest.raises(ModelError, match="damaged"):
        Head.load(tmp_path / "uneven.npz")


def test_a_head_for_another_vocabulary_or_embedding_is_refused(vocab):
    from voice_guide.content.loader import load_library

    other = build_vocabulary(load_library().items)
    assert vocabulary_hash(other) != vocabulary_hash(vocab)
    with pytest.raises(ModelError, match="another list of commands.*train_commands"):
        CommandModel(Frames(), tiny_head(other), vocab)
    with pytest.raises(ModelError, match="trained on"):
        CommandModel(Frames(), tiny_head(vocab, embedding="speech_embedding"), vocab)


def test_describe_says_why_it_is_not_used(vocab, tmp_path):
    line = describe(vocab, "fake", tmp_path / "none.npz")
    assert line.startswith("not used") and "missing" in line
    tiny_head(vocab).save(tmp_path / "h.npz")
    assert describe(vocab, "fake", tmp_path / "h.npz").startswith("used with Whisper")
    assert "trained on fake, not whisper-base-encoder" in describe(vocab, "whisper-base-encoder", tmp_path / "h.npz")
    assert "not Whisper" in describe(vocab, "", tmp_path / "h.npz")


class Recogniser:
    """A fake recogniser with an encoder (`Encoding`) that counts its encodings."""

    name = "fake"
    notice = ""

    def __init__(self, encoder: str = "fake") -> None:
        self.encoder = encoder
        self.encoded = 0

    def encoder_states(self, audio: Audio) -> np.ndarray:
        self.encoded += 1
        return Frames().embed(audio)


def test_it_hears_through_the_recognisers_encoder_or_not_at_all(vocab, tmp_path):
    tiny_head(vocab).save(tmp_path / "h.npz")
    recogniser = Recogniser()
    model = open_command_model(vocab, recogniser, tmp_path / "h.npz")
    assert model.scores(Audio(np.full(1600, 0.5, np.float32), 16000))[Command("pause")] > 0.95
    assert recogniser.encoded == 1
    assert open_command_model(vocab, Recogniser(encoder=""), tmp_path / "h.npz") is None
    with pytest.raises(ModelError, match="trained on fake, not other"):
        open_command_model(vocab, Recogniser(encoder="other"), tmp_path / "h.npz")


@pytest.fixture(scope="module")
def embedding():
    from voice_guide.adapters.speech_embedding import SpeechEmbedding

    return SpeechEmbedding()


def test_the_real_embedding_gives_96_numbers_per_80_ms(embedding):
    from voice_guide.testing import espeak_speech

    audio = espeak_speech("pause")
    frames = embedding.embed(audio)
    seconds = len(audio.samples) / audio.rate + 0.8
    assert frames.shape[1] == 96 and abs(len(frames) - (seconds - 0.76) / 0.08) <= 2
    assert np.isfinite(frames).all()


def test_a_damaged_embedding_file_is_refused(tmp_path):
    from voice_guide.adapters.speech_embedding import EMBEDDING, MELSPECTROGRAM, SpeechEmbedding, model_folder

    for spec in (MELSPECTROGRAM, EMBEDDING):
        (tmp_path / spec.name).write_bytes((model_folder() / spec.name).read_bytes())
    data = bytearray((tmp_path / EMBEDDING.name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / EMBEDDING.name).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged"):
        SpeechEmbedding(tmp_path)
    (tmp_path / MELSPECTROGRAM.name).unlink()
    with pytest.raises(ModelError, match="missing"):
        SpeechEmbedding(tmp_path)


@settings(max_examples=25, deadline=None)
@given(samples=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=4000),
       rate=st.sampled_from([8000, 16000, 22050, 44100]))
def test_the_real_embedding_never_raises_on_any_audio(embedding, samples, rate):
    frames = embedding.embed(Audio(np.asarray(samples, dtype=np.float32), rate))
    assert frames.shape[1] == 96 and np.isfinite(frames).all()


@pytest.fixture(scope="module")
def whisper():
    from voice_guide.adapters.whisper_asr import WhisperRecognizer
    from voice_guide.understanding.whisper_models import encoder_name, packaged_tiny

    return WhisperRecognizer(packaged_tiny(), encoder=encoder_name("tiny.en"))


@pytest.fixture(scope="module")
def shipped(whisper):
    from voice_guide.content.loader import load_library

    vocab = build_vocabulary(load_library().items)
    return open_command_model(vocab, whisper), vocab


def test_the_shipped_head_is_for_the_guides_vocabulary_and_covers_every_command(shipped):
    model, vocab = shipped
    assert Head.load(shipped_head_path()).vocab_hash == vocabulary_hash(vocab)
    known = {p.command for p in vocab.entries if p.command is not None and p.command.id not in ("open", "choice")}
    assert {c for c in known if c.id != "teach" or c.arg is None} <= set(model.commands)
    assert None in model.commands and any(c is not None and c.id == "open" for c in model.commands)
    assert shipped_head_path().stat().st_size < 6_000_000  # a few MB: three members at float16


def test_the_shipped_head_is_refused_for_a_changed_vocabulary(whisper):
    with pytest.raises(ModelError, match="another list of commands"):
        open_command_model(build_vocabulary(), whisper)


@pytest.mark.slow
def test_the_encoder_output_of_the_decoding_is_reused(shipped, whisper):
    from voice_guide.testing import espeak_speech

    model, _ = shipped
    audio = espeak_speech("menu", pad=0.3, noise_floor=-60)
    whisper.decode(audio)
    decoded = whisper._last
    reused = model.scores(audio)
    assert whisper._last is decoded
    whisper.decode(espeak_speech("next", pad=0.3, noise_floor=-60))
    fresh = model.scores(audio)
    assert whisper._last is not decoded  # only the last utterance is kept
    assert reused == pytest.approx(fresh, abs=1e-6) and max(reused, key=reused.get) == Command("menu")


@settings(max_examples=20, deadline=None)
@given(samples=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=4000),
       rate=st.sampled_from([8000, 16000, 44100]))
def test_the_real_command_model_never_raises_on_any_audio(shipped, samples, rate):
    model, _ = shipped
    scores = model.scores(Audio(np.asarray(samples, dtype=np.float32), rate))
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-3)


def test_members_trained_from_other_seeds_stack_into_one_head_and_only_alike_ones():
    """Also when trained side by side in two processes, as `train_commands.py` does: the same weights."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from command_head import stack, train_head

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-1, 1, (40, 6)), rng.normal(1, 1, (40, 6))]).astype(np.float32)
    labels = ["pause"] * 40 + [NOT_A_COMMAND] * 40
    kw = dict(embedding="fake", vocab_hash="x", hidden=8, epochs=3, batch=16)
    members = [train_head(X, labels, ["pause", NOT_A_COMMAND], seed=seed, **kw) for seed in (0, 1)]
    head = stack(members)
    assert head.members == 2 and not np.array_equal(members[0].w1, members[1].w1)
    assert head.probabilities(X) == pytest.approx((members[0].probabilities(X) + members[1].probabilities(X)) / 2)
    other = train_head(X[:60], labels[:60], ["pause", NOT_A_COMMAND], seed=2, **kw)
    with pytest.raises(ValueError, match="same speech"):
        stack([members[0], other])
    from train_commands import train_members

    side_by_side = train_members([0, 1], 2, X=X, labels=labels, classes=["pause", NOT_A_COMMAND], **kw)
    assert np.array_equal(side_by_side.w1, head.w1) and np.array_equal(side_by_side.w2, head.w2)
