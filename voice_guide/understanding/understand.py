"""From one utterance to one decision: the recogniser's n-best guesses, the tolerant matcher, the
command model (when its weights load; `hearing.fusion` joins the two), and (when the user has
enrolled their own voice) a personal refinement that may overrule all of them.

Kept apart from the player and the `hear` command so that both understand speech the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol, Sequence

from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.engines import Hypothesis, Recognizer
from voice_guide.understanding.command import Command
from voice_guide.understanding.fusion import fuse
from voice_guide.understanding.matching import Match, match
from voice_guide.understanding.vocabulary import Vocabulary


class CommandScorer(Protocol):
    """The command model (`hearing.command_model.CommandModel`): a posterior over the vocabulary."""

    def scores(self, audio: Audio) -> Mapping[Command | None, float]: ...


@dataclass(frozen=True)
class Heard:
    """What one utterance was taken to mean, and how."""

    text: str
    """The recogniser's best guess, as it wrote it ("" when it heard nothing)."""
    match: Match
    path: str
    """"recogniser", "model" or "both" (the command model's part, `hearing.fusion`), or what the
    personal refinement used: "prototype", "template" or "switch"."""
    decode_ms: float
    """Time the recogniser took, in milliseconds."""
    nbest: tuple[Hypothesis, ...] = field(default=())


class Refiner(Protocol):
    """The user's own voice templates or switch sound: may replace the matcher's decision."""

    def refine(self, audio: Audio, nbest: Sequence[Hypothesis], match: Match,
               agreed: bool = False) -> tuple[Match, str]:
        """The final match and how it was reached: "recogniser" (unchanged), "prototype", "template" or
        "switch". `agreed`: the command model heard the matcher's action too."""
        ...


class Ears(Protocol):
    """Turns one utterance into what it was taken to mean (`Understander`; tests may hand in others)."""

    personal: Refiner | None
    """The user's enrolled voice, replaced when the guide has just learnt it."""
    recognizer: Recognizer
    """Whose encoder (when it has one) also hears the user's enrolled takes."""

    def understand(self, audio: Audio) -> Heard: ...


class Understander:
    """Recogniser + matcher (+ personal refinement) behind one call."""

    def __init__(
        self,
        recognizer: Recognizer,
        vocab: Vocabulary,
        personal: Refiner | None = None,
        timer: Callable[[], float] = time.perf_counter,
        commands: CommandScorer | None = None,
    ) -> None:
        self.recognizer = recognizer
        self.vocab = vocab
        self.personal = personal
        self.commands = commands
        """The command model; None when its files are missing or refused (Whisper + matcher alone)."""
        self._timer = timer

    def understand(self, audio: Audio) -> Heard:
        if audio.rate != SPEECH_RATE:
            audio = audio.resample(SPEECH_RATE)
        start = self._timer()
        nbest = tuple(self.recognizer.decode(audio))
        result = match(nbest, self.vocab)
        path = "recogniser"
        if self.commands is not None and nbest:
            result, path = fuse(result, self.commands.scores(audio), self.vocab)
        decode_ms = (self._timer() - start) * 1000.0
        if self.personal is not None:
            result, refined = self.personal.refine(audio, nbest, result, agreed=path == "both")
            path = path if refined == "recogniser" else refined
        return Heard(nbest[0].text if nbest else "", result, path, round(decode_ms, 1), nbest)
