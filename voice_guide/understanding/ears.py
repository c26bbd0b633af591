"""The recogniser as the guide and `voice-guide hear` both open it: from the settings, given the
vocabulary's phrases for grammar-bound engines and its one-word commands for Whisper's rescoring. With
`wiring.open_hearing` (the same matcher and personal refinement for both) this is why `hear take.wav`
predicts what the guide does with that take.
"""

from __future__ import annotations

from voice_guide.engines import Recognizer
from voice_guide.understanding.vocabulary import Vocabulary
from voice_guide.settings import Settings


def open_recognizer_for(settings: Settings, vocab: Vocabulary) -> Recognizer:
    """The configured recogniser, given everything it may use from the vocabulary."""
    from voice_guide.understanding.recognition import open_recognizer

    return open_recognizer(settings, vocab.phrases(), vocab.non_commands(grammar_safe=True), vocab.short_commands())
