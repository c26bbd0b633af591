"""The command model: a small head over a frozen speech embedding that scores one utterance against the
guide's closed vocabulary (every command, every item, `step N`, `suggestion N`) and "not a command".

The embedding is Whisper's own encoder output, which the recogniser has already computed to transcribe
the utterance: at equal training data it heard held-out weak-lip voices far better than Google's
speech_embedding (82% against 62% of commands, head alone), and it costs nothing more than the head.

Whisper writes what it thinks was said in open English; for a weak "pause" that is "always". The head
knows only the guide's own phrases, learnt from many synthetic voices, also with weak lips
(`scripts/train_commands.py`), so it can say "pause, 0.9" where the transcript is lost. Its weights
ship in `voice_guide/data/command_model.npz` with the hash of the vocabulary they were trained for: a
head trained for another commands.toml or library is refused, with how to retrain.

Inference is numpy: pooled embedding -> standardise -> one hidden layer (ReLU) -> softmax, in each of
a few members trained alike from different seeds, whose probabilities are averaged: one retrain alone
moved wrong actions on held-out weak lips from 14 to 26, and the average is sure only where they agree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from voice_guide.audio import Audio
from voice_guide.engines import Recognizer
from voice_guide.errors import ModelError
from voice_guide.understanding.vocabulary import Vocabulary
from voice_guide.understanding.command import NUMBERED, Command

NOT_A_COMMAND = "-"
"""The class key of everything that is not for the guide."""
SEGMENTS = 3
"""The utterance's frames are pooled whole (mean and max) and in this many equal parts (mean)."""
POOLING = f"mean, max, {SEGMENTS} part means"
"""`pool`'s recipe in a few words, recorded with vectors kept for later (enrolled prototypes)."""
RETRAIN = "run python scripts/train_commands.py to train it for this vocabulary"
MEMBER_WEIGHTS = ("w1", "b1", "w2", "b2")
"""The weights each member has its own of, stacked on a leading axis (`Head`)."""
WEIGHTS = ("mean", "scale", *MEMBER_WEIGHTS)
"""Every array of a head's file."""


class Embedder(Protocol):
    """A frozen front end: utterance -> (frames, dim) vectors (`RecognizerEmbedding`, or
    `adapters.speech_embedding` in the training scripts' comparison)."""

    name: str

    def embed(self, audio: Audio) -> np.ndarray: ...


class Encoding(Protocol):
    """A recogniser that exposes its encoder (`adapters.whisper_asr.WhisperRecognizer`)."""

    encoder: str
    """The embedding's name ("" when the recogniser has none)."""

    def encoder_states(self, audio: Audio) -> np.ndarray: ...


class RecognizerEmbedding:
    """The recogniser's encoder states as the embedding: reused from its decoding of the same utterance."""

    def __init__(self, recognizer: Encoding) -> None:
        self.name = recognizer.encoder
        self._recognizer = recognizer

    def embed(self, audio: Audio) -> np.ndarray:
        return self._recognizer.encoder_states(audio)


def pool(frames: np.ndarray) -> np.ndarray:
    """A fixed-length vector from a variable number of frames: whole mean, whole max, part means."""
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim != 2 or len(frames) == 0:
        raise ValueError("pool needs at least one frame")
    parts = np.array_split(frames, SEGMENTS) if len(frames) >= SEGMENTS else [frames] * SEGMENTS
    return np.concatenate([frames.mean(0), frames.max(0), *(p.mean(0) for p in parts)]).astype(np.float32)


def command_key(command: Command | None) -> str:
    return NOT_A_COMMAND if command is None else str(command)


def key_command(key: str) -> Command | None:
    if key == NOT_A_COMMAND:
        return None
    cid, _, arg = key.partition(":")
    if not arg:
        return Command(cid)
    return Command(cid, int(arg) if arg.isdigit() and cid in NUMBERED else arg)


