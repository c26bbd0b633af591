"""Microphone and device list through sounddevice (PortAudio); the speaker is `sounddevice_speaker`.

sounddevice is imported lazily: PortAudio enumerates devices once, when it is first loaded, so a sound
server (e.g. the virtual one from scripts/virtual_sound.sh) must be reachable before then. Recording
hands fixed-size blocks over a queue so a slow consumer never makes PortAudio drop audio.
"""

from __future__ import annotations

import atexit
import contextlib
import queue
import threading
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from voice_guide.errors import NO_INPUT, NO_OUTPUT, DeviceError, EngineError

STALL_SECONDS = 3.0
"""A stream that has moved no audio for this long (once started) has lost its device."""

START_SECONDS = 8.0
"""Extra patience for a stream's first block: a sleeping sound server can take ~2 s to wake."""

_open: set = set()
"""Every output stream open (`sounddevice_speaker`): held here so none is collected while PortAudio
still calls it, and closed at exit."""
_registered = False


def _stop_all() -> None:
    """At exit, before sounddevice shuts PortAudio down: a callback firing into a half-finalised
    interpreter aborts the process."""
    for stream in list(_open):
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
