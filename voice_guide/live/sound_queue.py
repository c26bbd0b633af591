"""The guide's sound queue: what is playing, what waits its turn, ducking and cutting.

Sentences and cues play one after another on the speaker; each sentence's end is reported (as
`SpeechDone`, for the session), and its words as it starts (the CLI prints them). A sound waits while
`wait()` says the user has started speaking, so the echo gate does not close on them mid-command. A
sound may be queued while it still renders elsewhere (a Future): the queue waits for it, the loop does
not, so the microphone is heard meanwhile. Or as a function that gives it when its turn comes (the
next sentence of a text, rendered meanwhile by the look-ahead). A sound that continues the one before
it (the rest of one text, with a `lead` of quiet: the pause between its sentences) follows it at once,
at its volume, with that quiet shortened by however late it starts after the one before ended (the
loop's turn, the device's report), so the pause between two sentences is the text's own. A text may
also wait at its start until `ready` says the rest of it will follow in time (it waits in the pause
planned before it rather than stop mid-way), but never longer than READY_WAIT.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np

from voice_guide.audio import Audio
from voice_guide.engines import AudioOut, Clock, Playback
from voice_guide.session.events import SpeechDone

Sound = Union[Audio, "Future[Audio]", Callable[[], Audio]]
"""A sound to play: ready, rendering elsewhere, or to be rendered (or taken) when its turn comes."""
REFERENCE_PIECE = 0.02
"""Seconds of the echo reference placed at a time (a device's gap or duck moves the rest)."""
REFERENCE_PHASES = 32
"""Steps per sample in which a sound's echo reference is placed: each sound on the speaker's one
stream starts a part of a sample otherwise on the microphone's, and the echo filter learnt on one
sound is kept for the next. Offline (espeak-ng sentences, 16 kHz), that filter took the next
sound's echo down 13 dB with its reference half a sample off (placed to the nearest sample), 19 dB
a quarter off, and 43 dB a 64th off (the most it is off in 32nds)."""


@dataclass
class Playing:
    """A sound that is playing, the id of its sentence (None for cues), and when it started."""

    playback: Playback
    audio: Audio
    say_id: int | None
    start: float
    gain: float = 1.0
    _ref: np.ndarray | None = None
    _phase: tuple[int, np.ndarray] | None = None

    def duck(self, gain: float) -> None:
        if gain != self.gain:
            self.gain = gain
            self.playback.set_gain(gain)

    def reference(self, rate: int, start: float, n: int) -> np.ndarray:
        """The `n` samples at `rate` it sounds from clock time `start` (silence outside it): what an
        echo is made of. Taken piece by piece where the device says each piece sounds, to a
        `REFERENCE_PHASES`th of a sample, at the gain it sounds with (a duck reaches the speaker a
        little after it is asked for)."""
        out = np.zeros(n, dtype=np.float32)
        piece = round(REFERENCE_PIECE * rate)
        for i in range(0, n, piece):
            at = start + i / rate
            offset, gain = self.playback.position(at) or (at - self.start, self.gain)
            first = round(offset * rate)
            samples = self._shifted(rate, round((offset * rate - first) * REFERENCE_PHASES))
            a, b = max(0, first), min(len(samples), first + min(piece, n - i))
            if b > a:
                out[i + a - first : i + b - first] = samples[a:b] * np.float32(gain)
        return out

    def _shifted(self, rate: int, phase: int) -> np.ndarray:
        """Its samples at `rate`, taken `phase` `REFERENCE_PHASES`ths of a sample later (the last
        asked for is kept: a sound keeps its phase, from one block to the next)."""
        if self._ref is None:
            self._ref = self.audio.resample(rate).samples
        if phase == 0:
            return self._ref
        if self._phase is None or self._phase[0] != phase:
            from voice_guide.hearing.echo import FRACTION, fractional_delay

            shifted = np.convolve(self._ref, fractional_delay(-phase / REFERENCE_PHASES))
            self._phase = phase, shifted[FRACTION : FRACTION + len(self._ref)].astype(np.float32)
        return self._phase[1]


READY_WAIT = 3.0
"""The longest a text waits at its start for the rest of it to be expected in time. On a machine too
busy to render ahead, a first step once waited 49 s after its title: a listener takes a silence that
long for the end, while a stop mid-way is heard as a pause."""


class SoundQueue:
    """Plays queued sounds in order on `out`; `pump()` moves it on (call it often)."""

    def __init__(self, out: AudioOut, clock: Clock, *, on_start: Callable[[str], None],
                 on_done: Callable[[SpeechDone], None], wait: Callable[[], bool]) -> None:
        self.out, self.clock = out, clock
        self.on_start, self.on_done, self.wait = on_start, on_done, wait
        self.current: Playing | None = None
        self._waiting: deque[tuple[Sound, int | None, str, float | None, Callable[[], bool] | None]] = deque()
        """Sounds waiting to play: audio (or its rendering), the id of its text's end (None for cues and
        for a text's sentences before its last), its words, the quiet it starts with when it
        continues the one before (else None), and what says it may start (None: at once)."""
        self._gain = 1.0
        """The volume the last sound ended at (a duck goes on into the rest of its text)."""
        self._ended = 0.0
        """When the last sound should have ended, by its start and length."""
        self._held: float | None = None
        """Since when the first waiting sound could have started but for its `ready`."""

    def __len__(self) -> int:
        """How many sounds wait their turn."""
        return len(self._waiting)

    def busy(self) -> bool:
        """The guide is making (or about to make) a sound."""
        return self.current is not None or bool(self._waiting)

    def add(self, audio: Sound, say_id: int | None = None, text: str = "", lead: float | None = None,
            ready: Callable[[], bool] | None = None) -> None:
        """Queue a sound; `lead`: it continues the one before, after that many seconds of quiet; `ready`:
        it starts once this says so (asked each `pump`; a sound that continues another never waits)."""
        self._waiting.append((audio, say_id, text, lead, ready))

    def pump(self) -> None:
        """Notice a finished sound and start the next one, unless the user is speaking."""
        while True:
            if self.current is not None:
                playing = self.current
                if not playing.playback.done():
                    return
                self.current, self._gain = None, playing.gain
                self._ended = playing.start + playing.audio.duration
                if playing.say_id is not None:
                    self.on_done(SpeechDone(playing.say_id, at=playing.start + playing.audio.duration))
            if not self._waiting:
                return
            sound, say_id, text, lead, ready = self._waiting[0]
            continues = lead is not None
            if not continues and (self.wait() or self._holds(ready)):
                return
            if isinstance(sound, Future):
                if not sound.done():
                    return
                sound = sound.result()  # a rendering's EngineError surfaces here, as if rendered here
            elif callable(sound):
                sound = sound()
            self._waiting.popleft()
            self._held = None
            now = self.clock.now()
            if continues:
                sound = sound.slice(min(lead, max(0.0, now - self._ended)))
            self.current = Playing(self.out.play(sound), sound, say_id, now)
            if continues and self._gain != 1.0:
                self.current.duck(self._gain)
            if text:
                self.on_start(text)

    def _holds(self, ready: Callable[[], bool] | None) -> bool:
        """The first waiting sound is not to start yet: `ready` says no, and it has not waited READY_WAIT."""
        if ready is None or ready():
            return False
        now = self.clock.now()
        if self._held is None:
            self._held = now
        return now - self._held < READY_WAIT

    def stop(self) -> None:
        """Silence at once: what plays is cut, what waits is dropped."""
        self._waiting.clear()
        self._held = None
        if self.current is not None:
            self.current.playback.stop()
            self.current = None
