"""Finding spoken commands in a microphone stream: our own end-of-speech detection, and the gate that
keeps the guide from hearing itself.

Pure (numpy only): blocks in, whole utterances out. Energy against an adaptive noise floor decides what
is speech, in 20 ms frames. An utterance starts after ~0.1 s above the floor (with 0.2 s of pre-roll, so
a soft first consonant is kept), ends after `trailing_silence` of quiet (slow speakers raise it), and is
dropped when shorter than a click (0.15 s) or longer than `max_utterance` (long speech is talk, not a
command). `RecordingsIn` plays recorded files as if they came from a microphone, for `--input` runs.
"""

from __future__ import annotations

import contextlib
from collections import deque
from typing import Callable, Iterator, Sequence

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio, frame_dbfs
from voice_guide.engines import LONGEST_UTTERANCE, TRAILING_SILENCE

FRAME_SECONDS = 0.02
START_SECONDS = 0.1
"""Voiced time needed before an utterance counts as started."""
MIN_SPEECH = 0.15
"""Utterances with less voiced time than this are clicks, taps or coughs' edges: dropped."""
PREROLL = 0.2
TAIL = 0.2
"""Quiet kept after the last voiced frame."""
START_DB, CONTINUE_DB = 10.0, 6.0
"""Decibels above the noise floor that start, and that keep up, an utterance."""
FLOOR_MIN, ABS_START = -75.0, -58.0
"""The noise floor never drops below FLOOR_MIN; nothing quieter than ABS_START ever starts speech."""
BLOCK_JITTER = 0.005
"""Seconds by which a block must show the microphone stream started earlier before its start is moved:
less is the arrival's jitter, and each move would shift the echo off its learnt delay."""
ECHO_GUARD = 0.35
"""Seconds after the guide stops making sound before the microphone is heard again (room echo)."""


def frame_levels(samples: np.ndarray, frame: int) -> np.ndarray:
    """Level in dBFS of each whole frame; digital silence reads -200, far below any noise floor."""
    return frame_dbfs(samples, frame, floor_db=-200.0)


class Endpointer:
    """Cuts a stream of blocks into utterances. `feed` returns a finished utterance or None."""

    def __init__(self, rate: int = SPEECH_RATE, trailing_silence: float = TRAILING_SILENCE,
                 max_utterance: float = LONGEST_UTTERANCE, floor: float | None = None) -> None:
        self.rate = rate
        self.frame = round(FRAME_SECONDS * rate)
        self.trailing_frames = max(1, round(trailing_silence / FRAME_SECONDS))
        self.max_frames = round(max_utterance / FRAME_SECONDS)
        self.start_frames = round(START_SECONDS / FRAME_SECONDS)
        self.min_voiced = round(MIN_SPEECH / FRAME_SECONDS)
        self.floor = floor
        """Noise floor in dBFS; None until the first frame is heard (it starts there)."""
        self._pending = np.zeros(0, dtype=np.float32)
        self._preroll: deque[np.ndarray] = deque(maxlen=round(PREROLL / FRAME_SECONDS))
        self.dropped: list[str] = []
        """Why recent candidates were dropped ('short', 'long'); for tests and the debug log."""
        self._reset()

    def _reset(self) -> None:
        self.state = "idle"  # idle | maybe | speech | overlong
        self._frames: list[np.ndarray] = []
        self._voiced = 0
        self._quiet = 0
        self._last_voiced = 0

    def discard(self) -> None:
        """Forget any utterance in progress (the guide started to speak)."""
        self._reset()
        self._preroll.clear()
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, block: np.ndarray) -> Audio | None:
        samples = np.concatenate([self._pending, np.asarray(block, dtype=np.float32).reshape(-1)])
        n = len(samples) // self.frame
        self._pending = samples[n * self.frame :]
        levels = frame_levels(samples, self.frame)
        result = None
        for i, level in enumerate(levels):
            frame = samples[i * self.frame : (i + 1) * self.frame]
            found = self._frame(frame, float(level))
            if found is not None:
                result = found
        return result

    def _frame(self, frame: np.ndarray, level: float) -> Audio | None:
        if self.floor is None:
            self.floor = max(FLOOR_MIN, level)
        start = max(self.floor + START_DB, ABS_START)
        keep = max(self.floor + CONTINUE_DB, ABS_START - (START_DB - CONTINUE_DB))
        if self.state == "idle":
            if level >= start:
                self.state = "maybe"
                self._frames = list(self._preroll)
                self._frames.append(frame)
                self._voiced, self._quiet = 1, 0
            else:
                self._adapt(level)
                self._preroll.append(frame)
            return None
        self._frames.append(frame)
        voiced = level >= (start if self.state == "maybe" else keep)
        if voiced:
            self._voiced += 1
            self._quiet = 0
            self._last_voiced = len(self._frames)
        else:
            self._quiet += 1
        if self.state == "overlong":
            self._adapt(level)
        if self.state == "maybe":
            if self._voiced >= self.start_frames:
                self.state = "speech"
            elif self._quiet >= self.start_frames:
                self.dropped.append("short")
                self._back_to_idle()
            return None
        if self.state == "speech" and len(self._frames) > self.max_frames + len(self._preroll):
            self.state = "overlong"
        if self._quiet < self.trailing_frames:
            return None
        if self.state == "overlong":
            self.dropped.append("long")
            self._back_to_idle()
            return None
        if self._voiced < self.min_voiced:
            self.dropped.append("short")
            self._back_to_idle()
            return None
        end = min(len(self._frames), self._last_voiced + round(TAIL / FRAME_SECONDS))
        audio = Audio(np.concatenate(self._frames[:end]), self.rate)
        self._back_to_idle()
        return audio

    def _back_to_idle(self) -> None:
        tail = self._frames[-self._preroll.maxlen :] if self._preroll.maxlen else []
        self._reset()
        self._preroll.clear()
        self._preroll.extend(tail)

    def _adapt(self, level: float) -> None:
        """Follow the room: quickly down to quieter noise, slowly up to louder."""
        floor = self.floor if self.floor is not None else level
        rate = 0.3 if level < floor else 0.02
        self.floor = max(FLOOR_MIN, floor + rate * (level - floor))


