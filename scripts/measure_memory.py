"""Memory over long use: (a) a 3-hour session driven by spoken commands on a fake clock (tracemalloc
after each hour and its peak, and the process's peak RSS), (b) the peak RSS of `voice-guide hear` on
a generated 1-hour WAV, against the same command on a 1-second WAV, and (c) the peak memory of
streaming that hour in microphone-sized blocks.

    python scripts/measure_memory.py [--hours 3] [--skip-hear]

`long_run` is also what tests/test_faults.py runs, so the figures printed here are those the test
checks.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_guide.understanding.vocabulary import build_vocabulary  # noqa: E402
from voice_guide.audio import SPEECH_RATE, tone  # noqa: E402
from voice_guide.content.loader import load_library  # noqa: E402
from voice_guide.engines import Hypothesis  # noqa: E402
from voice_guide.live.player import Player  # noqa: E402
from voice_guide.live.rig import Hooks, Rig  # noqa: E402
from voice_guide.speaking.speech import CachedSynthesizer  # noqa: E402
from voice_guide.testing import ClockAudioOut, FakeClock, FakeSynthesizer  # noqa: E402
from voice_guide.understanding.understand import Understander  # noqa: E402

SPOKEN = ["self massage", "pause", "where", "resume", "next", "repeat", "slower", "louder", "back",
          "", "help", "step three", "faster", "quieter", "um", "quiet face", "yes", "stop", "go", "no",
          "next", "menu", "yes", "muscle by muscle", "pause", "left", "resume", "next", "next", "menu",
          "yes", "what to do", "next", "stop", "resume"]
"""What the user keeps saying, round and round: commands, items, non-commands and nothing at all."""


class CyclingRecognizer:
    """Hears the next line of SPOKEN in each utterance, for ever."""

    name = "cycling"

    def __init__(self) -> None:
        self.lines = itertools.cycle(SPOKEN)
        self.decoded = 0

    def decode(self, audio) -> list[Hypothesis]:
        self.decoded += 1
        text = next(self.lines)
        return [Hypothesis(text)] if text else []


class SpeakingUser:
    """A microphone on the fake clock: faint room noise, and a short spoken burst whenever the guide
    has been listening for `every` seconds (so each utterance is decoded)."""

    rate = SPEECH_RATE

    def __init__(self, clock: FakeClock, player_of, every: float = 4.0, block: float = 0.2) -> None:
        self.clock, self.player_of, self.every = clock, player_of, every
        self.block = round(block * self.rate)
        self.burst = tone(300.0, 0.6, self.rate, volume=0.3).samples

    @contextlib.contextmanager
    def blocks(self):
        yield self._gen()

    def _gen(self):
        rng = np.random.default_rng(5)
        quiet = (rng.standard_normal(self.block) * 10 ** (-62 / 20)).astype(np.float32)
        step = self.block / self.rate
        waited = 0.0
        while True:
            self.clock.sleep(step)
            waited = waited + step if self.player_of().listening() else 0.0
            if waited < self.every:
                yield quiet
                continue
            waited = 0.0
            for i in range(0, len(self.burst), self.block):
                chunk = self.burst[i : i + self.block]
                yield np.pad(chunk, (0, self.block - len(chunk))) + quiet
                self.clock.sleep(step)


@dataclass
class LongRun:
    hours: float
    traced_after_hour: list[int] = field(default_factory=list)
    """tracemalloc's current size after each traced hour, less the bounded speech cache (bytes)."""
    traced_peak: int = 0
    decoded: int = 0
    said: int = 0
    modes: set[str] = field(default_factory=set)
    places_saved: int = 0
    problems: list[str] = field(default_factory=list)
    """State inconsistencies seen (empty when all is well)."""
    seconds: float = 0.0


def check(player: Player) -> str | None:
    """What is inconsistent in the player's state, or None."""
    s = player.session.state
    if s.mode == "menu" and (s.item is not None or s.hold is not None):
        return "menu with an item or hold"
    if s.mode in ("speaking", "holding", "paused") and (s.item is None or not -1 <= s.step < len(s.item.steps)):
        return f"{s.mode} without a valid step"
    if s.mode == "holding" and (s.hold is None or s.hold.elapsed > s.hold.length + 1e-6):
        return "hold overrun"
    if len(player.sounds) >= 10:
        return "sound queue growing"
    if not (80 <= s.rate <= 300 and 0.2 <= s.volume <= 1.0):
        return "rate or volume out of range"
    return None


def traced_outside_speech_cache() -> int:
    """What tracemalloc holds, less the speech cache's copies: that cache is bounded (`memory_items`
    sentences), and once full every new sentence replaces one allocated before tracing began, which
    tracemalloc would count as growth."""
    cache = tracemalloc.Filter(False, "*/voice_guide/speaking/speech.py")
    return sum(stat.size for stat in tracemalloc.take_snapshot().filter_traces([cache]).statistics("filename"))


