"""Barge-in: hearing "stop" or "pause" said over the guide's own voice, and nothing else, safely.

Pure (numpy): microphone and reference blocks in, a stretch of voice out. The guide's echo is taken out
by `voice_guide.hearing.echo.EchoEstimate`; what is left of it, and what the raw microphone hears of it while
no estimate is settled, is measured as a coupling, and only a voice clearly over it is taken.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.engines import EchoPath
from voice_guide.hearing.echo import EchoEstimate
from voice_guide.hearing.listen import ABS_START, FRAME_SECONDS, PREROLL, frame_levels

ECHO_ACTIVE = -35.0
"""The guide's own sound must be at least this loud (dBFS) for the echo coupling to be measured on it."""
CLEAN_WARM = 0.2
"""Seconds of playback the clean coupling must be measured on before it is used (until then it is taken
as `CLEAN_DEPTH` under the raw one)."""
CLEAN_DELAY = 0.5
"""Seconds a reading of the clean coupling waits before it counts: as long as the echo's estimate may
take to follow a shift of the device's timing (its delay moves by milliseconds now and then), so that
readings taken with a stale estimate are dropped when it moves, never kept for seconds as a coupling
that would hide the user."""
CLEAN_DEPTH = 20.0
"""Decibels of the echo (as the raw microphone hears it) the subtraction is never trusted to take out
more than: a shift of a device's timing brings that much back before it is learnt again."""
RAW_KNOWN = 0.1
"""Seconds of readings of the raw coupling from which the clean one may be assumed from it (before
it is measured itself): a sound's first reading may be of a frame the echo had only begun to reach
(-44 dB on the card, the rest of the frame silent), and taken alone for the coupling it made the
title's own last word a voice over the guide (decoded in 2 of 5 runs of the real-speaker test)."""
SPREAD_DB = 10.0
"""Decibels by which the echo left in one frame may exceed what the estimate left on average over the
stretch it learnt on: the clean coupling is assumed as `CLEAN_DEPTH` before it is measured only when
the estimate took the echo down by this much more than that."""
STALE_DB = 1.0
"""Decibels by which the subtraction may leave a frame louder than the raw microphone before that
frame is judged on the raw one and says nothing of the clean coupling: a copy of the echo a few
milliseconds off (the device's timing moved, by an underrun, until the estimate learns it again) adds
to the echo instead of taking it out (2-4 dB on the card), and that stretch of the guide's own voice
was taken. Not 0: where the user's voice is most of the microphone, a good subtraction may leave
a frame a fraction of a decibel louder, and a stop lost one of its few frames over the echo. Such a
frame is kept as the raw microphone heard it, to begin a voice with or in one: the copy subtracted
put the guide's voice, turned over, into what was taken (on the card an underrun left the
microphone silent for 40 ms where the copy was not, and a stop begun just after was written "oh")."""
SILENT = -100.0
"""dBFS under which a microphone frame is digital silence (no microphone with a voice or an echo in
it is that quiet): it says nothing of the echo coupling. On the virtual card the microphone is silent
while a sound's first echo is still on its way, and those readings (-170 dB) were a session's
first of the coupling: taken for it, they made the guide's own title and first words a voice over
it (taken up to `max_len` with a stop said in them, and written "its next time let your")."""
TAKEN_RANGE_DB = 20.0
TAKEN_TAIL = 0.1
"""Seconds of a voice taken kept after its last frame within `TAKEN_RANGE_DB` of its loudest."""
HOLD_DB = 3.0
"""Decibels under `margin_db` by which a frame of a voice already taken may fall and still count
towards `min_speech`; a voice still begins only at the full margin. A short British "stop" as loud
as the guide's voice had 4 frames over the full margin, one short of 0.1 s, and was dropped (3 of 40
said in a sentence's first 0.8 s at volume 1.0 on the card)."""
ECHO_ONLY = 0.97
"""A voice taken is dropped when the echo, learnt again meanwhile, explains this share of its energy."""


