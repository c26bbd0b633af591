"""Start time: seconds from launching `voice-guide` to its first audible sound on the virtual sound
card, and to the moment it listens (the menu's prompt has been said: the first second of quiet after
it), with a warm speech cache (the guide has run before) and a cold one (a fresh install: nothing
rendered yet). Each run is a real process with a private VOICE_GUIDE_HOME; the sound is taken from the
virtual sink's monitor, and each moment is counted in samples from the recording's start, so the
reader's own buffering does not add to the figures. The prompt is the first printed line with
PROMPT in it (each line is printed as it starts to play).

    python scripts/measure_start.py [--runs 3] [--set NAME=VALUE ...] [-- ARGS FOR voice-guide]

`--set recogniser=pocketsphinx`, for example, runs `voice-guide settings set recogniser pocketsphinx`
in each private home first.

Prints each run and the median of each kind. It starts the virtual sound card
(scripts/virtual_sound.sh) when PULSE_SERVER does not answer.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000
THRESHOLD = 0.003
"""Peak level (of full scale) that counts as sound: well above the null sink's digital silence."""
TIMEOUT = 90.0
PROMPT = "Say a "
QUIET = 1.0
"""Seconds of quiet after the prompt that mean the guide is listening."""


def sound_server() -> str:
    server = os.environ.get("PULSE_SERVER", "")
    ok = server and subprocess.run(["pactl", "info"], env=dict(os.environ, PULSE_SERVER=server),
                                   capture_output=True).returncode == 0
    if not ok:
        out = subprocess.run(["bash", str(ROOT / "scripts" / "virtual_sound.sh")], capture_output=True,
                             text=True, check=True).stdout
        server = out.strip().split("=", 1)[1]
    return server


class Monitor:
    """Records the sink's monitor; `first_sound()` is the monotonic time of the first loud sample
    after `since`."""

    def __init__(self, server: str) -> None:
        self.proc = subprocess.Popen(
            ["parec", "--device=vsink.monitor", "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1",
             "--latency-msec=100"], stdout=subprocess.PIPE, env=dict(os.environ, PULSE_SERVER=server))
        self.origin = float("inf")
        self.samples = 0
        self.loud: list[tuple[float, float]] = []
        """(first, last) loud moment of each block with sound in it."""
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            data = self.proc.stdout.read1(3200)  # type: ignore[attr-defined]
            if not data:
                return
            block = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32) / 32768
            with self._lock:
                # A block read late was not recorded late: the stream's start is the earliest any
                # block's arrival allows.
                self.samples += len(block)
                self.origin = min(self.origin, time.monotonic() - self.samples / RATE)
                hits = np.flatnonzero(np.abs(block) > THRESHOLD)
                if len(hits):
                    start = self.origin + (self.samples - len(block)) / RATE
                    self.loud.append((start + hits[0] / RATE, start + hits[-1] / RATE))

    def first_sound(self, since: float) -> float | None:
        with self._lock:
            return next((a for a, _ in self.loud if a >= since), None)

    def quiet_after(self, since: float, now: float) -> float | None:
        """The end of the last sound before the first QUIET seconds without any, after `since`."""
        with self._lock:
            ends = [(a, b) for a, b in self.loud if b >= since]
        for (_, end), (start, _) in zip(ends, ends[1:] + [(now, now)]):
            if start - end >= QUIET:
                return end
        return None

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def launch(monitor: Monitor, home: Path, server: str, argv: list[str],
           settings: list[str]) -> tuple[float, float]:
    """Seconds from launch to the first sound and to listening (TIMEOUT when not seen)."""
    env = dict(os.environ, VOICE_GUIDE_HOME=str(home), PULSE_SERVER=server)
    program = shutil.which("voice-guide", path=str(Path(sys.executable).parent)) or "voice-guide"
    for setting in settings:
        subprocess.run([program, "settings", "set", *setting.split("=", 1)], env=env, check=True,
                       capture_output=True)
    time.sleep(0.5)  # let the sink fall quiet
    start = time.monotonic()
    proc = subprocess.Popen([program, *argv], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    prompted: list[float] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if PROMPT in line and not prompted:
                prompted.append(time.monotonic())

    threading.Thread(target=read, daemon=True).start()
    first = None
    try:
        while time.monotonic() - start < TIMEOUT:
            first = first or monitor.first_sound(start)
            if prompted and first is not None:
                listening = monitor.quiet_after(prompted[0], time.monotonic())
                if listening is not None:
                    return first - start, listening - start
            if proc.poll() is not None and time.monotonic() - start > 2:
                break
            time.sleep(0.05)
        return (first - start if first else TIMEOUT), TIMEOUT
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for each run's private home")
    parser.add_argument("args", nargs="*", help="arguments for voice-guide (after --)")
    opts = parser.parse_args()
    server = sound_server()
    monitor = Monitor(server)
    figures: dict[str, list[tuple[float, float]]] = {"warm": [], "cold": []}
    try:
        with tempfile.TemporaryDirectory(prefix="vg-start-") as tmp:
            warm_home = Path(tmp) / "warm"
            launch(monitor, warm_home, server, opts.args, opts.set)  # fills the cache
            for run in range(opts.runs):
                cold_home = Path(tmp) / f"cold-{run}"
                for kind, home in (("warm", warm_home), ("cold", cold_home)):
                    first, listening = launch(monitor, home, server, opts.args, opts.set)
                    figures[kind].append((first, listening))
                    print(f"run {run + 1} {kind}: first sound {first:.2f} s, listening {listening:.2f} s", flush=True)
    finally:
        monitor.close()
    for kind, values in figures.items():
        for what, column in (("first sound", 0), ("listening", 1)):
            series = [v[column] for v in values]
            print(f"{kind} cache, {what}: median {statistics.median(series):.2f} s (runs: "
                  f"{', '.join(f'{v:.2f}' for v in series)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
