"""Rendering what comes next while the current sound plays, so a slow voice (Kokoro renders a step
little faster than it speaks it on a busy machine) leaves no gap between sentences or steps.

Background threads (WORKERS) render sentences: first those the player is about to play (`soon`: the rest of
a text whose first sentence plays now), then the few it says are coming (`want`), in order, then the rest
of what it says is coming (the rest of the open item), which is kept nowhere here: the guide's synthesiser
is a `speech.CachedSynthesizer`, which keeps it in memory and on disk, so taking it later costs no
synthesis, this time and every later time. A slow voice on a busy machine thus gets the whole item's
head start rather than one step's. Where even that is not enough (an item's first step, on a machine
busier than the voice can keep up with), `in_time` says so from the pace of the renders so far, and the
player lets the text wait at its start, in the pause planned there, rather than stop mid-way. `take`
hands a finished one over (or the EngineError it ended in, once, so the caller's retries and messages
work as if it had rendered it itself), waits for one being rendered right now, and otherwise returns
None so the caller renders it itself. Nothing here ever plays or stops a sound, so pause and stop
still cut in at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Sequence

from voice_guide.audio import Audio
from voice_guide.content.model import Item
from voice_guide.engines import Synthesizer, VoiceSettings
from voice_guide.errors import EngineError
from voice_guide.speaking.text import split_sentences
from voice_guide.timeline import HALFWAY_TEXT

AHEAD = 6
"""Sentences rendered ahead and kept ready here at most: about the next step of the item being read."""
KEEP = 2 * AHEAD
"""Finished renders kept at most (a sentence may be taken twice: for its length, then its sound, which
forgets it), with room for those wanted `soon`."""

WORKERS = 2
"""Sentences rendered at once, one per core: Kokoro renders a sentence on one thread (two make it no
faster), and under other work one thread alone falls behind a voice that speaks without pause."""

FROM_CACHE = 0.02
"""A render quicker than this many seconds per second of its sound came from the synthesiser's cache and
says nothing of the voice's pace (the voices here take 0.09 to 0.9)."""
PACE_WEIGHT = 0.5
"""How far each render moves the pace towards its own (the machine's load changes)."""

Key = tuple[str, VoiceSettings]


@dataclass
class Pace:
    """How fast the voice renders now, from the look-ahead's renders (None until one is known)."""

    rtf: float | None = None
    """Seconds of rendering per second of speech."""
    per_char: float | None = None
    """Seconds of speech per character of text."""

    def note(self, text: str, wall: float, seconds: float) -> None:
        if seconds <= 0 or wall < FROM_CACHE * seconds:
            return
        for name, value in (("rtf", wall / seconds), ("per_char", seconds / max(1, len(text)))):
            old = getattr(self, name)
            setattr(self, name, value if old is None else old + PACE_WEIGHT * (value - old))


