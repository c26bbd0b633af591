"""Barge-in on the (virtual) sound card, with the real recogniser: how often a loud "stop" said over
the guide pauses it, and how often the guide talking to itself does.

    eval "$(bash scripts/virtual_sound.sh)"
    python scripts/measure_barge_in.py [--trials 10] [--volumes 1.0 0.3] [--minutes 10]

Each trial starts the guide on a long sentence through the speaker; a second program (paplay) says
"stop" into the same speaker 1-3 s into the sentence, as a user over it; the speaker's monitor is the microphone.
A trial counts when the guide pauses mid-sentence within 4 s of the "stop". Then the guide reads the
library for `--minutes` with nobody speaking, and every command it acts on is counted (target 0).
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voice_guide.content.loader import load_library  # noqa: E402
from voice_guide.content.model import Item, Step  # noqa: E402
from voice_guide.engines import VoiceSettings  # noqa: E402
from voice_guide.settings import Settings  # noqa: E402

LONG = Item(name="long", title="Long", kind="topic", steps=(Step(
    "Sit back and let your shoulders drop, and let your breathing settle into a slow and easy rhythm, "
    "with nothing to do and nowhere to go, and notice the weight of your hands resting in your lap, "
    "and the floor under your feet, and the quiet of the room around you."),))


class QuitWhen:
    """Keys that press q once `done()` is true (or after `limit` seconds)."""

    def __init__(self, done, limit: float) -> None:
        self.done, self.deadline = done, time.monotonic() + limit

    def poll(self) -> list[str]:
        return ["q"] if self.done() or time.monotonic() > self.deadline else []

    def close(self) -> None:
        pass


def _player(items, understander, volume: float, keys, progress: Path):
    from voice_guide.adapters.espeak_tts import EspeakSynthesizer
    from voice_guide.adapters.sounddevice_audio import SounddeviceIn, SounddeviceOut
    from voice_guide.live.clock import SystemClock
    from voice_guide.live.player import Player
    from voice_guide.live.rig import Hooks, Options, Rig

    rig = Rig(EspeakSynthesizer(), SounddeviceOut(), SystemClock(), mic=SounddeviceIn(), ears=understander, keys=keys)
    return Player(items, rig, Options(voice=VoiceSettings(volume=volume), read_only=True),
                  Hooks(progress_path=progress))


def stop_trials(understander, volume: float, trials: int, wav: Path, work: Path, rng: random.Random) -> int:
    count = 0
    for i in range(trials):
        holder: dict = {}
        paused_from: list = []

        def paused() -> bool:
            state = holder["p"].session.state
            if state.mode == "paused" and not paused_from:
                paused_from.append(state.paused_from)
            return bool(paused_from)

        keys = QuitWhen(paused, limit=14.0)
        player = holder["p"] = _player([LONG], understander, volume, keys, work / f"p{i}.json")

        def user() -> None:
            while not any(line.startswith("Sit back") for line in player.outcome.said):
                time.sleep(0.05)
            time.sleep(rng.uniform(1.0, 3.0))
            subprocess.run(["paplay", str(wav)], check=False)

        threading.Thread(target=user, daemon=True).start()
        player.run(item=LONG)
        ok = paused_from == ["speaking"] and any("act stop" in h for h in player.outcome.heard)
        count += ok
        print(f"  volume {volume:.1f} trial {i + 1}: {'paused' if ok else 'NOT paused'} "
              f"(from {paused_from}) {list(player.outcome.heard)}", flush=True)
    return count


def self_talk(understander, minutes: float, work: Path) -> tuple[int, list[str], float]:
    items = [i for i in load_library().items if i.kind == "topic"]
    steps = tuple(s for item in items for s in item.steps)
    long = Item(name="all", title="All topics", kind="topic", steps=steps)
    start = time.monotonic()
    player = _player([long], understander, 1.0, QuitWhen(lambda: False, limit=minutes * 60), work / "self.json")
    player.run(item=long)
    acted = [h for h in player.outcome.heard if " act " in h or h.startswith("(over")]
    return sum(" act " in h for h in player.outcome.heard), acted, (time.monotonic() - start) / 60


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--volumes", type=float, nargs="+", default=[1.0, 0.3])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if not shutil.which("paplay"):
        ap.error("paplay (pulseaudio-utils) is needed: run scripts/setup.sh --test")
    import soundfile as sf

    from voice_guide.testing import espeak_speech
    from voice_guide.wiring import Devices, open_hearing

    understander, _, _ = open_hearing(Settings(), [LONG], Devices())
    print(f"recogniser: {understander.recognizer.name}")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        stop = espeak_speech("stop", noise_floor=-60)
        wav = work / "stop.wav"
        sf.write(wav, stop.samples * np.float32(0.9 / float(np.abs(stop.samples).max())), stop.rate)
        for volume in args.volumes:
            n = stop_trials(understander, volume, args.trials, wav, work, rng)
            print(f"loud 'stop' over the guide at volume {volume:.1f}: paused {n} of {args.trials}", flush=True)
        if args.minutes > 0:
            acted, lines, minutes = self_talk(understander, args.minutes, work)
            print(f"guide talking to itself for {minutes:.1f} min: {acted} commands acted on; "
                  f"heard over its own voice: {lines[:10]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
