"""The one way an utterance becomes a decision, for the live guide and `voice-guide hear` alike: the
same recogniser (opened from the settings), the same vocabulary and rescoring candidates, the same
matcher and personal refinement. So `hear take.wav` predicts what the guide does with that take.

Whisper takes a second or two to load; `BackgroundRecognizer` opens it on a thread so the menu speaks
at once, and the first utterance waits only for whatever loading is left.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Callable, Iterable

from voice_guide.audio import Audio
from voice_guide.content.model import Item
from voice_guide.engines import Hypothesis, Recognizer
from voice_guide.errors import VoiceGuideError
from voice_guide.matching import Vocabulary, build_vocabulary
from voice_guide.settings import Settings
from voice_guide.understand import Refiner, Understander

LOG = logging.getLogger(__name__)


class BackgroundRecognizer:
    """A recogniser being opened on a background thread; `decode` waits until it is ready.

    If opening fails altogether, the reason is printed once and every utterance is heard as nothing
    (the keys still work), rather than stopping a guide that is already speaking."""

    def __init__(self, opener: Callable[[], Recognizer], report: Callable[[str], None] | None = None) -> None:
        self._opener = opener
        self._report = report or (lambda text: print(f"voice-guide: {text}", file=sys.stderr, flush=True))
        self._recognizer: Recognizer | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._open, name="open-recogniser", daemon=True).start()

    def _open(self) -> None:
        try:
            self._recognizer = self._opener()
            notice = getattr(self._recognizer, "notice", "")
            if notice:
                self._report(notice)
        except VoiceGuideError as err:
            LOG.info("no recogniser: %s", err)
            self._report(f"{err} I will not hear you this time; use the keyboard.")
        finally:
            self._ready.set()

    @property
    def name(self) -> str:
        return self._recognizer.name if self._recognizer is not None else "loading"

    @property
    def notice(self) -> str:
        """Nothing to say at start: a problem found while loading is reported when it is found."""
        return ""

    def ready(self) -> bool:
        return self._ready.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def decode(self, audio: Audio) -> list[Hypothesis]:
        self._ready.wait()
        return [] if self._recognizer is None else self._recognizer.decode(audio)


def vocabulary(items: Iterable[Item]) -> Vocabulary:
    """The guide's vocabulary: commands plus the library's names, titles and aliases."""
    return build_vocabulary(items)


def open_recognizer_for(settings: Settings, vocab: Vocabulary) -> Recognizer:
    """The configured recogniser, given everything it may use from the vocabulary."""
    from voice_guide.recognition import open_recognizer

    return open_recognizer(settings, vocab.phrases(), vocab.non_commands(grammar_safe=True), vocab.short_commands())


def open_understander(settings: Settings, items: Iterable[Item], personal: Refiner | None = None,
                      background: bool = False, recognizer: Recognizer | None = None) -> Understander:
    """Recogniser + matcher (+ the user's enrolled voice) for `items`; `background` opens Whisper on a
    thread (the other engines open in a moment, and any notice about them is known at once, to be
    said). `recognizer` replaces the configured one (tests, evaluation)."""
    from voice_guide.recognition import recognizer_choice

    vocab = vocabulary(items)
    if recognizer is None:
        if background and recognizer_choice(settings).engine == "whisper":
            recognizer = BackgroundRecognizer(lambda: open_recognizer_for(settings, vocab))
        else:
            recognizer = open_recognizer_for(settings, vocab)
    return Understander(recognizer, vocab, personal)
