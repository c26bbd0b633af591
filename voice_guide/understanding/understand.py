"""From one utterance to one decision: the recogniser's n-best guesses, the tolerant matcher, and
(when the user has enrolled their own voice) a personal refinement that may overrule both.

Kept apart from the player and the `hear` command so that both understand speech the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.engines import Hypothesis, Recognizer, Refiner
from voice_guide.understanding.matching import Match, match
from voice_guide.understanding.vocabulary import Vocabulary


@dataclass(frozen=True)
class Heard:
    """What one utterance was taken to mean, and how."""

    text: str
    """The recogniser's best guess, as it wrote it ("" when it heard nothing)."""
    match: Match
    path: str
    """"recogniser", or what the personal refinement used: "template" or "switch"."""
    decode_ms: float
    """Time the recogniser took, in milliseconds."""
    nbest: tuple[Hypothesis, ...] = field(default=())


class Understander:
    """Recogniser + matcher (+ personal refinement) behind one call."""

    def __init__(
        self,
        recognizer: Recognizer,
        vocab: Vocabulary,
        personal: Refiner | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.recognizer = recognizer
        self.vocab = vocab
        self.personal = personal
        self._timer = timer

    def understand(self, audio: Audio) -> Heard:
        if audio.rate != SPEECH_RATE:
            audio = audio.resample(SPEECH_RATE)
        start = self._timer()
        nbest = tuple(self.recognizer.decode(audio))
        decode_ms = (self._timer() - start) * 1000.0
        result = match(nbest, self.vocab)
        path = "recogniser"
        if self.personal is not None:
            result, path = self.personal.refine(audio, nbest, result)
        return Heard(nbest[0].text if nbest else "", result, path, round(decode_ms, 1), nbest)
