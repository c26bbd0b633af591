"""Speaker and microphone through sounddevice (PortAudio).

sounddevice is imported lazily: PortAudio enumerates devices once, when it is first loaded, so a sound
server (e.g. the virtual one from scripts/virtual_sound.sh) must be reachable before then. One output
stream stays open for every sound, its callback fed from the playing sound's in-memory buffer, so
`stop()` cuts within one block, mid-word; recording hands fixed-size blocks over a queue so a slow
consumer never makes PortAudio drop audio.
"""

from __future__ import annotations

import atexit
import contextlib
import queue
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from voice_guide.audio import Audio, resample
from voice_guide.errors import NO_INPUT, NO_OUTPUT, DeviceError, EngineError

BLOCK_SECONDS = 0.02
"""Output block length: how late a `stop()` may cut (plus the device's own buffer, which abort drops)."""

TIMELINE_BLOCKS = 5
"""Blocks over which the sound's start is taken (their median: one oddly timed block does not move it)."""

TIMELINE_SHIFT = 0.004
"""Seconds the device's report must move before the sound's start is moved: smaller moves are the
report's own jitter, and the samples themselves keep exact time between real shifts (underruns)."""

STALL_SECONDS = 3.0
"""A stream that has moved no audio for this long (once started) has lost its device."""

START_SECONDS = 8.0
"""Extra patience for a stream's first block: a sleeping sound server can take ~2 s to wake."""


_streams: "set[_Stream]" = set()
"""Every open output stream, held until closed: PortAudio calls into it from its own thread."""
_registered = False


def _stop_all() -> None:
    """At exit, before sounddevice shuts PortAudio down: a callback firing into a half-finalised
    interpreter aborts the process."""
    for stream in list(_streams):
        stream.close()


def _close(opened: "list[_Stream]") -> None:
    """A speaker no longer used lets its device go."""
    for stream in opened:
        stream.close()


def _sd():
    """The sounddevice module, or an EngineError saying how to install PortAudio."""
    try:
        import sounddevice
    except OSError as exc:  # "PortAudio library not found"
        raise EngineError(
            "The PortAudio sound library is not installed; run scripts/setup.sh "
            "(or apt-get install libportaudio2)."
        ) from exc
    except ImportError as exc:
        raise EngineError(
            "The sounddevice package is missing; reinstall voice-guide (pip install sounddevice)."
        ) from exc
    global _registered
    if not _registered:
        _registered = True
        atexit.register(_stop_all)  # runs before sounddevice's own handler, registered earlier
    return sounddevice


def _device(value: str | int | None) -> str | int | None:
    """Settings keep devices as text; a number in text means a PortAudio index."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


@dataclass(frozen=True)
class DeviceInfo:
    """One sound device as `doctor` reports it."""

    index: int
    name: str
    channels: int
    default_rate: float
    is_default: bool


def list_devices() -> tuple[list[DeviceInfo], list[DeviceInfo]]:
    """(inputs, outputs) that PortAudio can see; empty lists when there are none."""
    sd = _sd()
    try:
        devices = sd.query_devices()
        default_in, default_out = (_index_or_none(x) for x in sd.default.device)
    except sd.PortAudioError as exc:
        raise DeviceError(f"The sound devices could not be listed ({exc}).") from exc
    inputs, outputs = [], []
    for dev in devices:
        i = int(dev["index"])
        if dev["max_input_channels"] > 0:
            inputs.append(DeviceInfo(i, dev["name"], int(dev["max_input_channels"]),
                                     float(dev["default_samplerate"]), i == default_in))
        if dev["max_output_channels"] > 0:
            outputs.append(DeviceInfo(i, dev["name"], int(dev["max_output_channels"]),
                                      float(dev["default_samplerate"]), i == default_out))
    return inputs, outputs


def _index_or_none(value) -> int | None:
    try:
        return int(value) if int(value) >= 0 else None
    except (TypeError, ValueError):
        return None


def _check_device(sd, device, kind: str) -> dict:
    """The device's info, or DeviceError when there is no such (or no default) device."""
    try:
        info = sd.query_devices(device, kind=kind)
    except (sd.PortAudioError, ValueError) as exc:
        raise DeviceError(NO_OUTPUT if kind == "output" else NO_INPUT) from exc
    channels = info["max_output_channels" if kind == "output" else "max_input_channels"]
    if channels < 1:
        raise DeviceError(NO_OUTPUT if kind == "output" else NO_INPUT)
    return info


