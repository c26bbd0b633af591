"""The microphone side of the guide's loop: the echo gate, the end-of-speech detector, barge-in over the
guide's own voice and the user's switch, turning each microphone block into what was taken from it.
The player only decides what a take means for the session and does it; it never handles raw blocks.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from voice_guide.engines import Clock, EchoPath
from voice_guide.hearing.barge_in import BargeIn
from voice_guide.hearing.listen import BlockTimes, EchoGate, Endpointer
from voice_guide.understanding.matching import Match
from voice_guide.understanding.understand import Ears, Heard
from voice_guide.live.sound_queue import Playing


RECENT = 4
"""Sounds whose echo a block may hold at most (the loop may read blocks a second or two late)."""
BEHIND = 2.0
"""Seconds a block's counted time may be behind the clock and still be believed. A live microphone's
blocks are that late only while the loop is (and may then hold the guide's last words after it fell
silent); recordings paced on a busy clock fall behind without end, and would keep the gate shut."""


@dataclass(frozen=True)
class Said:
    """An utterance said while the guide was quiet."""

    heard: Heard


@dataclass(frozen=True)
class SaidOver:
    """A voice taken over the guide's own (only "stop" or "pause" may count)."""

    heard: Heard


@dataclass(frozen=True)
class Switched:
    """The user's switch sound (a click or hum too short for the endpointer)."""

    match: Match


@dataclass(frozen=True)
class VoiceOver:
    """Nothing taken yet; `hearing` is True while a voice over the guide's may be starting."""

    hearing: bool


Take = Said | SaidOver | Switched | VoiceOver


class Listener:
    """What the microphone's blocks hold, given what the guide is playing; `ears` tells what an
    utterance means and `watch` (block, rate -> Match or None) spots the user's switch."""

    def __init__(self, clock: Clock, ears: Ears | None, rate: int, trailing_silence: float, max_utterance: float,
                 barge_in: bool, watch: Callable[[np.ndarray, int], Match | None] | None = None,
                 echo: EchoPath | None = None) -> None:
        """`echo`: the echo path kept for this speaker and microphone, if any (`BargeIn`'s `known`)."""
        self.ears = ears
        self.rate = rate
        self.watch = watch
        self.endpointer = Endpointer(rate, trailing_silence, max_utterance)
        self.barge = BargeIn(rate, known=echo) if ears is not None and barge_in else None
        self.gate = EchoGate()
        self.times = BlockTimes(clock)
        self._recent: deque[Playing] = deque(maxlen=RECENT)
        """The sounds played since the gate closed, latest last (their echo may still be heard)."""
        self._placed: tuple[object, int] = (None, -1)
        """What the echo's reference is placed on: the speaker's timeline, and the microphone's (how
        often its start has moved)."""

    def speaking(self) -> bool:
        """Someone has started an utterance that has not ended yet."""
        return self.endpointer.state in ("maybe", "speech") or (self.barge is not None and self.barge.hearing)

    def follow(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """The microphone's blocks, each timed as it arrives (the echo's reference is cut by it)."""
        return self.times.follow(blocks, self.rate)

    def quiet(self, playing: Playing | None, now: float) -> bool:
        """The echo gate, told whether the guide makes a sound: True when what the microphone hears
        now cannot be the guide's own voice."""
        self.gate.update(playing is not None, now)
        return self.open(now)

    def open(self, now: float) -> bool:
        """The gate as it was when the block being read was recorded (at most `BEHIND` before now)."""
        return self.gate.open(min(now, max(self.times.end, now - BEHIND)) if self.times.any else now)

    def _timeline(self, speaker: object) -> tuple[object, int]:
        """The timeline the echo's reference is placed on for barge-in (`BargeIn.feed`): another
        when the speaker's or the microphone's moves. Early in a session the microphone's start was
        moved by 53 ms as the first sentence began (blocks read late until then), and the echo
        learnt on the title, kept for the sentence on the speaker's one stream, no longer fitted:
        a stop said 0.55 s in was not heard."""
        if self._placed != (speaker, self.times.moves):
            self._placed = (speaker, self.times.moves)
        return self._placed

    def take(self, block: np.ndarray, playing: Playing | None, now: float) -> Take | None:
        """What this block completes, if anything (call `quiet` first in the same turn). The gate is
        judged at the block's counted time (a block read late was recorded while the guide may still
        have been speaking), but never more than `BEHIND` before now: that time falls without end
        behind blocks that come slowly, and words said long after the guide fell silent would be
        taken as said over it. A block's echo is made of every recent sound as it sounded then (the
        next sound may already have started when it is read). A voice begun over the guide, or in
        the quiet just after it, is followed to its end by barge-in (at most its `max_len`), and is
        `SaidOver` (only "stop" or "pause" may count: it may hold the guide's own tail)."""
        assert self.ears is not None
        if playing is not None and (not self._recent or self._recent[-1] is not playing):
            self._recent.append(playing)
        following = self.barge is not None and self.barge.hearing and playing is None
        if self.open(now) and not following:
            taken: Take | None = None
            utterance = self.endpointer.feed(block)
            if utterance is not None:
                taken = Said(self.ears.understand(utterance))
            elif self.watch is not None:
                switched = self.watch(block, self.rate)
                taken = Switched(switched) if switched is not None else None
            if self.barge is not None:
                self.barge.reset()
            self._recent.clear()
            return taken
        self.endpointer.discard()
        if self.barge is None or not self._recent:
            return None
        start = self.times.end - len(block) / self.rate + self.barge.lead
        ref = sum(sound.reference(self.rate, start, len(block)) for sound in self._recent)
        latest = self._recent[-1]
        spoken_over = self.barge.feed(block, ref, self._timeline(latest.playback.timeline), latest)
        if spoken_over is not None:
            return SaidOver(self.ears.understand(spoken_over))
        return VoiceOver(self.barge.hearing)
