"""Barge-in on the (virtual) sound card, with the real recogniser: how often a "stop" said over the
guide, no louder than the guide's own voice, pauses it, and how often the guide talking to itself does.

    eval "$(bash scripts/virtual_sound.sh)"
    python scripts/measure_barge_in.py [--trials 10] [--volumes 1.0 0.3] [--voices en-gb en-us+f3 piper:120]
                                       [--level 0] [--from 0.5] [--to 3] [--fresh] [--minutes 10] [--keep DIR]

Each trial starts a new session (a new speaker and microphone) on a long sentence, the first the
session says after the item's title; a second program (paplay) says "stop" into the same speaker
`--from`-`--to` s into it, as a user over it; the speaker's monitor is the microphone. The echo path
learnt is kept between sessions (`adapters.echo_file`, in a scratch folder) as for a user's second and
later sessions, after one session that learns it; `--fresh` makes each trial a speaker and microphone
pair never seen (nothing kept), as a user's very first session. The "stop" is
said by voices other than the one barge-in was tuned on (espeak-ng en-us): espeak-ng variants,
Piper's joe at another rate ("piper:RATE"), and Kokoro voices ("kokoro:NAME" for a shipped voice, or
"kokoro:FILE" for a kokoro-js voice file such as the command model's held-out bm_daniel), each scaled so that its loud frames (the 95th percentile
of 20 ms levels) are `--level` dB from those of the guide's sentence at that volume. A trial counts
when the guide pauses mid-sentence. It hears with the library's vocabulary, as the guide does (the
command model decides with Whisper; with another vocabulary it would be refused). Then the guide reads the
library for `--minutes` with nobody speaking, at the first of `--volumes`, and every command it acts on
is counted (target 0). The load average is printed, and what
the recogniser makes of each voice's word alone in the quiet (a word it does not take for the command
even there fails for want of hearing, not of barge-in). `--keep DIR` writes every utterance the
recogniser was given (its guesses in the file's name), to hear what a failed trial gave it.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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


class Keeping:
    """The understander, also writing each utterance it is given to `folder` (numbered, with the
    recogniser's guesses in the name), to hear afterwards what a failed trial gave the recogniser."""

    def __init__(self, inner, folder: Path) -> None:
        self.inner, self.folder, self.count = inner, folder, 0
        self.personal = inner.personal
        self.recognizer = inner.recognizer
        folder.mkdir(parents=True, exist_ok=True)

    def understand(self, audio):
        import soundfile as sf

        heard = self.inner.understand(audio)
        self.count += 1
        guesses = "_".join(h.text.strip(" .!?,").replace(" ", "-").replace("/", "")[:20] for h in heard.nbest[:3])
        sf.write(self.folder / f"{self.count:03d}-{heard.match.decision}-{guesses}.wav", audio.samples, audio.rate)
        return heard


class QuitWhen:
    """Keys that press q once `done()` is true (or after `limit` seconds)."""

    def __init__(self, done, limit: float) -> None:
        self.done, self.deadline = done, time.monotonic() + limit

    def poll(self) -> list[str]:
        return ["q"] if self.done() or time.monotonic() > self.deadline else []

    def close(self) -> None:
        pass


def _player(items, understander, volume: float, keys, progress: Path, echoes, pair: str):
    from voice_guide.adapters.espeak_tts import EspeakSynthesizer
    from voice_guide.adapters.sounddevice_audio import SounddeviceIn
    from voice_guide.adapters.sounddevice_speaker import SounddeviceOut
    from voice_guide.live.clock import SystemClock
    from voice_guide.live.player import Player
    from voice_guide.live.rig import Hooks, Options, Rig

    rig = Rig(EspeakSynthesizer(), SounddeviceOut(), SystemClock(), mic=SounddeviceIn(), ears=understander, keys=keys,
              renderer=ThreadPoolExecutor(1),  # as the guide renders its answers: off its loop
              echo_memory=echoes, echo_key=pair)
    return Player(items, rig, Options(voice=VoiceSettings(volume=volume), read_only=True),
                  Hooks(progress_path=progress))


WHEN = (0.15, 0.5, 0.8)
"""Seconds into the sentence at which the counts by when the stop was said are split (a sound's first
0.15 s is where its echo was least known)."""


def by_when(said: list[tuple[float, bool]]) -> str:
    """How many stops paused the guide, of how many said, by when they were said."""
    edges = (0.0, *WHEN, float("inf"))
    parts = []
    for a, b in zip(edges, edges[1:]):
        hits = [ok for t, ok in said if a <= t < b]
        if hits:
            parts.append(f"{a:g}-{b:g} s: {sum(hits)} of {len(hits)}".replace("-inf", "+"))
    return "; ".join(parts)


def stop_trials(understander, volume: float, trials: int, wav: Path, work: Path, rng: random.Random,
                when: tuple[float, float], echoes, fresh: bool, said: list[tuple[float, bool]]) -> int:
    """`said`: (seconds into the sentence, paused) of each trial is added to it."""
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
        pair = f"{wav.stem} {volume} trial {i}" if fresh else "card"
        player = holder["p"] = _player([LONG], understander, volume, keys, work / f"p{i}.json", echoes, pair)

        delay = rng.uniform(*when)

        def user() -> None:
            while not any(line.startswith("Sit back") for line in player.outcome.said):
                time.sleep(0.05)
            time.sleep(delay)
            subprocess.run(["paplay", str(wav)], check=False)

        threading.Thread(target=user, daemon=True).start()
        try:
            player.run(item=LONG)
        finally:
            player.close()
        ok = paused_from == ["speaking"] and any("act stop" in h for h in player.outcome.heard)
        count += ok
        said.append((delay, ok))
        print(f"  {wav.stem} volume {volume:.1f} trial {i + 1}, said {delay:.2f} s in: {'paused' if ok else 'NOT paused'} "
              f"(from {paused_from}) {list(player.outcome.heard)}", flush=True)
    return count


def learn_path(understander, work: Path, echoes) -> None:
    """One session with nobody speaking, as a user's first: the echo path it learns is kept."""
    player = _player([LONG], understander, 1.0, QuitWhen(lambda: False, limit=5.0), work / "first.json", echoes, "card")
    try:
        player.run(item=LONG)
    finally:
        player.close()


def self_talk(understander, minutes: float, work: Path, echoes, volume: float) -> tuple[int, list[str], float]:
    items = [i for i in load_library().items if i.kind == "topic"]
    steps = tuple(s for item in items for s in item.steps)
    long = Item(name="all", title="All topics", kind="topic", steps=steps)
    start = time.monotonic()
    player = _player([long], understander, volume, QuitWhen(lambda: False, limit=minutes * 60), work / "self.json",
                     echoes, "card")
    try:
        player.run(item=long)
    finally:
        player.close()
    acted = [h for h in player.outcome.heard if " act " in h or h.startswith("(over")]
    return sum(" act " in h for h in player.outcome.heard), acted, (time.monotonic() - start) / 60


def loud(samples: np.ndarray, rate: int) -> float:
    """The level (dBFS) of a sound's loud frames: the 95th percentile of its 20 ms levels."""
    from voice_guide.hearing.listen import frame_levels

    levels = frame_levels(samples, round(0.02 * rate))
    return float(np.percentile(levels[levels > -100], 95))


def user_word(word: str, voice: str):
    """`word` said by an espeak-ng voice, by Piper ("piper:RATE"), or by a Kokoro voice ("kokoro:NAME",
    a shipped voice's name or a kokoro-js voice file)."""
    from voice_guide.audio import Audio, add_noise_floor
    from voice_guide.testing import espeak_speech

    if voice.startswith("kokoro:"):
        from voice_guide.adapters.kokoro_tts import SAMPLE_RATE, speak

        return add_noise_floor(Audio(speak(word, voice.split(":", 1)[1]), SAMPLE_RATE), -60.0, seed=1)
    if voice.startswith("piper:"):
        from voice_guide.adapters.piper_tts import PiperSynthesizer

        synth = PiperSynthesizer()
        try:
            audio = synth.synthesize(word, VoiceSettings(rate=int(voice.split(":")[1])))
        finally:
            synth.close()
        return add_noise_floor(audio, -60.0, seed=1)
    return espeak_speech(word, voice, noise_floor=-60)


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--volumes", type=float, nargs="+", default=[1.0, 0.3])
    ap.add_argument("--voices", nargs="+", default=["en-gb", "en-us+f3", "piper:120"])
    ap.add_argument("--word", default="stop")
    ap.add_argument("--level", type=float, default=0.0, help="dB of the user's word over the guide's voice")
    ap.add_argument("--from", dest="start", type=float, default=0.5, help="earliest second into the sentence")
    ap.add_argument("--to", dest="end", type=float, default=3.0)
    ap.add_argument("--fresh", action="store_true", help="each trial a speaker and microphone never seen")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="a folder to write every utterance the recogniser is given to")
    args = ap.parse_args(argv)
    if not shutil.which("paplay"):
        ap.error("paplay (pulseaudio-utils) is needed: run scripts/setup.sh --test")
    import soundfile as sf

    from voice_guide.adapters.echo_file import EchoFile
    from voice_guide.adapters.espeak_tts import EspeakSynthesizer
    from voice_guide.wiring import Devices, open_hearing

    understander, _, notices = open_hearing(Settings(), load_library().items, Devices())  # as the guide hears
    print(*notices, sep="\n")
    if args.keep:
        understander = Keeping(understander, args.keep)
    print(f"recogniser: {understander.recognizer.name}; {load()}", flush=True)
    rng = random.Random(args.seed)
    results, said = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        echoes = EchoFile(work / "echo.json")
        if not args.fresh:
            learn_path(understander, work, echoes)
            print(f"echo path kept: {echoes.load('card') is not None}", flush=True)
        guide = EspeakSynthesizer().synthesize(LONG.steps[0].say, VoiceSettings())
        for voice in args.voices:
            word = user_word(args.word, voice)
            alone = understander.understand(word)
            print(f"{voice}'s '{args.word}' alone, in the quiet: {alone.match.decision} {alone.match.command or ''} "
                  f"({', '.join(f'{h.text!r} {h.confidence:.2f}' for h in alone.nbest[:4])})", flush=True)
            for volume in args.volumes:
                target = loud(guide.samples * np.float32(volume), guide.rate) + args.level
                gain = 10 ** ((target - loud(word.samples, word.rate)) / 20)
                wav = work / f"{args.word}-{Path(voice).stem.replace(':', '-')}.wav"
                sf.write(wav, np.clip(word.samples * np.float32(gain), -1.0, 1.0), word.rate)
                n = stop_trials(understander, volume, args.trials, wav, work, rng, (args.start, args.end), echoes,
                                args.fresh, said)
                line = (f"'{args.word}' in {voice} at {target:.1f} dBFS (the guide's voice {args.level:+.0f} dB) "
                        f"over the guide at volume {volume:.1f}, {args.start:g}-{args.end:g} s in, "
                        f"{'fresh' if args.fresh else 'path kept'}: paused {n} of {args.trials} ({load()})")
                results.append(line)
                print(line, flush=True)
        print("\n".join(["", *results]), flush=True)
        if said:
            print(f"paused, by when the stop was said: {by_when(said)}", flush=True)
        if args.minutes > 0:
            acted, lines, minutes = self_talk(understander, args.minutes, work, echoes, args.volumes[0])
            print(f"guide talking to itself for {minutes:.1f} min: {acted} commands acted on; "
                  f"heard over its own voice: {lines[:10]} ({load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
