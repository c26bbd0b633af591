"""The speaker through sounddevice (PortAudio): one output stream kept open from sound to sound, so all
reach the microphone with one delay. Its callback plays the current sound from an in-memory buffer, so
`stop()` cuts within one block (plus the device's latency), mid-word, and writes silence in between.
"""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np

from voice_guide.adapters.sounddevice_audio import (START_SECONDS, STALL_SECONDS, _check_device, _device, _open,
                                                    _sd)
from voice_guide.audio import Audio, resample
from voice_guide.errors import NO_OUTPUT, DeviceError, EngineError

BLOCK_SECONDS = 0.02
"""Output block length: how late a `stop()` may cut (plus the device's own buffer, which abort drops)."""

TIMELINE_BLOCKS = 5
"""Blocks over which the sound's start is taken (their median: one oddly timed block does not move it)."""

TIMELINE_SHIFT = 0.004
"""Seconds the device's report must move before the sound's start is moved: smaller moves are the
report's own jitter, and the samples themselves keep exact time between real shifts (underruns)."""
SETTLE_SECONDS = 0.25
"""A new stream's first stretch, always silence: through PulseAudio's ALSA plugin a sound written
into a stream's first blocks came out 71-81 ms later than the sounds after it on the same stream,
and the device's report of when a block sounds moved by 17-40 ms within its first 0.14 s (a session's
title, begun 0.1 s in, straddled the move, and no echo filter took its echo down more than 12-25 dB,
where it took the sentences after 50-75 dB)."""

IDLE_SECONDS = 30.0
"""A speaker's stream with nothing to play ends after this long: open and silent it cost 3% of a core
(2% in the guide, 1.2% in the sound server, on the virtual card). The next sound opens another, whose
delay barge-in finds again in its first 0.15 s (`hearing.echo.QUICK`)."""