def vocabulary_hash(vocab: Vocabulary) -> str:
    """Changes whenever a phrase, its command, an item or the numbers' range changes."""
    lines = sorted(f"{p.text}\t{p.command}" for p in vocab.entries + vocab.items + vocab.prefixes)
    lines.append("numbers " + " ".join(str(n) for n in range(0, 1001) if vocab.number(str(n)) is not None))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Head:
    """The trained head: what it was trained for, and its weights. The members share the input
    scaling (one training set); their weights are stacked on a leading axis."""

    classes: tuple[str, ...]
    embedding: str
    vocab_hash: str
    mean: np.ndarray
    """(inputs,)"""
    scale: np.ndarray
    """(inputs,)"""
    w1: np.ndarray
    """(members, inputs, hidden)"""
    b1: np.ndarray
    """(members, hidden)"""
    w2: np.ndarray
    """(members, hidden, classes)"""
    b2: np.ndarray
    """(members, classes)"""
    card: str = ""
    """One line on how it was trained (voices, counts), for `voice-guide model`."""

    @property
    def members(self) -> int:
        return len(self.w1)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """The members' mean posterior of each class, for one pooled vector or a batch of them."""
        x = (np.asarray(features, dtype=np.float32) - self.mean) / self.scale
        total = 0.0
        for w1, b1, w2, b2 in zip(self.w1, self.b1, self.w2, self.b2):
            logits = np.maximum(x @ w1 + b1, 0.0) @ w2 + b2
            p = np.exp(logits - logits.max(axis=-1, keepdims=True))
            total = total + p / p.sum(axis=-1, keepdims=True)
        return total / self.members

    def save(self, path: Path) -> None:
        meta = {"classes": list(self.classes), "embedding": self.embedding, "vocab_hash": self.vocab_hash,
                "card": self.card}
        np.savez_compressed(path, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                            mean=self.mean, scale=self.scale, w1=self.w1.astype(np.float16), b1=self.b1,
                            w2=self.w2.astype(np.float16), b2=self.b2)

    @classmethod
    def load(cls, path: Path) -> Head:
        """The head in `path`; ModelError when it is missing or damaged. A file of one member without
        the members' axis (as heads were written before there were several) loads as one member."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                arrays = {k: np.asarray(data[k], dtype=np.float32) for k in WEIGHTS}
            if arrays["w1"].ndim == 2:
                arrays.update({k: arrays[k][None] for k in MEMBER_WEIGHTS})
            head = cls(tuple(meta["classes"]), str(meta["embedding"]), str(meta["vocab_hash"]),
                       card=str(meta.get("card", "")), **arrays)
            members, n_in, n_hidden = head.w1.shape
        except FileNotFoundError as exc:
            raise ModelError(f"The command model's weights ({path}) are missing; {RETRAIN}.") from exc
        except Exception as exc:  # a truncated or foreign file fails in numpy, zipfile or json
            raise ModelError(f"The command model's weights ({path}) are damaged; {RETRAIN}.") from exc
        k = len(head.classes)
        if (members < 1 or head.mean.shape != (n_in,) or head.scale.shape != (n_in,)
                or head.b1.shape != (members, n_hidden) or head.w2.shape != (members, n_hidden, k)
                or head.b2.shape != (members, k) or not all(np.isfinite(a).all() for a in arrays.values())):
            raise ModelError(f"The command model's weights ({path}) are damaged; {RETRAIN}.")
        return head


def shipped_head_path() -> Path:
    return Path(str(resources.files("voice_guide").joinpath("data/command_model.npz")))


class CommandModel:
    """Embedding + head: scores of every command of the vocabulary for one utterance."""

    def __init__(self, embedder: Embedder, head: Head, vocab: Vocabulary) -> None:
        check_head(head, embedder.name, vocab)
        self.embedder = embedder
        self.head = head
        self.commands = [key_command(k) for k in head.classes]

    def scores(self, audio: Audio) -> dict[Command | None, float]:
        """Posterior of each class (None: not a command); they add up to one."""
        p = self.head.probabilities(pool(self.embedder.embed(audio)))
        return {c: float(v) for c, v in zip(self.commands, p)}


def _check_embedding(head: Head, embedding: str) -> Head:
    if head.embedding != embedding:
        raise ModelError(f"The command model was trained on {head.embedding}, not {embedding}; {RETRAIN}.")
    return head


def check_head(head: Head, embedding: str, vocab: Vocabulary) -> Head:
    """`head`, when it was trained on `embedding` for `vocab`; ModelError, with how to retrain, when not."""
    if _check_embedding(head, embedding).vocab_hash != vocabulary_hash(vocab):
        raise ModelError(f"The command model was trained for another list of commands or topics "
                         f"(commands.toml or the library changed since); {RETRAIN}.")
    return head


def embedding_of(recognizer: Recognizer) -> RecognizerEmbedding | None:
    """The recogniser's encoder as an embedding; None when it has none (not Whisper)."""
    return RecognizerEmbedding(recognizer) if getattr(recognizer, "encoder", "") else None  # type: ignore[arg-type]


def open_command_model(vocab: Vocabulary, recognizer: Recognizer, head_path: Path | None = None) -> CommandModel | None:
    """The shipped head on the recogniser's own encoder, checked against `vocab`; None when the
    recogniser has no encoder (not Whisper: the model is then simply not used); ModelError (with what
    to do) when the head is missing, damaged or trained for another vocabulary or encoder."""
    embedder = embedding_of(recognizer)
    if embedder is None:
        return None
    return CommandModel(embedder, Head.load(head_path or shipped_head_path()), vocab)


def standardisation(encoder: str, head_path: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of each pooled feature of `encoder` over the head's many training voices (the
    head's own input scaling); ModelError when the head is unusable or made for another encoder."""
    head = _check_embedding(Head.load(head_path or shipped_head_path()), encoder)
    return head.mean, head.scale


def describe(vocab: Vocabulary, encoder: str, head_path: Path | None = None) -> str:
    """One line for `voice-guide model` and `doctor`: whether the command model is used with a
    recogniser whose encoder is `encoder` ("" when it has none), and why; nothing is loaded but the head."""
    if not encoder:
        return "not used: it hears through Whisper's encoder, and the recogniser in use is not Whisper"
    try:
        head = check_head(Head.load(head_path or shipped_head_path()), encoder, vocab)
    except ModelError as err:
        return f"not used, Whisper and the matcher decide alone: {err}"
    return f"used with Whisper ({encoder} + head over {len(head.classes)} classes; {head.card})"
