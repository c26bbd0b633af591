"""The user's enrolled takes as the recogniser's encoder heard them, and a nearest-prototype classifier
on them.

Whisper's encoder has already learnt what speech sounds like; three takes of a command, each pooled
into one vector the way the command model pools them (`command_model.pool`), recognise a weak-lipped
voice better than the sound templates do (`scripts/eval_personal.py`), and it costs nothing but a few
dot products, since the recogniser has computed the encoder's output for the same utterance anyway.
The vectors only mean something to the encoder that made them: the file records its name and the
pooling, and prototypes of another encoder are left unused (the sound templates hear instead).

Distances are cosine distances between standardised vectors: each feature scaled by its spread over
the command model's many training voices (`command_model.standardisation`), then centred on this
user's own voice (the mean of the enrolled commands' means, shrunk towards none by PRIOR commands'
worth, so that one enrolled command is not centred away), which takes out what every take of this
voice and microphone shares.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Annotated, ClassVar

import numpy as np
from msgspec import Meta

from voice_guide.schema import between, text
from voice_guide.voice.templates import (CORE, EXTRA, MIN_TAKES, NO_RESULT, TAKES_RANGE, Takes, Teachable,
                                         TemplateResult, archive, array_header)

FORMAT = "voice-guide-prototypes"
VERSION = 1
LONGEST_VECTOR = 16384
"""More numbers than any encoder's pooled output has (tiny.en: 1920, large: 6400)."""

ACCEPT = 0.45
"""Cosine distance within which an utterance may be taken for its nearest command."""
MARGIN = 1.3
"""The next command must be this many times further away."""
PRIOR = 2.0
"""Commands' worth of 'no offset' in the voice's centre (see the module doc).
ACCEPT, MARGIN and PRIOR were chosen by scripts/tune_personal.py on voices not reported anywhere."""


@dataclass(frozen=True)
class PrototypesHeader:
    """The JSON header of a prototype file: its schema."""

    format: text(100)
    encoder: text(200)
    """The embedding that made the vectors (`WhisperRecognizer.encoder`, e.g. whisper-tiny.en-encoder)."""
    pooling: text(200)
    """`command_model.POOLING` when they were made."""
    commands: Annotated[list[Teachable], Meta(max_length=len(CORE + EXTRA) * TAKES_RANGE[1])]
    """The command of each row of `vectors`."""
    version: between(0, 10**6, whole=True) = 0


@dataclass
class PrototypeSet(Takes):
    """Pooled encoder vectors of the enrolled takes, by command id, and what made them."""

    encoder: str = ""
    pooling: str = ""
    dtype: ClassVar[type] = np.float32
    kind: ClassVar[str] = "prototypes"

    def to_bytes(self) -> bytes:
        """An .npz archive with a JSON header; no pickles, so loading a file cannot run code."""
        commands = [c for c in self.commands for _ in self.takes[c]]
        rows = [v for c in self.commands for v in self.takes[c]]
        vectors = np.stack(rows) if rows else np.zeros((0, 1), np.float32)
        header = {"format": FORMAT, "version": VERSION, "encoder": self.encoder, "pooling": self.pooling,
                  "commands": commands}
        buf = io.BytesIO()
        np.savez_compressed(buf, header=np.array(json.dumps(header)), vectors=vectors.astype(np.float32))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "PrototypeSet":
        """Raises ValueError (one sentence) when the data is not a prototype file this version can read."""
        with archive(data, PrototypesHeader, FORMAT, VERSION, "prototype") as (npz, header):
            shape, dtype = array_header(npz, "vectors")
            if (dtype.kind != "f" or len(shape) != 2 or shape[0] != len(header.commands)
                    or not 1 <= shape[1] <= LONGEST_VECTOR):
                raise ValueError("its vectors do not match its list of takes")
            vectors = np.asarray(npz["vectors"], dtype=np.float32)
        if not np.isfinite(vectors).all():
            raise ValueError("it holds numbers that are not finite")
        out = cls(encoder=header.encoder, pooling=header.pooling)
        for command, vector in zip(header.commands, vectors):
            out.takes.setdefault(command, []).append(vector)
        return out.counted()


class PrototypeClassifier:
    """Nearest-prototype classification with rejection: accepted when the nearest take is within
    `accept` (cosine distance, see the module doc) and the next command's nearest is `margin` times
    further. Gives `TemplateResult`s, so the personal model's rule treats both classifiers alike."""

    def __init__(self, prototypes: PrototypeSet, standardisation: tuple[np.ndarray, np.ndarray], *,
                 accept: float = ACCEPT, margin: float = MARGIN, prior: float = PRIOR) -> None:
        self.margin = margin
        self._mean, self._spread = standardisation
        usable = [c for c in prototypes.commands if len(prototypes.takes[c]) >= MIN_TAKES]
        self.thresholds = {c: accept for c in usable}
        self._labels = [c for c in usable for _ in prototypes.takes[c]]
        self._centre = np.zeros_like(self._mean)
        if usable:
            means = [np.mean([self._standard(v) for v in prototypes.takes[c]], axis=0) for c in usable]
            self._centre = np.mean(means, axis=0) * len(usable) / (len(usable) + prior)
        self._units = np.stack([self._unit(v) for c in usable for v in prototypes.takes[c]]) if usable else None

    @property
    def commands(self) -> list[str]:
        return sorted(self.thresholds)

    def _standard(self, vector: np.ndarray) -> np.ndarray:
        return (np.asarray(vector, dtype=np.float32) - self._mean) / self._spread

    def _unit(self, vector: np.ndarray) -> np.ndarray:
        v = self._standard(vector) - self._centre
        return v / max(float(np.linalg.norm(v)), 1e-9)

    def classify(self, vector: np.ndarray, relax: dict[str, float] | None = None) -> TemplateResult:
        """Classify one utterance's pooled encoder output. `relax` multiplies some commands' acceptance
        distances (those the recogniser also heard among its guesses)."""
        if self._units is None:
            return NO_RESULT
        distances = 1.0 - self._units @ self._unit(vector)
        nearest: dict[str, float] = {}
        for i in np.argsort(distances, kind="stable"):
            nearest.setdefault(self._labels[i], float(distances[i]))
        ranking = tuple(nearest.items())
        best, dist = ranking[0]
        threshold = self.thresholds[best] * (relax or {}).get(best, 1.0)
        second = ranking[1][1] if len(ranking) > 1 else float("inf")
        accepted = dist <= threshold and second >= self.margin * dist
        confidence = float(np.clip(1.5 - dist / threshold, 0.0, 1.0)) if threshold > 0 else 0.0
        return TemplateResult(best, dist, threshold, accepted, confidence, ranking)
