"""Speaker and microphone through sounddevice (PortAudio).

sounddevice is imported lazily: PortAudio enumerates devices once, when it is first loaded, so a sound
server (e.g. the virtual one from scripts/virtual_sound.sh) must be reachable before then. Playback
feeds a callback from an in-memory buffer so `stop()` cuts within one block, mid-word; recording hands
fixed-size blocks over a queue so a slow consumer never makes PortAudio drop audio.
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


_playing: "weakref.WeakSet[SounddevicePlayback]" = weakref.WeakSet()
_registered = False


def _stop_all() -> None:
    """At exit, before sounddevice shuts PortAudio down: a callback firing into a half-finalised
    interpreter aborts the process."""
    for playback in list(_playing):
        playback.stop()


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
    """One sound playing through an OutputStream; `error` holds a DeviceError if the device failed."""

    def __init__(self, samples: np.ndarray, sd, rate: int, stall_seconds: float = STALL_SECONDS) -> None:
        self._samples = samples
        self._sd = sd
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
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._stopped = False
        self._closed = False
        self._stall_seconds = stall_seconds
        self._progress_at = time.monotonic() + START_SECONDS
        self.stream = None
        self.timeline: object = self
        """Each sound has a stream of its own, which may reach the microphone with its own delay."""
        self._ends_at = 0.0
        """When its last sample sounds, by the device's report: it is not done before (the echo gate
        would open on its last words)."""
        self.error: DeviceError | None = None

    def _callback(self, outdata, frames, time_info, status) -> None:
        a = self._pos
        gain = self._gain
        ahead = time_info.outputBufferDacTime - time_info.currentTime  # 0 when PortAudio cannot tell
        sounds_at = time.monotonic() + min(1.0, max(0.0, ahead))  # more than a second is not believed
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
        self._progress_at = time.monotonic()
        if self._pos >= len(self._samples):
            self._ends_at = sounds_at + len(chunk) / self._rate
            raise self._sd.CallbackStop

    def _on_finished(self) -> None:
        if not self._stopped and self._pos < len(self._samples) and self.error is None:
            self.error = DeviceError(
                "The sound output stopped in the middle of playing; check the speaker or headphones."
            )
        self._finished.set()

    def _close(self) -> None:
        with self._lock:
            if self._closed or self.stream is None:
                return
            self._closed = True
            stream = self.stream
        with contextlib.suppress(Exception):
            stream.abort()
        with contextlib.suppress(Exception):
            stream.close()

    def set_gain(self, gain: float) -> None:
        """Takes effect with the next block the device asks for (a few tens of milliseconds)."""
        self._gain = np.float32(gain)

    def position(self, at: float) -> tuple[float, float] | None:
        """From the device's own report of when each block reaches the speaker (PortAudio's DAC
        time): it moves on by the stream's start-up and by any gap the device leaves (an underrun).
        Through PulseAudio's ALSA plugin the report leaves out the server's own buffer (and is 0 for
        a stream's first blocks), so what is left is constant per stream and the echo's learnt delay
        takes it up."""
        start, gains = self._start, self._gains
        if start is None or not gains:
            return None
        gain = next((g for t, g in reversed(gains) if t <= at), gains[0][1])
        return at - start, gain

    def stop(self) -> None:
        """Cut the sound now: abort drops what the device still has buffered."""
        self._stopped = True
        self._ends_at = 0.0
        self._close()
        self._finished.set()

    def _watch(self) -> None:
        """A stream that stops asking for audio without finishing has lost its device."""
        if self._finished.is_set() or self.stream is None:
            return
        if time.monotonic() - self._progress_at > self._stall_seconds:
            self.error = DeviceError(
                "The sound output stopped responding; check the speaker or headphones."
            )
            self._close()
            self._finished.set()

    def done(self) -> bool:
        self._watch()
        if self._finished.is_set() and (self.error is not None or time.monotonic() >= self._ends_at):
            self._close()
            return True
        return False

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
    """The speaker: one sound at a time; a new `play` stops the one before."""

    def __init__(self, device: str | int | None = None, stall_seconds: float = STALL_SECONDS) -> None:
        self.device = _device(device)
        self.stall_seconds = stall_seconds
        self._current: SounddevicePlayback | None = None

    def prepare(self) -> None:
        """Load PortAudio now (it lists the devices as it loads, which takes a moment), so the guide
        can do it in the background while its first sentence renders; errors surface on `play`."""
        with contextlib.suppress(EngineError):
            _sd()

    def play(self, audio: Audio) -> SounddevicePlayback:
        sd = _sd()
        if self._current is not None:
            self._current.stop()
        info = _check_device(sd, self.device, "output")
        samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
        playback = SounddevicePlayback(samples, sd, audio.rate, self.stall_seconds)
        try:
            stream = self._open(sd, playback, audio.rate)
        except sd.PortAudioError:
            # Some hardware takes only its own rate: resample once and retry.
            device_rate = int(info["default_samplerate"])
            playback = SounddevicePlayback(resample(samples, audio.rate, device_rate), sd, device_rate,
                                           self.stall_seconds)
            try:
                stream = self._open(sd, playback, device_rate)
            except sd.PortAudioError as exc:
                raise DeviceError(f"The speaker could not be opened ({exc}). " + NO_OUTPUT) from exc
        playback.stream = stream
        self._current = playback
        _playing.add(playback)
        if len(samples) == 0:
            playback.stop()
            return playback
        try:
            stream.start()
        except sd.PortAudioError as exc:
            playback.stop()
            raise DeviceError(f"The speaker could not be started ({exc}). " + NO_OUTPUT) from exc
        return playback

    def _open(self, sd, playback: SounddevicePlayback, rate: int):
        return sd.OutputStream(
            samplerate=rate,
            blocksize=max(64, round(rate * BLOCK_SECONDS)),
            device=self.device,
            channels=1,
            dtype="float32",
            callback=playback._callback,
            finished_callback=playback._on_finished,
        )

    def stop(self) -> None:
        if self._current is not None:
            self._current.stop()


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
