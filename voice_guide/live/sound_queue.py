"""The guide's sound queue: what is playing, what waits its turn, ducking and cutting.

Sentences and cues play one after another on the speaker; each sentence's end is reported (as
`SpeechDone`, for the session), and its words as it starts (the CLI prints them). A sound waits while
`wait()` says the user has started speaking, so the echo gate does not close on them mid-command. A
sound may be queued while it still renders elsewhere (a Future): the queue waits for it, the loop does
not, so the microphone is heard meanwhile.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable

import numpy as np

from voice_guide.audio import Audio
from voice_guide.engines import AudioOut, Clock, Playback
from voice_guide.session.events import SpeechDone

REFERENCE_PIECE = 0.02
"""Seconds of the echo reference placed at a time (a device's gap or duck moves the rest)."""


@dataclass
class Playing:
    """A sound that is playing, the id of its sentence (None for cues), and when it started."""

    playback: Playback
    audio: Audio
    say_id: int | None
    start: float
    gain: float = 1.0
    _ref: np.ndarray | None = None

    def duck(self, gain: float) -> None:
        if gain != self.gain:
            self.gain = gain
            self.playback.set_gain(gain)

    def reference(self, rate: int, start: float, n: int) -> np.ndarray:
        """The `n` samples at `rate` it sounds from clock time `start` (silence outside it): what an
        echo is made of. Taken piece by piece where the device says each piece sounds, at the gain it
        sounds with (a duck reaches the speaker a little after it is asked for)."""
        if self._ref is None:
            self._ref = self.audio.resample(rate).samples
        out = np.zeros(n, dtype=np.float32)
        piece = round(REFERENCE_PIECE * rate)
        for i in range(0, n, piece):
            at = start + i / rate
            offset, gain = self.playback.position(at) or (at - self.start, self.gain)
            first = round(offset * rate)
            a, b = max(0, first), min(len(self._ref), first + min(piece, n - i))
            if b > a:
                out[i + a - first : i + b - first] = self._ref[a:b] * np.float32(gain)
        return out


class SoundQueue:
    """Plays queued sounds in order on `out`; `pump()` moves it on (call it often)."""

    def __init__(self, out: AudioOut, clock: Clock, *, on_start: Callable[[str], None],
                 on_done: Callable[[SpeechDone], None], wait: Callable[[], bool]) -> None:
        self.out, self.clock = out, clock
        self.on_start, self.on_done, self.wait = on_start, on_done, wait
        self.current: Playing | None = None
        self._waiting: deque[tuple[Audio | Future[Audio], int | None, str]] = deque()
        """Sounds waiting to play: audio (or its rendering), the id of its sentence (None for cues), its words."""

    def __len__(self) -> int:
        """How many sounds wait their turn."""
        return len(self._waiting)

    def busy(self) -> bool:
        """The guide is making (or about to make) a sound."""
        return self.current is not None or bool(self._waiting)

    def add(self, audio: Audio | Future[Audio], say_id: int | None = None, text: str = "") -> None:
        self._waiting.append((audio, say_id, text))

    def pump(self) -> None:
        """Notice a finished sound and start the next one, unless the user is speaking."""
        while True:
            if self.current is not None:
                playing = self.current
                if not playing.playback.done():
                    return
                self.current = None
                if playing.say_id is not None:
                    self.on_done(SpeechDone(playing.say_id, at=playing.start + playing.audio.duration))
            if not self._waiting or self.wait():
                return
            audio, say_id, text = self._waiting[0]
            if isinstance(audio, Future):
                if not audio.done():
                    return
                audio = audio.result()  # a rendering's EngineError surfaces here, as if rendered here
            self._waiting.popleft()
            self.current = Playing(self.out.play(audio), audio, say_id, self.clock.now())
            if text:
                self.on_start(text)

    def stop(self) -> None:
        """Silence at once: what plays is cut, what waits is dropped."""
        self._waiting.clear()
        if self.current is not None:
            self.current.playback.stop()
            self.current = None
