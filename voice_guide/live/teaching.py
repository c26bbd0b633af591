"""Teaching the guide the user's voice from inside a run ("teach me pause again"): the player serves as
the enroller's synthesiser, speaker and ears."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.engines import Ears, VoiceSettings

if TYPE_CHECKING:
    from voice_guide.live.player import Player


class Teaching:
    """The player as the enroller's synthesiser, speaker and ears: prompts go through the player's
    own sound queue (so its echo gate closes over them) and takes come from the microphone blocks the
    player is listening to, cut by its own endpointer."""

    def __init__(self, player: Player, blocks: Iterator[np.ndarray]) -> None:
        self.player, self.blocks = player, blocks

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        return self.player.render(text, settings.rate)

    def play(self, audio: Audio) -> "Teaching":
        p = self.player
        p.sounds.add(audio.gain(p.voice.volume) if p.voice.volume != 1.0 else audio)
        p.sounds.pump()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Listen through the prompt (and the echo guard after it) without hearing anything."""
        p = self.player
        while not self._quiet():
            if next(self.blocks, None) is None:
                return False
            p.listener.endpointer.discard()
        return True

    def _quiet(self) -> bool:
        p = self.player
        p.sounds.pump()
        now = p.clock.now()
        return p.listener.quiet(p.sounds.current, now) and not p.busy()

    def listen(self, kind: str, timeout: float) -> Audio | None:
        """The next utterance, or None when none starts within `timeout` seconds."""
        p = self.player
        self.wait()
        p.listener.endpointer.discard()
        heard, limit = 0, timeout * p.listener.rate
        while heard < limit or p.listener.endpointer.state != "idle":
            block = next(self.blocks, None)
            if block is None:
                return None
            heard += len(block)
            utterance = p.listener.endpointer.feed(block)
            if utterance is not None:
                return utterance.resample(SPEECH_RATE)
        return None


def use_enrolled_voice(ears: Ears | None, data_dir: Path | None, log: Callable[[str], None]):
    """Load the newly saved takes into `ears`; the switch watcher to use from now on, or None."""
    from voice_guide.voice.personal import PersonalModel

    if ears is None:
        return None
    model = PersonalModel.load(data_dir)
    if model.notice:
        log(model.notice)
    ears.personal = model if model.active else None
    return model.watch if model.active else None