class SounddevicePlayback:
    """One sound playing on the speaker's stream; `error` holds a DeviceError if the device failed."""

    def __init__(self, samples: np.ndarray, rate: int, stall_seconds: float = STALL_SECONDS,
                 stream: "_Stream | None" = None) -> None:
        self._samples = samples
        self._rate = rate
        self._pos = 0
        self._gain = np.float32(1.0)
        self._starts: tuple[float, ...] = ()
        """When the sound's first sample sounded, as each of the last blocks tells it (monotonic)."""
        self._start: float | None = None
        """When its first sample sounded, moved only by a real shift of the device's timing."""
        self._gains: tuple[tuple[float, float], ...] = ()
        """(monotonic time it sounds, gain) of each change of gain. Both tuples are replaced whole by
        the callback thread, never changed in place, so a reader always sees a consistent one."""
        self._ends_at = float("inf")
        """When its last sample has sounded (known once it has been handed to the device)."""
        self._finished = threading.Event()
        self._stopped = False
        self._stall_seconds = stall_seconds
        self._stream = stream
        self.timeline: object = stream
        """The stream it plays on: sounds on one stream reach the microphone with one delay."""
        self.error: DeviceError | None = None

    def _callback(self, outdata, frames, time_info, status, sounds_at: float | None = None) -> None:
        """Fill one of the stream's blocks (the rest of the last one with silence); `sounds_at`: when
        the block sounds, if the stream knows better than this block's report."""
        a = self._pos
        if self._stopped or a >= len(self._samples):
            outdata[:, 0] = 0.0
            return
        gain = self._gain
        if sounds_at is None:
            sounds_at = _sounds_at(time_info)
        self._starts = (*self._starts[1 - TIMELINE_BLOCKS :], sounds_at - a / self._rate)
        start = float(np.median(self._starts))
        if self._start is None or abs(start - self._start) > TIMELINE_SHIFT:
            self._start = start
        if not self._gains or self._gains[-1][1] != gain:
            self._gains = (*self._gains[-7:], (sounds_at, float(gain)))
        chunk = self._samples[a : a + frames]
        outdata[: len(chunk), 0] = chunk * gain
        outdata[len(chunk) :, 0] = 0.0
        self._pos = a + frames
        if self._pos >= len(self._samples):
            self._ends_at = sounds_at + len(chunk) / self._rate
            self._finished.set()

    def set_gain(self, gain: float) -> None:
        """Takes effect with the next block the device asks for (a few tens of milliseconds)."""
        self._gain = np.float32(gain)

    def position(self, at: float) -> tuple[float, float] | None:
        """From the device's own report of when each block reaches the speaker (PortAudio's DAC
        time): it moves on by any gap the device leaves (an underrun). Through PulseAudio's ALSA
        plugin the report leaves out the server's own buffer (and is 0 for a stream's first blocks),
        so what is left is constant on one stream and the echo's learnt delay takes it up. Before its
        first block is handed over it sounds no sooner than the stream's next block: what the stream
        still holds of the sound before it (or its silence) plays first."""
        start, gains = self._start, self._gains
        if start is None or not gains:
            if self._stream is None:
                return None
            return at - max(time.monotonic(), self._stream.next_at), float(self._gain)
        gain = next((g for t, g in reversed(gains) if t <= at), gains[0][1])
        return at - start, gain

    def stop(self) -> None:
        """Cut the sound now: the stream plays silence from its next block."""
        self._stopped = True
        self._ends_at = 0.0
        self._finished.set()

    def _watch(self) -> None:
        """A stream that stops asking for audio, or ends, has lost its device."""
        stream = self._stream
        if self._finished.is_set() or stream is None:
            return
        if stream.ended.is_set() or time.monotonic() - stream.progress_at > self._stall_seconds:
            self.error = DeviceError("The sound output stopped responding; check the speaker or headphones.")
            stream.close()
            self.stop()

    def done(self) -> bool:
        self._watch()
        return self._finished.is_set() and time.monotonic() >= self._ends_at

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True


def _sounds_at(time_info) -> float:
    """When the block asked for now reaches the speaker, by PortAudio's report (monotonic)."""
    ahead = time_info.outputBufferDacTime - time_info.currentTime  # 0 when PortAudio cannot tell
    return time.monotonic() + min(1.0, max(0.0, ahead))  # more than a second is not believed


class _Stream:
    """One output stream kept open for every sound (silence in between): each sound then reaches the
    microphone with the same delay, so the echo learnt on the first sound holds for the next ones
    from their first sample, and no sound waits for a stream to start."""

    def __init__(self, sd, device, rate: int) -> None:
        self.rate = rate
        self.playing: SounddevicePlayback | None = None
        self.progress_at = time.monotonic() + START_SECONDS
        self.ended = threading.Event()
        self.next_at = 0.0
        """When the block after the last one handed over can sound at the earliest."""
        self._closed = False
        self._lock = threading.Lock()
        self.stream = sd.OutputStream(samplerate=rate, blocksize=max(64, round(rate * BLOCK_SECONDS)),
                                      device=device, channels=1, dtype="float32", callback=self._callback,
                                      finished_callback=self.ended.set)

    def _callback(self, outdata, frames, time_info, status) -> None:
        """A block sounds no sooner than the one before it has: after an underrun the device asks for
        several blocks at once, faster than it plays them, and each is placed after the last."""
        self.progress_at = time.monotonic()
        sounds_at = max(_sounds_at(time_info), self.next_at)
        self.next_at = sounds_at + frames / self.rate
        playing = self.playing
        if playing is None:
            outdata[:, 0] = 0.0
        else:
            playing._callback(outdata, frames, time_info, status, sounds_at)

    def usable(self) -> bool:
        return not self._closed and not self.ended.is_set()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _streams.discard(self)
        with contextlib.suppress(Exception):
            self.stream.abort()
        with contextlib.suppress(Exception):
            self.stream.close()