def long_run(hours: float = 3.0, trace: bool = True, block: float = 0.2, trace_from: int = 0) -> LongRun:
    """`hours` of a user speaking a command every few seconds to the whole library, on a fake clock;
    `block` is the microphone's block length in seconds. Memory is traced from the end of hour
    `trace_from` (0: from the start; 1: once the caches are warm, which is quicker)."""
    library = load_library()
    clock = FakeClock(0.0)
    recognizer = CyclingRecognizer()
    ears = Understander(recognizer, build_vocabulary(library.items))
    saved = [0]

    def save_place(place) -> None:
        saved[0] += 1

    holder: list[Player] = []
    mic = SpeakingUser(clock, lambda: holder[0], block=block)
    # The guide's own speech cache (memory LRU and disk) around a fake voice at the microphone's rate,
    # so the echo reference needs no resampling.
    cache = tempfile.TemporaryDirectory(prefix="voice-guide-measure-")
    synth = CachedSynthesizer(FakeSynthesizer(rate=SPEECH_RATE), cache_dir=cache.name)
    spoken = [0]

    def echo(text: str) -> None:
        spoken[0] += 1

    player = Player(library.items, Rig(synth, ClockAudioOut(clock, keep=0), clock, mic=mic, ears=ears),
                    hooks=Hooks(save_place=save_place, echo=echo))
    holder.append(player)
    run = LongRun(hours)
    player.start()
    started = time.perf_counter()
    if trace and trace_from == 0:
        tracemalloc.start()
    try:
        with mic.blocks() as blocks:
            hour_end = 3600.0
            turns = 0
            for block in blocks:
                player.turn(block)
                run.modes.add(player.session.mode)
                turns += 1
                if turns % 50 == 0 and (problem := check(player)):
                    run.problems.append(f"{clock.now():.0f} s: {problem}")
                # Each hour is marked at the menu, the same state every time (no look-ahead, no reply
                # in flight), so what the marks differ by is growth, not what happens to be playing.
                if clock.now() >= min(hour_end, hours * 3600.0) and player.session.mode == "menu":
                    gc.collect()
                    if trace and not tracemalloc.is_tracing() and clock.now() >= trace_from * 3600.0:
                        tracemalloc.start()
                    if tracemalloc.is_tracing():
                        run.traced_after_hour.append(traced_outside_speech_cache())
                    hour_end += 3600.0
                    if clock.now() >= hours * 3600.0:
                        break
                if player.session.mode == "finished":
                    run.problems.append("the session finished on its own")
                    break
        if tracemalloc.is_tracing():
            run.traced_peak = tracemalloc.get_traced_memory()[1]
    finally:
        if trace:
            tracemalloc.stop()
        cache.cleanup()
    run.seconds = time.perf_counter() - started
    run.decoded, run.said, run.places_saved = recognizer.decoded, spoken[0], saved[0]
    return run


def _write_hour_wav(path: Path, seconds: int = 3600, rate: int = SPEECH_RATE) -> None:
    import soundfile

    minute = (np.random.default_rng(2).standard_normal(rate * 60) * 0.05).astype(np.float32)
    with soundfile.SoundFile(path, "w", rate, 1, subtype="PCM_16") as f:
        for _ in range(seconds // 60):
            f.write(minute)
        f.write(minute[: rate * (seconds % 60)])


HEAR_CHILD = (
    "import resource, sys\n"
    "from voice_guide.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('maxrss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def hear_peak_rss(wav: Path, home: Path) -> tuple[int, int, str]:
    """(exit code, peak RSS in KiB, stderr) of `voice-guide hear WAV --json` in a fresh interpreter."""
    import os

    env = dict(os.environ, VOICE_GUIDE_HOME=str(home), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", HEAR_CHILD, "hear", str(wav), "--json"], env=env,
                          capture_output=True, text=True, timeout=300)
    line = next(l for l in proc.stderr.splitlines() if l.startswith("maxrss_kib"))
    rest = "\n".join(l for l in proc.stderr.splitlines() if not l.startswith("maxrss_kib"))
    return proc.returncode, int(line.split()[1]), proc.stdout + rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--skip-hear", action="store_true")
    args = parser.parse_args()

    run = long_run(args.hours)
    mib = [f"{b / 2**20:.2f}" for b in run.traced_after_hour]
    print(f"(a) {args.hours:g}-hour session on a fake clock, {run.decoded} utterances decoded, "
          f"{run.said} sentences said, {run.places_saved} places saved, modes {sorted(run.modes)}, "
          f"{run.seconds:.1f} s wall")
    print(f"    tracemalloc after each hour (MiB): {', '.join(mib)}; growth hour 1 -> {len(mib)}: "
          f"{(run.traced_after_hour[-1] - run.traced_after_hour[0]) / 1024:.1f} KiB; "
          f"peak {run.traced_peak / 2**20:.2f} MiB")
    print(f"    process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"state problems: {run.problems or 'none'}")
    if args.skip_hear:
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        hour, second = tmp_path / "hour.wav", tmp_path / "second.wav"
        _write_hour_wav(hour)
        _write_hour_wav(second, seconds=1)
        _, base, _ = hear_peak_rss(second, tmp_path / "home")
        code, peak, out = hear_peak_rss(hour, tmp_path / "home")
        print(f"(b) voice-guide hear on a 1-hour 16 kHz WAV ({hour.stat().st_size / 2**20:.0f} MiB): exit {code}, "
              f"peak RSS {peak / 1024:.0f} MiB, vs {base / 1024:.0f} MiB on a 1-second WAV "
              f"(+{(peak - base) / 1024:.0f} MiB)")
        print(f"    it said: {out.strip()}")
        from voice_guide.hearing.audio_files import iter_blocks

        list(iter_blocks(second))  # imports what reading needs before measuring
        tracemalloc.start()
        samples = sum(len(b) for b in iter_blocks(hour))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"(c) the same hour streamed in microphone blocks (audio_files.iter_blocks, as a live microphone "
              f"would be): {samples / SPEECH_RATE:.0f} s of audio, tracemalloc peak {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