class _Stream:
    """One output stream kept open from sound to sound, writing silence in between: every sound on it
    reaches the microphone with the one delay of this stream (a stream of its own for each sound came
    with a delay of its own, unknown to barge-in for a sound's first tenths), and it is the timeline
    their positions are counted on. It ends itself after `IDLE_SECONDS` with nothing to play."""

    def __init__(self, sd, device, rate: int) -> None:
        self.rate = rate
        self._sd = sd
        self._lock = threading.Lock()
        self._playing: SounddevicePlayback | None = None
        self._written = 0
        """Frames handed to the device so far."""
        self._settle = round(SETTLE_SECONDS * rate)
        self._starts: tuple[float, ...] = ()
        """When the stream's first frame sounded, as each of the last blocks tells it (monotonic)."""
        self.start: float | None = None
        """When its first frame sounded, moved only by a real shift of the device's timing."""
        self.progress_at = time.monotonic() + START_SECONDS
        self._idle_since = time.monotonic()
        self.ended = False
        """No sound is placed on it any more (it ended itself, failed, or was closed)."""
        self._closed = False
        self.stream = sd.OutputStream(samplerate=rate, blocksize=max(64, round(rate * BLOCK_SECONDS)), device=device,
                                      channels=1, dtype="float32", callback=self._callback,
                                      finished_callback=self._on_finished)

    def _callback(self, outdata, frames, time_info, status) -> None:
        now = time.monotonic()
        ahead = time_info.outputBufferDacTime - time_info.currentTime  # 0 when PortAudio cannot tell
        sounds_at = now + min(1.0, max(0.0, ahead))  # more than a second is not believed
        self._starts = (*self._starts[1 - TIMELINE_BLOCKS :], sounds_at - self._written / self.rate)
        start = float(np.median(self._starts))
        if self.start is None or abs(start - self.start) > TIMELINE_SHIFT:
            self.start = start
        self.progress_at = now
        with self._lock:
            playing = self._playing
            if playing is not None and self._written >= self._settle:
                if playing._fill(outdata, frames, self._written, sounds_at):
                    self._playing, self._idle_since = None, now
            else:
                outdata.fill(0.0)
                if playing is None and now - self._idle_since > IDLE_SECONDS:
                    self.ended = True
                    raise self._sd.CallbackStop
            self._written += frames

    def next_frame(self) -> int:
        """The frame a sound placed now is written from."""
        return max(self._written, self._settle)

    def place(self, playback: "SounddevicePlayback") -> bool:
        """Play `playback` from the next block on, in place of what plays; False when the stream has
        ended (another must be opened)."""
        with self._lock:
            if self.ended:
                return False
            if self._playing is not None:
                self._playing._cut()
            self._playing = playback
            return True

    def remove(self, playback: "SounddevicePlayback") -> None:
        """Silence from the next block on, if `playback` is what plays."""
        with self._lock:
            if self._playing is playback:
                self._playing, self._idle_since = None, time.monotonic()

    def _on_finished(self) -> None:
        """The stream stopped: ended itself while idle, failed, or was closed. It is closed off the
        device's thread (PortAudio's own may not close it)."""
        with self._lock:
            self.ended = True
            playing, self._playing = self._playing, None
            closing = self._closed
        if playing is not None:
            playing._lost("The sound output stopped in the middle of playing; check the speaker or headphones.")
        if not closing:
            threading.Thread(target=self.close, name="voice-guide-speaker", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = self.ended = True
            playing, self._playing = self._playing, None
        if playing is not None:
            playing._cut()
        with contextlib.suppress(Exception):
            self.stream.abort()
        with contextlib.suppress(Exception):
            self.stream.close()
        _open.discard(self)


class SounddevicePlayback:
    """One sound playing on the speaker's stream; `error` holds a DeviceError if the device failed."""

    def __init__(self, samples: np.ndarray, stream: _Stream, stall_seconds: float = STALL_SECONDS) -> None:
        self._samples = samples
        self._stream = stream
        self._rate = stream.rate
        self._pos = 0
        self._gain = np.float32(1.0)
        self._first: int | None = None
        """The stream's frame its first sample was written to."""
        self._gains: tuple[tuple[float, float], ...] = ()
        """(monotonic time it sounds, gain) of each change of gain. Replaced whole by the callback
        thread, never changed in place, so a reader always sees a consistent one."""
        self._finished = threading.Event()
        self._stall_seconds = stall_seconds
        self.timeline: object = stream
        """Every sound on one stream reaches the microphone with one delay."""
        self._ends_at = 0.0
        """When its last sample sounds, by the device's report: it is not done before (the echo gate
        would open on its last words)."""
        self.error: DeviceError | None = None

    def _fill(self, outdata, frames: int, at: int, sounds_at: float) -> bool:
        """Write its next block (from the stream's frame `at`, which sounds at `sounds_at`); True
        once its last sample is written."""
        a = self._pos
        gain = self._gain
        if self._first is None:
            self._first = at
        if not self._gains or self._gains[-1][1] != gain:
            self._gains = (*self._gains[-7:], (sounds_at, float(gain)))
        chunk = self._samples[a : a + frames]
        outdata[: len(chunk), 0] = chunk * gain
        outdata[len(chunk) :, 0] = 0.0
        self._pos = a + frames
        if self._pos < len(self._samples):
            return False
        self._ends_at = sounds_at + len(chunk) / self._rate
        self._finished.set()
        return True

    def _cut(self) -> None:
        """Nothing more of it is written (what the device holds, its latency, still sounds)."""
        self._ends_at = 0.0
        self._finished.set()

    def _lost(self, message: str) -> None:
        if not self._finished.is_set():
            self.error = DeviceError(message)
            self._finished.set()

    def set_gain(self, gain: float) -> None:
        """Takes effect with the next block the device asks for (a few tens of milliseconds)."""
        self._gain = np.float32(gain)

    def position(self, at: float) -> tuple[float, float] | None:
        """From the device's own report of when each block reaches the speaker (PortAudio's DAC
        time): it moves on by any gap the device leaves (an underrun). Through PulseAudio's ALSA
        plugin the report leaves out the server's own buffer (and is 0 for a stream's first blocks),
        so what is left is constant per stream, and the echo's learnt delay takes it up. Before
        its first block is written, where the stream's next block sounds: the echo's reference is
        cut ahead of the microphone, and a guess of when the sound was played put a sentence's
        first tenth of a second 60 ms early, where the learnt echo no longer took it out."""
        start, first, gains = self._stream.start, self._first, self._gains
        if start is None:
            return None
        if first is None:  # not written yet: it will be from the stream's next block
            first = self._stream.next_frame()
        gain = next((g for t, g in reversed(gains) if t <= at), gains[0][1]) if gains else float(self._gain)
        return at - start - first / self._rate, gain

    def stop(self) -> None:
        """Cut the sound now: the stream writes silence from its next block on, and its position says
        so (as silence, gain 0, from where that block sounds): the echo's reference made of what was
        never played left the guide's own words, upside down, where barge-in took them for a voice
        ("shoulders drop")."""
        self._stream.remove(self)
        self._cut()
        start, first = self._stream.start, self._first
        if start is not None and first is not None and not self.error:
            self._gains = (*self._gains, (start + (first + self._pos) / self._rate, 0.0))

    def _watch(self) -> None:
        """A stream that stops asking for audio has lost its device: it is closed, and the next sound
        opens another."""
        if self._finished.is_set():
            return
        if time.monotonic() - self._stream.progress_at > self._stall_seconds:
            self._lost("The sound output stopped responding; check the speaker or headphones.")
            self._stream.close()

    def done(self) -> bool:
        self._watch()
        return self._finished.is_set() and (self.error is not None or time.monotonic() >= self._ends_at)

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = 0.05 if deadline is None else max(0.0, min(0.05, deadline - time.monotonic()))
            finished = self._finished.wait(step)
            if self.done():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            if finished:  # handed over, still sounding
                time.sleep(min(step, 0.01))


class SounddeviceOut:
    """The speaker: one sound at a time, on one stream kept open while sounds follow each other; a
    new `play` stops the one before."""

    def __init__(self, device: str | int | None = None, stall_seconds: float = STALL_SECONDS) -> None:
        self.device = _device(device)
        self.stall_seconds = stall_seconds
        self._current: SounddevicePlayback | None = None
        self._stream: _Stream | None = None

    def prepare(self) -> None:
        """Load PortAudio now (it lists the devices as it loads, which takes a moment), so the guide
        can do it in the background while its first sentence renders; errors surface on `play`."""
        with contextlib.suppress(EngineError):
            _sd()

    def play(self, audio: Audio) -> SounddevicePlayback:
        sd = _sd()
        if self._current is not None:
            self._current.stop()
        for _ in range(2):  # the stream may end itself, idle, just as the sound comes
            stream = self._stream if self._stream is not None and not self._stream.ended else self._open(sd, audio.rate)
            samples = resample(np.ascontiguousarray(audio.samples, dtype=np.float32), audio.rate, stream.rate)
            playback = SounddevicePlayback(samples, stream, self.stall_seconds)
            self._current = playback
            if len(samples) == 0:
                playback.stop()
                return playback
            if stream.place(playback):
                return playback
        raise DeviceError("The speaker stopped as a sound began. " + NO_OUTPUT)

    def _open(self, sd, rate: int) -> _Stream:
        """A new stream at `rate`, or at the device's own rate where it takes only that (later sounds
        are resampled to the stream's rate). Any other stream this process has open is closed first
        (another speaker's, left open): through PulseAudio's ALSA plugin a second stream open at once
        underran without end, taking sound 5 times faster than it plays (this one's too)."""
        for other in list(_open):
            other.close()
        info = _check_device(sd, self.device, "output")
        try:
            stream = _Stream(sd, self.device, rate)
        except sd.PortAudioError:
            try:
                stream = _Stream(sd, self.device, int(info["default_samplerate"]))
            except sd.PortAudioError as exc:
                raise DeviceError(f"The speaker could not be opened ({exc}). " + NO_OUTPUT) from exc
        _open.add(stream)
        try:
            stream.stream.start()
        except sd.PortAudioError as exc:
            stream.close()
            raise DeviceError(f"The speaker could not be started ({exc}). " + NO_OUTPUT) from exc
        self._stream = stream
        return stream

    def stop(self) -> None:
        if self._current is not None:
            self._current.stop()

    def close(self) -> None:
        """Stop any sound and close the stream (a later `play` opens another)."""
        self.stop()
        if self._stream is not None:
            self._stream.close()
