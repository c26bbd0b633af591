"""The one way an utterance becomes a decision, for the live guide and `voice-guide hear` alike: the
same recogniser (opened from the settings), the same vocabulary and rescoring candidates, the same
matcher and personal refinement. So `hear take.wav` predicts what the guide does with that take. (The
live guide opens the same recogniser in the background: `voice_guide.background.LoadingRecognizer`.)
"""

from __future__ import annotations

from typing import Iterable

from voice_guide.content.model import Item
from voice_guide.engines import Recognizer
from voice_guide.matching import Vocabulary, build_vocabulary
from voice_guide.settings import Settings
from voice_guide.understand import Refiner, Understander


def open_recognizer_for(settings: Settings, vocab: Vocabulary) -> Recognizer:
    """The configured recogniser, given everything it may use from the vocabulary."""
    from voice_guide.recognition import open_recognizer

    return open_recognizer(settings, vocab.phrases(), vocab.non_commands(grammar_safe=True), vocab.short_commands())


def open_understander(settings: Settings, items: Iterable[Item], personal: Refiner | None = None,
                      recognizer: Recognizer | None = None) -> Understander:
    """Recogniser + matcher (+ the user's enrolled voice) for `items`. `recognizer` replaces the
    configured one (the guide's background loader, tests, evaluation)."""
    vocab = build_vocabulary(items)
    return Understander(recognizer or open_recognizer_for(settings, vocab), vocab, personal)
