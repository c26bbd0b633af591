"""pyttsx3, the default voice, kept in a worker process and watched.

pyttsx3 on Linux (espeak driver) is fragile: `runAndWait()` can return before the WAV is written (a
stale "stop" cancels the next utterance), two saves in a row can overwrite each other, a forked child
hangs, and long texts slow down quadratically (the driver appends audio to a bytes object). So:

- one engine lives in a dedicated, freshly started interpreter (never a fork). It is launched with
  subprocess rather than multiprocessing's "spawn", which re-runs the caller's main script in the child
  and so breaks any script without an `if __name__ == "__main__"` guard; messages still travel as
  multiprocessing Connections over two pipes;
- properties are set only once espeak is idle, and checked (pyttsx3 cancels a queued property);
- each request is rendered to its own temporary WAV, and the worker answers only once the
  finished-utterance event has come AND the file is complete (a valid header whose length matches the
  data, a size that has stopped changing); an empty result is rendered again;
- the parent waits with a timeout scaled to the text; a worker that dies or stays silent is killed and
  replaced, and the request retried once;
- text is rendered sentence by sentence and joined with short pauses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading

from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from voice_guide.audio import Audio
from voice_guide.engines import VoiceSettings
from voice_guide.errors import EngineError
from voice_guide.fileio import scratch_folder
from voice_guide.speaking.text import split_sentences

RATE = 22050
"""The espeak driver's output rate."""

PAUSE_SECONDS = 0.1
"""Added between separately rendered sentences (espeak already ends each with ~0.4 s of quiet)."""

MAX_CHARS = 250
"""Longest piece sent to pyttsx3 at once."""

WORKER = "import sys; from voice_guide.adapters.pyttsx3_worker import main; main(sys.argv[1:])"
"""The worker's program (`python -c WORKER`): its module imports no numpy, so a replacement starts
quickly."""


class _WorkerFailed(Exception):
    """The worker died, hung, or could not produce audio: replace it and retry."""


class Pyttsx3Synthesizer:
    """Text to audio with pyttsx3, rendered in a watched worker process (never played by pyttsx3)."""

    name = "pyttsx3"
    rate = RATE

    def __init__(self, timeout: float = 3.0, seconds_per_char: float = 0.01, start_timeout: float = 60.0,
                 worker: str = WORKER) -> None:
        # A 250-character piece renders in about 0.1 s, so a few seconds of silence means a hung engine:
        # the listener should not wait longer than that for the same sentence to come back.
        self.timeout = timeout
        self.seconds_per_char = seconds_per_char
        self.start_timeout = start_timeout
        self.worker = worker
        """The worker's program (tests give one that cannot start)."""
        self.restarts = 0
        """How many times a dead or stuck worker was replaced."""
        self._process: subprocess.Popen | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None
        self._workdir: str | None = None
        self._next_id = 0
        self._lock = threading.RLock()

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id while one is running (tests kill it to check recovery)."""
        return self._process.pid if self._alive() else None

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        pieces = split_sentences(text, MAX_CHARS)
        if not pieces:
            return Audio(np.zeros(0, dtype=np.float32), RATE)
        parts: list[np.ndarray] = []
        rate = RATE
        with self._lock:
            for i, piece in enumerate(pieces):
                audio = self._render(piece, settings)
                if i and audio.rate == rate:
                    parts.append(np.zeros(round(PAUSE_SECONDS * rate), dtype=np.float32))
                rate = audio.rate
                parts.append(audio.samples)
        return Audio(np.concatenate(parts), rate)

    def _render(self, piece: str, settings: VoiceSettings) -> Audio:
        try:
            return self._ask(piece, settings)
        except _WorkerFailed:
            self._stop_worker(kill=True)
            self.restarts += 1
        try:
            return self._ask(piece, settings)
        except _WorkerFailed as exc:
            self._stop_worker(kill=True)
            raise EngineError(
                f"The pyttsx3 voice stopped working ({exc}); run scripts/setup.sh again, or set the "
                "synthesizer to espeak-ng."
            ) from exc

    def _ask(self, piece: str, settings: VoiceSettings) -> Audio:
        self._ensure_worker()
        self._next_id += 1
        request_id = self._next_id
        timeout = self.timeout + self.seconds_per_char * len(piece)
        try:
            self._send.send((request_id, piece, int(settings.rate), float(settings.volume), settings.voice))
            if not self._recv.poll(timeout):
                raise _WorkerFailed(f"no answer within {timeout:.0f} s")
            answer = self._recv.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            raise _WorkerFailed("the worker process ended") from exc
        kind, answer_id, *rest = answer
        if answer_id != request_id:
            raise _WorkerFailed("the worker answered out of turn")
        if kind == "ok":
            pcm, rate = rest
            return Audio.from_pcm16(pcm, rate)
        if kind == "voice":
            raise EngineError(
                f"pyttsx3 has no voice {settings.voice!r} ({rest[0]}); choose another voice or leave it unset."
            )
        raise _WorkerFailed(rest[0])

    def _ensure_worker(self) -> None:
        if self._alive():
            return
        if self._process is not None:  # it died since the last request
            self.restarts += 1
        self._stop_worker(kill=True)
        self._workdir = str(scratch_folder("voice-guide-pyttsx3-"))
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", self.worker, str(to_child_r), str(to_parent_w), self._workdir],
                pass_fds=(to_child_r, to_parent_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the espeak driver prints "Audio saved to ..." for every file
                env=env,
            )
        except OSError as exc:
            os.close(to_child_w)
            os.close(to_parent_r)
            raise EngineError(f"The pyttsx3 voice could not be started ({exc}); try again.") from exc
        finally:
            os.close(to_child_r)
            os.close(to_parent_w)
        self._send = Connection(to_child_w, readable=False)
        self._recv = Connection(to_parent_r, writable=False)
        try:
            ready = self._recv.poll(self.start_timeout)
            message = self._recv.recv() if ready else ("fatal", f"it did not start within {self.start_timeout:.0f} s")
        except (EOFError, OSError):
            message = ("fatal", "its process ended at start")
        if message[0] != "ready":
            self._stop_worker(kill=True)
            raise EngineError(
                f"pyttsx3 could not start its voice ({message[1]}); run scripts/setup.sh (or apt-get "
                "install espeak-ng libespeak-ng1), or set the synthesizer to espeak-ng."
            )

    def _stop_worker(self, kill: bool) -> None:
        process, send, recv, workdir = self._process, self._send, self._recv, self._workdir
        self._process = self._send = self._recv = self._workdir = None
        if process is not None:
            if not kill and process.poll() is None:
                with contextlib.suppress(OSError, ValueError):
                    send.send(None)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(2.0)
            if process.poll() is None:
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5.0)
        for conn in (send, recv):
            if conn is not None:
                conn.close()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    def close(self) -> None:
        """Stop the worker (it is started again if this synthesiser is used after all)."""
        with self._lock:
            self._stop_worker(kill=False)

    def __enter__(self) -> "Pyttsx3Synthesizer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