class BargeIn:
    """Hears "stop" or "pause" said over the guide's own voice, and nothing else, safely.

    It compares the microphone, less the echo `voice_guide.hearing.echo.EchoEstimate` finds in it (once
    settled on the sound), with what the guide is playing at that moment (`ref`). While the user is
    silent the microphone hears only the echo, so their level difference is the echo coupling; the
    largest coupling of the last few seconds is kept (measured against the loudest sound of the last
    `window` seconds, so an echo arriving up to that late is covered), and after the subtraction it is
    taken as no more than `CLEAN_DEPTH` under the raw one (and as that until it has been measured, for
    as long as measuring it should take, when the estimate took the echo down by far more than that on
    the stretch it learnt on: in a session's first sentence, after a title too short to measure it on).
    A frame counts as the user only when it is `margin_db` louder than the loudest echo the recent
    playback could cause (once a voice has begun, `HOLD_DB` less, towards its `min_speech` seconds
    over the echo). With headphones there is no echo and any speech
    gets through; with loud speakers and no settled echo the user must clearly speak over them. Nothing
    is heard until the coupling has been measured on `warm` seconds of playback; a stretch the echo
    turns out to explain is dropped."""

    lead = 0.1
    """Seconds by which the caller should pass `ref` ahead of the microphone: device clocks are not
    exact, and an echo that seems to come before its sound must still be covered."""

    def __init__(self, rate: int = SPEECH_RATE, margin_db: float = 12.0, window: float = 0.6,
                 memory: float = 3.0, warm: float = 0.5, min_speech: float = 0.1, max_len: float = 1.5,
                 known: EchoPath | None = None) -> None:
        """`known`: the echo path learnt in an earlier session with this speaker and microphone
        (`EchoEstimate.seed`)."""
        self.rate = rate
        self.frame = round(FRAME_SECONDS * rate)
        self.margin_db = margin_db
        frames = lambda seconds: max(1, round(seconds / FRAME_SECONDS))  # noqa: E731
        self._ref: deque[float] = deque(maxlen=frames(window))
        self._raw = _Coupling(frames(memory), frames(0.3), frames(warm))
        """Coupling as the raw microphone hears it."""
        self._clean = _Coupling(frames(memory), frames(CLEAN_DELAY), frames(CLEAN_WARM))
        """Coupling once the learnt echo is taken out."""
        self._raw_known = frames(RAW_KNOWN)
        self._assume = frames(CLEAN_DELAY + CLEAN_WARM)
        self._assumed = self._assume
        """Readings of the clean coupling on this sound, with its echo learnt, left in which it is still
        assumed: as many as measuring it takes. An estimate that keeps failing would never let it be
        measured, and is judged on the raw microphone after that, as before. Counted in readings, not
        frames: a digitally silent microphone (the virtual card's, between the guide's words) gives
        none, and counted as frames they ran the assumption out before the coupling was measured,
        while a British stop said 1.1 s into a session's first sentence was judged on the raw
        microphone and dropped."""
        self._deepest = 0.0
        """The deepest the echo's estimate took it down on this sound (a later one learnt on a stretch
        with the user's voice in it takes out less)."""
        self._read_moved = False
        """The clean coupling has readings taken with a moved filter (`EchoEstimate.moved`)."""
        self._min, self._max = frames(min_speech), frames(max_len)
        self._end = frames(0.3)
        self._pre: deque[np.ndarray] = deque(maxlen=frames(PREROLL))
        self._taken: list[np.ndarray] = []
        self._near = self._quiet = self._restoring = 0
        """`_restoring`: frames left while the guide's volume comes back after a voice was taken."""
        self._pending = np.zeros((3, 0), dtype=np.float32)
        """Microphone, microphone less echo, and reference samples short of a whole frame."""
        self._cleaned = False
        """The last block was judged with the echo taken out."""
        self._looked = False
        """This sound's start has been looked back on (`_look_back`), or a voice was taken in it."""
        self.echo = EchoEstimate(rate)
        if known is not None:
            self.echo.seed(known)
        self._timeline: object = None
        self._sound: object = None
        self._refits = self._moves = 0

    @property
    def hearing(self) -> bool:
        """A voice over the guide is being taken right now (the player ducks meanwhile)."""
        return bool(self._taken)

    def reset(self) -> None:
        """The guide fell silent: forget any half-heard barge-in (the couplings and the echo's
        estimate are kept: its next sound on the same stream comes with the same delay)."""
        self._taken, self._near, self._quiet, self._restoring = [], 0, 0, 0
        self._ref.clear()
        self._pre.clear()
        self._raw.pending.clear()
        self._clean.pending.clear()
        self._pending = np.zeros((3, 0), dtype=np.float32)
        self.echo.quiet()

    def _new_timeline(self, timeline: object) -> None:
        """Another output stream may reach the microphone with another delay: the echo's filter is
        moved to it (`EchoEstimate.forget`) or learnt again, and meanwhile the raw microphone is
        judged. What is left after the subtraction (the clean coupling) is the room's and is kept."""
        self._timeline = timeline
        self._assumed, self._deepest, self._looked = self._assume, 0.0, False
        self.echo.forget()
        self._clean.pending.clear()

    def _next_sound(self) -> None:
        """The next sound on the same stream: its echo comes with the last one's delay, and is taken
        out from its first sample (`EchoEstimate.next_sound`), where it is judged clean. It has frames
        of its own in which the clean coupling may be assumed (a session's title used its own up, and
        its first sentence's first half second was judged on the raw microphone, where a stop is not
        heard); it is looked back on only once its filter is moved (`_moved`)."""
        self._assumed, self._looked = self._assume, True
        self.echo.next_sound()
        self._clean.pending.clear()

    def feed(self, mic: np.ndarray, ref: np.ndarray, timeline: object = None, sound: object = None) -> Audio | None:
        """`timeline`: the output stream `ref` is placed on (`Playback.timeline`); `sound`: the latest
        sound in `ref` (each has frames of its own in which the clean coupling may be assumed)."""
        mic = np.asarray(mic, dtype=np.float32).reshape(-1)
        ref = np.asarray(ref, dtype=np.float32).reshape(-1)
        n = min(len(mic), len(ref))
        mic, ref = mic[:n], ref[:n]
        if timeline is not self._timeline:
            self._new_timeline(timeline)
        elif sound is not self._sound:
            self._next_sound()
        self._sound = sound
        residual = self.echo.residual(mic, ref)
        cleaned = self.echo.settled
        if cleaned and not self._cleaned:
            self._clean_preroll(n)
        self._cleaned = cleaned
        blocks = np.concatenate([self._pending, np.stack([mic, residual, ref])], axis=1)
        n = blocks.shape[1] // self.frame
        raw_levels, clean_levels, ref_levels = (frame_levels(b, self.frame)[:n] for b in blocks)
        self._pending = blocks[:, n * self.frame :]
        found = None
        for i in range(n):
            stale = clean_levels[i] > raw_levels[i] + STALE_DB
            frame = blocks[0 if stale else 1, i * self.frame : (i + 1) * self.frame]
            heard = self._frame(frame, float(raw_levels[i]), float(clean_levels[i]) if cleaned and not stale else None,
                                float(ref_levels[i]))
            found = heard if heard is not None else found
        lag = self.echo.lag
        self.echo.learn()  # also while taking: a voice over the echo is no copy of it, and is not learnt
        self._deepest = max(self._deepest, self.echo.depth)
        if self.echo.moves != self._moves:
            self._moved()
        if self._deepest >= CLEAN_DEPTH + SPREAD_DB and not self._looked:
            self._look_back(len(mic))
        moved = lag is None or self.echo.lag is None or abs(self.echo.lag - lag) > self.echo.spread
        if moved:
            self._clean.pending.clear()  # read with the stale delay, before the new one was learnt
        if (self._read_moved and not self.echo.moved) or self.echo.refits != self._refits:
            self._refits = self.echo.refits
            self._remeasure()
        return found

    def _look_back(self, block: int) -> None:
        """The echo's estimate took it down far enough to be trusted for the first time on this sound
        (`CLEAN_DEPTH` + `SPREAD_DB`): what was heard of the sound before, on the raw microphone, is
        judged again with the echo taken out, as later frames are. A stop said in a sound's first
        fifth of a second covers the stretch the filter is moved on, which is moved only once the
        stop has ended: it is taken then, from where it began (the guide pauses half a second
        later than it would have). Only when the filter takes the echo out of the rest of that
        stretch by `CLEAN_DEPTH`: a filter learnt after an underrun moved the device's timing does
        not, and the guide's own voice from before the move stood out of it as a voice (taken and
        written "you", "I'll thank your" on the card). Only when the sound so far is longer than the
        pre-roll and this block: looked back on when the filter was moved at once, a sound's first
        tenths (where it fits least) were taken as a voice, and a stop said 0.15-0.5 s in was taken
        with them and not understood (19-21 of 28 paused where 24 did without looking back)."""
        self._looked = True
        if self._taken or self._restoring or len(self._raw.values) < self._raw_known:
            return
        short = self._pending.shape[1]
        mic, ref, clean = self.echo.heard(self._max * self.frame, short)
        k = len(clean) // self.frame
        if k * self.frame <= block + (self._pre.maxlen or 0) * self.frame:
            return  # no more than the pre-roll, cleaned as it settled, and this block hold
        raw_l, ref_l, clean_l = (frame_levels(x[len(x) - k * self.frame :], self.frame)[:k]
                                 for x in (mic, ref, clean))
        floor = max(self._raw.values) - CLEAN_DEPTH
        reach = self._ref.maxlen or 1
        near = [bool(clean_l[i] <= raw_l[i] + STALE_DB)
                and self._clean.near(float(clean_l[i]), float(ref_l[max(0, i - reach + 1) : i + 1].max()),
                                     self.margin_db, floor) for i in range(k)]
        echo_only = [raw_l[i] - clean_l[i] for i in range(k) if not near[i] and ref_l[i] > ECHO_ACTIVE]
        if sum(near) < self._min or not echo_only or float(np.median(echo_only)) < CLEAN_DEPTH:
            return  # the filter is not seen to take the echo out of that stretch (its timing moved since)
        first, last = near.index(True), k - 1 - near[::-1].index(True)
        stale = (clean_l > raw_l + STALE_DB)[:, None]
        frames = np.where(stale, mic[len(mic) - k * self.frame :].reshape(k, self.frame),
                          clean[len(clean) - k * self.frame :].reshape(k, self.frame))
        self._taken = list(frames[max(0, first - (self._pre.maxlen or 0)) :])
        self._near, self._quiet = sum(near), k - 1 - last
        self._pre.clear()

    def _clean_preroll(self, n: int) -> None:
        """The echo's estimate settled with this block (of `n` samples): the frames kept to begin a
        voice with, and the samples short of a frame before it, were heard on the raw microphone,
        full of the guide's voice (a stop said in a sound's first fifth of a second was taken with
        it, and written "it's done" or "star"; a frame half raw was taken as a voice): the echo is
        taken out of them too, as far back as this sound goes."""
        short = self._pending.shape[1]
        samples = self.echo.heard(len(self._pre) * self.frame + short, n)[2]
        if len(samples) >= short:
            self._pending[1] = samples[len(samples) - short :]
            samples = samples[: len(samples) - short]
        k = len(samples) // self.frame
        if k:
            kept = list(self._pre)[: len(self._pre) - k]
            self._pre = deque([*kept, *samples[len(samples) - k * self.frame :].reshape(k, self.frame)],
                              maxlen=self._pre.maxlen)

    def _moved(self) -> None:
        """The echo's filter was moved to where this sound's echo is (`EchoEstimate._move`): readings
        of the clean coupling still waiting were taken with the filter before, and what was heard of
        the sound so far is looked back on with this one, as on a new stream (a stop over the
        sound's first `QUICK` delays the move until it ends)."""
        self._moves = self.echo.moves
        self._clean.pending.clear()
        self._looked = False

    def _remeasure(self) -> None:
        """The echo's filter learnt on this sound replaced the last stream's, moved to it (which took
        the echo down 13-15 dB on the card where the new one takes 30-70 dB), or one learnt before
        on this stream by a better one (learnt on a session's short title, a filter took the first
        sentence's echo down 25 dB where the next took 65 dB): the clean coupling read with the old
        one says what that one left, and kept for seconds it hid a user no louder than the guide. It
        is measured again, and assumed meanwhile as before it was first measured."""
        self._clean.values.clear()
        self._clean.pending.clear()
        self._read_moved = False
        self._assumed = self._assume

    def _frame(self, frame: np.ndarray, raw: float, clean: float | None, ref_level: float) -> Audio | None:
        self._ref.append(ref_level)
        echo = max(self._ref)
        near_raw = self._raw.near(raw, echo, self.margin_db)
        floor = max(self._raw.values, default=-np.inf) - CLEAN_DEPTH
        assumed = (clean is not None and not self._clean.warm() and len(self._raw.values) >= self._raw_known
                   and self._deepest >= CLEAN_DEPTH + SPREAD_DB
                   and (self._assumed > 0 or bool(self._taken)))  # a voice begun in time is heard to its end
        judged_clean = clean is not None and (self._clean.warm() or assumed)

        def over(margin: float) -> bool:
            return self._clean.near(clean, echo, margin, floor) if judged_clean else self._raw.near(raw, echo, margin)

        near = over(self.margin_db)
        if self._restoring:  # the reference handed ahead still has the lowered gain: nothing is judged
            self._restoring -= 1
            near = near_raw = False
        elif not self._taken and echo > ECHO_ACTIVE and raw > SILENT:
            self._raw.measure(raw - echo, voice=near_raw or near)
            if clean is not None:
                self._clean.measure(clean - echo, voice=near)
                self._read_moved = self._read_moved or self.echo.moved
                if assumed:
                    self._assumed -= 1
        if not self._taken:
            if near:
                self._taken = [*self._pre, frame]
                self._near, self._quiet = 1, 0
            else:
                self._pre.append(frame)
            return None
        self._taken.append(frame)
        self._near += near or over(self.margin_db - HOLD_DB)
        self._quiet = 0 if near else self._quiet + 1
        if self._quiet < self._end and len(self._taken) < self._max:
            return None
        taken, ended = self._taken, self._quiet >= self._end
        self._looked = True  # what was taken is not looked back on again
        enough = self._near >= self._min and self.echo.explained(len(taken) * self.frame) < ECHO_ONLY
        self._taken, self._near, self._quiet = [], 0, 0
        self._restoring = round(2 * self.lead / FRAME_SECONDS)
        self._pre.clear()
        if not enough:
            return None
        samples = np.concatenate(taken)
        return Audio(_voice_only(samples, self.frame) if ended else samples, self.rate)