class Lookahead:
    def __init__(self, synth: Synthesizer, ahead: int = AHEAD, keep: int = KEEP, workers: int = WORKERS,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.synth = synth
        self.now = now
        self.pace = Pace()
        self.workers = workers
        self.ahead = ahead
        self.keep = keep
        self._changed = threading.Condition()
        self._wanted: list[Key] = []
        self._soon: list[Key] = []
        self._later: list[Key] = []
        """Wanted beyond `ahead`: rendered last, kept only by the synthesiser's cache."""
        self._cached: set[Key] = set()
        """Rendered for `_later` (so not rendered for it again)."""
        self._done: OrderedDict[Key, Audio | EngineError] = OrderedDict()
        self._busy: dict[Key, float] = {}
        """Being rendered, since when."""
        self._closed = False
        self._threads: list[threading.Thread] = []
        self._followed: tuple | None = None
        self._narration: set[Key] = set()
        """Everything `want`ed for the item followed: its own sentences, never a reply to the user."""

    def want(self, texts: Sequence[str], settings: VoiceSettings) -> None:
        """Render these next, in order (replacing what was wanted before): the first `ahead` are kept
        ready here, the rest only rendered (into the synthesiser's cache)."""
        keys = [(t, settings) for t in dict.fromkeys(texts) if t.strip()]
        with self._changed:
            if self._closed:
                return
            self._narration.update(keys)
            new = [k for k in keys if k not in self._done and k not in self._busy and k not in self._soon]
            self._wanted = [k for k in new if k in keys[: self.ahead]]
            self._later = [k for k in new if k not in self._wanted and k not in self._cached]
            self._start()

    def soon(self, texts: Sequence[str], settings: VoiceSettings) -> None:
        """Render these first, in order (they play as soon as the sound before them ends), and keep
        them wanted whatever `want` is told next, until taken or `drop_soon`."""
        with self._changed:
            if self._closed:
                return
            for key in dict.fromkeys((t, settings) for t in texts if t.strip()):
                if key not in self._done and key not in self._busy and key not in self._soon:
                    self._soon.append(key)
                for pending in (self._wanted, self._later):
                    if key in pending:
                        pending.remove(key)
            self._start()

    def drop_soon(self) -> None:
        """What was wanted `soon` will not play (the guide was stopped): render it no more."""
        with self._changed:
            self._soon = []

    def _start(self) -> None:
        if self._pending() and len(self._threads) < self.workers:
            for _ in range(self.workers - len(self._threads)):
                thread = threading.Thread(target=self._work, name="voice-guide-lookahead", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._changed.notify_all()

    def follow(self, item: Item | None, step: int, closing: str, settings: VoiceSettings) -> None:
        """`want` what comes next after `step` of `item` (see `upcoming`), unless that is what it
        already wants."""
        place = (item, step, settings)
        if place != self._followed:
            if self._followed is None or self._followed[0] is not item:
                self._narration = set()
            self._followed = place
            self.want(upcoming(item, step, closing), settings)

    def take(self, text: str, settings: VoiceSettings, forget: bool = False) -> Audio | None:
        """The rendered `text` if it is ready or being rendered (waiting for it then), else None (the
        caller renders it, so it is no longer wanted here); raises the EngineError its rendering ended
        in (once: it is forgotten). `forget`: this is the last time it is needed."""
        key = (text, settings)
        with self._changed:
            for pending in (self._wanted, self._soon, self._later):
                if key in pending:
                    pending.remove(key)
            self._changed.wait_for(lambda: key not in self._busy)
            result = self._done.get(key)
            if isinstance(result, EngineError):
                del self._done[key]
                raise result
            if result is not None and forget:
                del self._done[key]
            elif result is not None:
                self._done.move_to_end(key)
            return result

    def narrates(self, texts: Sequence[str], settings: VoiceSettings) -> bool:
        """These sentences are the followed item's own (wanted before they were due), not a reply."""
        with self._changed:
            return all((t, settings) in self._narration for t in texts if t.strip())

    def in_time(self, texts: Sequence[str], settings: VoiceSettings, first: float, pause: float) -> bool:
        """Whether the rest of a text (`texts`: its sentences after the first, which is ready and lasts
        `first` seconds; `pause` between them) plays on without a stop: each of them that is still to
        render here is expected ready when it is due, at the pace of the renders so far, `workers` at
        once. True while that pace is unknown."""
        with self._changed:
            if self.pace.rtf is None or self.pace.per_char is None:
                return True
            now, due, work = self.now(), first + pause, 0.0
            for key in ((t, settings) for t in texts):
                done = self._done.get(key)
                length = done.duration if isinstance(done, Audio) else len(key[0]) * self.pace.per_char
                if key in self._busy or key in self._soon or key in self._wanted or key in self._later:
                    left = max(0.0, length * self.pace.rtf - (now - self._busy.get(key, now)))
                    work += left
                    if max(work / self.workers, left) > due:
                        return False
                due += length + pause
            return True

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until everything wanted has been rendered: True, or False when `timeout` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending() and not self._busy, timeout)

    def close(self) -> None:
        """Stop after the text being rendered (the thread never holds up the program's exit)."""
        with self._changed:
            self._closed = True
            self._wanted, self._soon, self._later = [], [], []
            self._changed.notify_all()

    def _pending(self) -> list[Key]:
        """What is still to render, in the order it is rendered."""
        return self._soon or self._wanted or self._later

    def _work(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending() or self._closed)
                if self._closed:
                    return
                pending = self._pending()
                keep = pending is not self._later
                key = pending.pop(0)
                self._busy[key] = started = self.now()
            try:
                result: Audio | EngineError | None = self.synth.synthesize(*key)
            except EngineError as exc:
                result = exc
            except Exception:  # not the engine's to explain: the caller renders it itself and sees it
                result = None
            with self._changed:
                del self._busy[key]
                if isinstance(result, Audio):
                    self.pace.note(key[0], self.now() - started, result.duration)
                if result is not None and not keep:
                    self._cached.add(key)
                elif result is not None:
                    self._done[key] = result
                    while len(self._done) > self.keep:
                        self._done.popitem(last=False)
                self._changed.notify_all()


def upcoming(item: Item | None, step: int, closing: str) -> list[str]:
    """The sentences the guide will say next in `item` after `step`: the later steps' words, "Halfway."
    (second) when a step still to come has it, then `closing`'s; nothing at the menu."""
    if item is None:
        return []
    texts = [sentence for s in item.steps[step + 1 :] if s.say for sentence in split_sentences(s.say)]
    texts += split_sentences(closing)
    if any(s.halfway for s in item.steps[max(0, step) :]):
        texts.insert(1, HALFWAY_TEXT)
    return texts