class SounddeviceOut:
    """The speaker: one sound at a time on one stream kept open; a new `play` stops the one before."""

    def __init__(self, device: str | int | None = None, stall_seconds: float = STALL_SECONDS) -> None:
        self.device = _device(device)
        self.stall_seconds = stall_seconds
        self._current: SounddevicePlayback | None = None
        self._opened: list[_Stream] = []
        """The stream open now, if any (a list, so a speaker no longer used can close it)."""
        weakref.finalize(self, _close, self._opened)

    def prepare(self) -> None:
        """Load PortAudio now (it lists the devices as it loads, which takes a moment), so the guide
        can do it in the background while its first sentence renders; errors surface on `play`."""
        with contextlib.suppress(EngineError):
            _sd()

    def play(self, audio: Audio) -> SounddevicePlayback:
        sd = _sd()
        if self._current is not None:
            self._current.stop()
        stream = self._open(sd, audio.rate)
        samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
        if audio.rate != stream.rate:
            samples = resample(samples, audio.rate, stream.rate)
        playback = SounddevicePlayback(samples, stream.rate, self.stall_seconds, stream)
        self._current = playback
        if len(samples) == 0:
            playback.stop()
            return playback
        stream.playing = playback
        return playback

    def _open(self, sd, rate: int) -> _Stream:
        """The open stream, or a new one (at `rate`, or the device's own rate if it takes no other)."""
        if self._opened and self._opened[0].usable():
            return self._opened[0]
        self.close()
        info = _check_device(sd, self.device, "output")
        try:
            stream = _Stream(sd, self.device, rate)
        except sd.PortAudioError:
            try:
                stream = _Stream(sd, self.device, int(info["default_samplerate"]))
            except sd.PortAudioError as exc:
                raise DeviceError(f"The speaker could not be opened ({exc}). " + NO_OUTPUT) from exc
        try:
            stream.stream.start()
        except sd.PortAudioError as exc:
            stream.close()
            raise DeviceError(f"The speaker could not be started ({exc}). " + NO_OUTPUT) from exc
        self._opened[:] = [stream]
        _streams.add(stream)
        return stream

    def stop(self) -> None:
        if self._current is not None:
            self._current.stop()

    def close(self) -> None:
        """Stop what plays and let the device go."""
        self.stop()
        _close(self._opened)
        self._opened.clear()


class SounddeviceIn:
    """The microphone: fixed-size mono float32 blocks at `rate` (16 kHz for the recognisers)."""

    def __init__(self, device: str | int | None = None, rate: int = 16000, blocksize: int = 1600,
                 stall_seconds: float = STALL_SECONDS) -> None:
        self.device = _device(device)
        self.rate = rate
        self.blocksize = blocksize
        self.stall_seconds = stall_seconds

    @contextlib.contextmanager
    def blocks(self) -> Iterator[Iterator[np.ndarray]]:
        """Open the microphone; the yielded iterator gives blocks until the `with` ends and raises
        DeviceError if the microphone disappears."""
        sd = _sd()
        _check_device(sd, self.device, "input")
        blocks: queue.Queue = queue.Queue()
        ended = threading.Event()

        def callback(indata, frames, time_info, status) -> None:
            blocks.put(indata[:, 0].copy())

        try:
            stream = sd.InputStream(
                samplerate=self.rate,
                blocksize=self.blocksize,
                device=self.device,
                channels=1,
                dtype="float32",
                callback=callback,
                finished_callback=ended.set,
            )
            stream.start()
        except sd.PortAudioError as exc:
            raise DeviceError(f"The microphone could not be opened ({exc}). " + NO_INPUT) from exc

        def gen() -> Iterator[np.ndarray]:
            # The first block may take a while (the sound server wakes up); after that a gap of
            # `stall_seconds` means the device is gone.
            patience = self.stall_seconds + START_SECONDS
            while True:
                try:
                    block = blocks.get(timeout=0.05)
                except queue.Empty:
                    if ended.is_set() and blocks.empty():
                        raise DeviceError(
                            "The microphone stopped working; check that it is still plugged in."
                        ) from None
                    patience -= 0.05
                    if patience <= 0:
                        raise DeviceError(
                            "The microphone stopped sending sound; check that it is still plugged in."
                        ) from None
                    continue
                patience = self.stall_seconds
                yield block

        try:
            yield gen()
        finally:
            with contextlib.suppress(Exception):
                stream.abort()
            with contextlib.suppress(Exception):
                stream.close()