class BlockTimes:
    """When each microphone block was recorded: counted in samples from the stream's start, whose time
    is the earliest any block's arrival allows (a block read late is not recorded late, and the echo
    must not seem to come before its sound), moved only by more than `BLOCK_JITTER`."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.end = 0.0
        """When the last block given out ended."""
        self.any = False
        """A block has come at all (a microphone that fails before one is missing at the start)."""
        self.moves = 0
        """How often the start has been moved: each move shifts the guide's echo off its learnt delay."""

    def follow(self, blocks: Iterator[np.ndarray], rate: int) -> Iterator[np.ndarray]:
        samples, origin = 0, float("inf")
        for block in blocks:
            self.any = True
            samples += len(block)
            arrived = self.clock.now() - samples / rate
            if arrived < origin - BLOCK_JITTER:
                self.moves += origin != float("inf")
                origin = arrived
            self.end = origin + samples / rate
            yield block


class EchoGate:
    """Closed while the guide makes any sound and for `guard` seconds after: the microphone would
    otherwise hear the guide's own words and act on them."""

    def __init__(self, guard: float = ECHO_GUARD) -> None:
        self.guard = guard
        self._quiet_since: float | None = 0.0

    def update(self, playing: bool, now: float) -> None:
        if playing:
            self._quiet_since = None
        elif self._quiet_since is None:
            self._quiet_since = now

    def open(self, now: float) -> bool:
        return self._quiet_since is not None and now - self._quiet_since >= self.guard - 1e-9


def noise_block(n: int, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    return (rng.standard_normal(n) * 10 ** (dbfs / 20)).astype(np.float32)


def _from_first_sound(audio: Audio, below_peak_db: float = 30.0, keep: float = PREROLL) -> Audio:
    """The recording from `keep` seconds before its first sound (within `below_peak_db` of its loudest
    frame): a file's leading quiet would otherwise use up the short gap in which the guide listens."""
    frame = round(FRAME_SECONDS * audio.rate)
    levels = frame_levels(audio.samples, frame)
    if len(levels) == 0:
        return audio
    first = int(np.argmax(levels >= levels.max() - below_peak_db))
    return Audio(audio.samples[max(0, first * frame - round(keep * audio.rate)) :], audio.rate)


class RecordingsIn:
    """A microphone that says recorded utterances (from just before their first sound), one at a
    time: each is followed by `after` seconds
    of quiet (enough to end it), and the next starts once the guide is listening (`ready()` has been
    true for `gap` seconds). A faint noise floor fills the quiet. It paces itself on `sleep` (a
    clock's), so a run takes real time on a real clock and none on a fake one."""

    rate = SPEECH_RATE
    blocksize = 1600
    noise_dbfs = -62.0
    """The level (dBFS) of the faint noise that fills the quiet."""

    def __init__(self, recordings: Sequence[Audio | Callable[[], Audio]], sleep: Callable[[float], None],
                 ready: Callable[[], bool] = lambda: True, *, gap: float = 0.3, after: float = 1.5,
                 tail: float = 3.0) -> None:
        self.recordings = list(recordings)
        """Each an utterance, or what reads one when its turn comes (so only one is held at a time)."""
        self.sleep = sleep
        self.ready = ready
        self.gap = gap
        self.after = after
        self.tail = tail
        self.said = 0
        """How many recordings have been played so far."""

    @contextlib.contextmanager
    def blocks(self) -> Iterator[Iterator[np.ndarray]]:
        yield self._blocks()

    def _blocks(self) -> Iterator[np.ndarray]:
        rng = np.random.default_rng(7)
        step = self.blocksize / self.rate
        for given in self.recordings:
            recording = _from_first_sound((given() if callable(given) else given).resample(self.rate))
            waited = 0.0
            while waited < self.gap:
                self.sleep(step)
                waited = waited + step if self.ready() else 0.0
                yield noise_block(self.blocksize, self.noise_dbfs, rng)
            samples = recording.samples
            for i in range(0, len(samples), self.blocksize):
                chunk = samples[i : i + self.blocksize]
                if len(chunk) < self.blocksize:
                    chunk = np.concatenate([chunk, np.zeros(self.blocksize - len(chunk), np.float32)])
                self.sleep(step)
                yield chunk + noise_block(self.blocksize, self.noise_dbfs, rng)
            self.said += 1
            for _ in range(round(self.after / step)):
                self.sleep(step)
                yield noise_block(self.blocksize, self.noise_dbfs, rng)
        for _ in range(round(self.tail / step)):
            self.sleep(step)
            yield noise_block(self.blocksize, self.noise_dbfs, rng)
