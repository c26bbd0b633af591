"""Teaching the guide the user's voice from inside a run ("teach me pause again"): the player serves as
the enroller's synthesiser, speaker and ears, through the small `Stage` it offers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Protocol

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.engines import VoiceSettings
from voice_guide.live.listener import Listener
from voice_guide.understanding.understand import Ears

if TYPE_CHECKING:
    from voice_guide.understanding.command_model import Embedder


class Stage(Protocol):
    """What teaching needs of the player: its voice, a prompt played through its own sound queue (so
    its echo gate closes over it), and whether all is quiet again."""

    def render(self, text: str, rate: int) -> Audio: ...

    def prompt(self, audio: Audio) -> None: ...

    def quiet(self) -> bool: ...


class Teaching:
    """The player as the enroller's synthesiser, speaker and ears: prompts go through the player's
    stage and takes come from the microphone blocks the player is listening to, cut by its listener's
    endpointer."""

    def __init__(self, stage: Stage, listener: Listener, blocks: Iterator[np.ndarray]) -> None:
        self.stage, self.listener, self.blocks = stage, listener, blocks

    def embedder(self) -> "Embedder | None":
        """The recogniser's encoder, for the enroller to keep each take as it hears it (None: it has none)."""
        from voice_guide.understanding.command_model import embedding_of

        ears = self.listener.ears
        return embedding_of(ears.recognizer) if ears is not None else None

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        return self.stage.render(text, settings.rate)

    def play(self, audio: Audio) -> "Teaching":
        self.stage.prompt(audio)
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Listen through the prompt (and the echo guard after it) without hearing anything."""
        while not self.stage.quiet():
            if next(self.blocks, None) is None:
                return False
            self.listener.endpointer.discard()
        return True

    def listen(self, kind: str, timeout: float) -> Audio | None:
        """The next utterance, or None when none starts within `timeout` seconds."""
        self.wait()
        endpointer = self.listener.endpointer
        endpointer.discard()
        heard, limit = 0, timeout * self.listener.rate
        while heard < limit or endpointer.state != "idle":
            block = next(self.blocks, None)
            if block is None:
                return None
            heard += len(block)
            utterance = endpointer.feed(block)
            if utterance is not None:
                return utterance.resample(SPEECH_RATE)
        return None


def use_enrolled_voice(ears: Ears | None, data_dir: Path | None, log: Callable[[str], None]):
    """Load the newly saved takes into `ears`; the switch watcher to use from now on, or None."""
    from voice_guide.voice.personal import PersonalModel

    if ears is None:
        return None
    model = PersonalModel.load(data_dir, encoding=ears.recognizer)
    if model.notice:
        log(model.notice)
    ears.personal = model if model.active else None
    return model.watch if model.active else None
