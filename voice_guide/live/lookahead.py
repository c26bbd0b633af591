"""Rendering what comes next while the current sound plays, so a slow voice (Kokoro renders a step
little faster than it speaks it on a busy machine) leaves no gap between sentences or steps.

Background threads (WORKERS) render sentences: first those the player is about to play (`soon`: the rest of
a text whose first sentence plays now), then the few it says are coming (`want`), in order, then the rest
of what it says is coming (the rest of the open item), which is kept nowhere here: the guide's synthesiser
is a `speech.CachedSynthesizer`, which keeps it in memory and on disk, so taking it later costs no
synthesis, this time and every later time. A slow voice on a busy machine thus gets the whole item's
head start rather than one step's. `take`
hands a finished one over (or the EngineError it ended in, once, so the caller's retries and messages
work as if it had rendered it itself), waits for one being rendered right now, and otherwise returns
None so the caller renders it itself. Nothing here ever plays or stops a sound, so pause and stop
still cut in at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Sequence

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

Key = tuple[str, VoiceSettings]


class Lookahead:
    def __init__(self, synth: Synthesizer, ahead: int = AHEAD, keep: int = KEEP, workers: int = WORKERS) -> None:
        self.synth = synth
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
        self._busy: set[Key] = set()
        self._closed = False
        self._threads: list[threading.Thread] = []
        self._followed: tuple | None = None

    def want(self, texts: Sequence[str], settings: VoiceSettings) -> None:
        """Render these next, in order (replacing what was wanted before): the first `ahead` are kept
        ready here, the rest only rendered (into the synthesiser's cache)."""
        keys = [(t, settings) for t in dict.fromkeys(texts) if t.strip()]
        with self._changed:
            if self._closed:
                return
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
                self._busy.add(key)
            try:
                result: Audio | EngineError | None = self.synth.synthesize(*key)
            except EngineError as exc:
                result = exc
            except Exception:  # not the engine's to explain: the caller renders it itself and sees it
                result = None
            with self._changed:
                self._busy.discard(key)
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
