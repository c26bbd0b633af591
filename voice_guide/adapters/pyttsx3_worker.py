"""The pyttsx3 worker process (see `pyttsx3_tts`): one engine, one request at a time.

Requests arrive as (id, text, rate, volume, voice) on one pipe; answers go back on another as
("ok", id, pcm16, rate), ("voice", id, reason) or ("failed", id, reason). Standard library and pyttsx3
only, so a replacement worker starts in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import wave
from multiprocessing.connection import Connection

FILE_ATTEMPTS = 3
"""How often one piece is rendered before giving up (the parent then restarts the worker)."""


def _read_complete_wav(path: str) -> tuple[bytes, int] | None:
    """(PCM, rate) once the file is a whole 16-bit mono WAV, else None (missing or still being written)."""
    try:
        with wave.open(path, "rb") as w:
            frames, rate = w.getnframes(), w.getframerate()
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                return None
            pcm = w.readframes(frames)
    except (OSError, EOFError, wave.Error):
        return None
    return (pcm, rate) if len(pcm) == 2 * frames else None


def _await_file(path: str, finished: list, seen: int, deadline: float) -> tuple[bytes, int] | None:
    """Wait for the finished-utterance event and a complete file whose size has stopped changing."""
    last_size = -1
    while time.monotonic() < deadline:
        if len(finished) > seen:
            try:
                size = os.path.getsize(path)
            except OSError:
                size = -1
            if size > 0 and size == last_size:
                result = _read_complete_wav(path)
                if result is not None:
                    return result
            last_size = size
        time.sleep(0.005)
    return None


def _wait_idle(deadline: float) -> None:
    """Wait until espeak's command queue is empty. pyttsx3's stop() (which runAndWait calls) cancels
    whatever is still queued, so a property set just before would be lost, or the new utterance cut."""
    try:
        from pyttsx3.drivers import _espeak
    except Exception:
        return
    while time.monotonic() < deadline:
        try:
            if not _espeak.IsPlaying():
                return
        except Exception:
            return
        time.sleep(0.001)


def _configure(engine, rate: int, volume: float, voice: str, errors: list) -> None:
    """Set the voice properties and wait until espeak has taken them; ValueError for a bad voice.

    The driver swallows setter exceptions into "error" events, and only applies a setter at once when
    it is not busy: so settle the engine first, then check what it reports back.
    """
    if engine.isBusy():
        engine.runAndWait()  # with nothing queued this only releases the busy flag
    _wait_idle(time.monotonic() + 2.0)
    for _ in range(3):
        seen = len(errors)
        engine.setProperty("voice", voice)
        if len(errors) > seen:
            raise ValueError(str(errors[-1]))
        engine.setProperty("rate", rate)
        engine.setProperty("volume", volume)
        _wait_idle(time.monotonic() + 2.0)
        if engine.getProperty("rate") == rate and abs(engine.getProperty("volume") - volume) < 0.011:
            return


def main(argv: list[str]) -> None:
    """Started by `Pyttsx3Synthesizer`: argv is (read fd, write fd, work folder)."""
    # Ctrl-C reaches the whole process group: the parent stops (or replaces) the worker itself, so the
    # worker must neither die mid-request nor print a KeyboardInterrupt traceback over the guide.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    recv = Connection(int(argv[0]), writable=False)
    send = Connection(int(argv[1]), readable=False)
    _worker_main(recv, send, argv[2])


def _worker_main(recv: Connection, send: Connection, workdir: str) -> None:
    """The worker process: one pyttsx3 engine, one request at a time, until told to stop."""
    try:
        import pyttsx3

        engine = pyttsx3.init()
        default_voice = engine.getProperty("voice")
        finished: list[bool] = []
        errors: list[BaseException] = []
        engine.connect("finished-utterance", lambda name=None, completed=True: finished.append(completed))
        engine.connect("error", lambda name=None, exception=None: errors.append(exception))
    except Exception as exc:  # reported to the parent as one sentence
        send.send(("fatal", f"{type(exc).__name__}: {exc}"))
        return
    send.send(("ready", default_voice))
    count = 0
    while True:
        try:
            request = recv.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        request_id, text, rate, volume, voice = request
        answer = ("failed", request_id, "pyttsx3 wrote no audio")
        for _ in range(FILE_ATTEMPTS):
            try:
                _configure(engine, rate, volume, voice or default_voice, errors)
            except ValueError as exc:
                answer = ("voice", request_id, str(exc))
                break
            count += 1
            path = os.path.join(workdir, f"utterance-{count}.wav")
            seen = len(finished)
            engine.save_to_file(text, path)
            engine.runAndWait()
            result = _await_file(path, finished, seen, time.monotonic() + 5.0 + len(text) / 50)
            _wait_idle(time.monotonic() + 2.0)
            with contextlib.suppress(OSError):
                os.remove(path)
            if result is not None and len(result[0]) > 0:
                answer = ("ok", request_id, result[0], result[1])
                break
        send.send(answer)