def _voice_only(samples: np.ndarray, frame: int) -> np.ndarray:
    """What was taken (a voice that ended), up to `TAKEN_TAIL` after its last frame within
    `TAKEN_RANGE_DB` of its loudest: the rest is what is left of the guide's voice (heard as the voice's
    end), which the recogniser wrote as words after it ("stop playing", "start your", "it's hard to
    go"). Never a voice cut at `max_len`: that is talk, perhaps the guide's own, and a part of it may
    sound like a command ("place in the quiet" of "... the quiet of the room" was taken for stop)."""
    levels = frame_levels(samples, frame)
    last = int(np.nonzero(levels >= levels.max() - TAKEN_RANGE_DB)[0][-1])
    return samples[: (last + 1) * frame + round(TAKEN_TAIL * frame / FRAME_SECONDS)]


class _Coupling:
    """How much louder than the loudest recent echo the microphone is while only the echo sounds: the
    largest reading of the last few seconds. Readings wait `delay` frames before they count: they may
    be the start of the user's voice rising (which would otherwise ratchet the coupling up and hide it)."""

    def __init__(self, memory: int, delay: int, warm: int) -> None:
        self.values: deque[float] = deque(maxlen=memory)
        self.pending: deque[float] = deque()
        self.delay, self.frames = delay, warm

    def warm(self) -> bool:
        return len(self.values) >= self.frames

    def near(self, level: float, echo: float, margin: float, floor: float = -np.inf) -> bool:
        """`level` is a voice over the echo, the coupling taken as at least `floor`; until enough has
        been measured, as `floor` itself (nothing is near while that is unknown too)."""
        coupling = max(max(self.values), floor) if self.warm() else floor
        return bool(np.isfinite(coupling)) and level >= ABS_START and level > echo + coupling + margin

    def measure(self, reading: float, voice: bool) -> None:
        if voice:
            self.pending.clear()
            return
        self.pending.append(reading)
        if len(self.pending) > self.delay:
            self.values.append(self.pending.popleft())
