"""Replies on the (virtual) sound card: does every command said while the guide listens get its answer
(the action, or the "not understood" cue), and how long after the end of speech does it start?

    eval "$(bash scripts/virtual_sound.sh)"
    python scripts/measure_replies.py [--rounds 1] [--trailing-silence SECONDS]

The real guide (configured voice, Whisper, the library) starts at the menu; a second program (paplay)
says a fixed script of commands into the speaker whenever the guide has listened for half a second
(at the menu, in holds, paused), in three espeak-ng voices at about the level of the guide's voice:
"where" at the menu, an en-gb "start massage", "menu" in a hold, "no", "pause", "go on", and so on;
then three times "where" begun 0.2 s before a sentence of the guide ends. The end of speech is when
paplay has played the word out; the reply is the first sound the guide starts after it. Prints each
command with what the guide made of it and the delay, then the median and 95th percentile, commands
with no reply, and the load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
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

SCRIPT = [("where", "en-us"), ("start massage", "en-gb"), ("where", "en-us+f3"), ("menu", "en-us"),
          ("no", "en-gb"), ("pause", "en-us+f3"), ("where", "en-gb"), ("go on", "en-us"), ("help", "en-us+f3"),
          ("menu", "en-gb"), ("no", "en-us"), ("where", "en-us")]
"""What the user says while the guide listens, in turn, and in which voice."""
AS_IT_ENDS = [("where", "en-us"), ("where", "en-gb"), ("where", "en-us+f3")]
"""Said 0.2 s before a sentence of the guide ends."""
NO_REPLY = 6.0
"""Seconds after the end of speech with no sound from the guide: the command was dropped."""


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


class Logged:
    """The real speaker, noting when each sound is handed to it."""

    def __init__(self, inner) -> None:
        self.inner, self.starts = inner, []

    def play(self, audio):
        self.starts.append((time.monotonic(), audio.duration))
        return self.inner.play(audio)


class Keys:
    """Presses q once the user has said everything."""

    def __init__(self) -> None:
        self.done = threading.Event()

    def poll(self) -> list[str]:
        return ["q"] if self.done.is_set() else []

    def close(self) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=1, help="times through the script")
    ap.add_argument("--trailing-silence", type=float, help="seconds (default: the settings' default)")
    args = ap.parse_args(argv)
    if not shutil.which("paplay"):
        ap.error("paplay (pulseaudio-utils) is needed: run scripts/setup.sh --test")
    import soundfile as sf

    from scripts.measure_barge_in import loud
    from voice_guide.adapters.sounddevice_audio import SounddeviceIn
    from voice_guide.adapters.sounddevice_speaker import SounddeviceOut
    from voice_guide.content.loader import load_library
    from voice_guide.live.clock import SystemClock
    from voice_guide.live.player import Player
    from voice_guide.live.rig import Hooks, Options, Rig
    from voice_guide.settings import Settings
    from voice_guide.speaking.speech import voice_settings
    from voice_guide.testing import espeak_speech
    from voice_guide.wiring import Devices, open_hearing, open_synthesizer

    settings = Settings() if args.trailing_silence is None else Settings(trailing_silence=args.trailing_silence)
    library = load_library()
    synth = open_synthesizer(settings)
    ears, _, _ = open_hearing(settings, library.items, Devices())
    guide_level = loud(synth.synthesize("Let your shoulders drop and breathe slowly.", voice_settings(settings)).samples,
                       22050)
    out, keys = Logged(SounddeviceOut()), Keys()
    with tempfile.TemporaryDirectory() as tmp:
        rig = Rig(synth, out, SystemClock(), mic=SounddeviceIn(), ears=ears, keys=keys,
                  renderer=ThreadPoolExecutor(1))
        player = Player(library.items, rig, Options(voice=voice_settings(settings),
                                                    trailing_silence=settings.trailing_silence),
                        Hooks(save_place=lambda place: None))
        wavs: dict[tuple[str, str], Path] = {}
        for words, voice in {*SCRIPT, *AS_IT_ENDS}:
            audio = espeak_speech(words, voice, noise_floor=-60)
            gain = 10 ** ((guide_level - loud(audio.samples, audio.rate)) / 20)
            wavs[words, voice] = Path(tmp) / f"{words}-{voice}.wav".replace(" ", "_")
            sf.write(wavs[words, voice], audio.samples * np.float32(gain), audio.rate)
        results: list[tuple[str, float | None]] = []

        def say(words: str, voice: str, how: str) -> None:
            heard_before, sounds_before = len(player.outcome.heard), len(out.starts)
            subprocess.run(["paplay", str(wavs[words, voice])], check=False)
            ended = time.monotonic()
            deadline = ended + NO_REPLY
            while time.monotonic() < deadline and not [t for t, _ in out.starts[sounds_before:] if t >= ended - 0.3]:
                time.sleep(0.02)
            replies = [t for t, _ in out.starts[sounds_before:] if t >= ended - 0.3]
            delay = replies[0] - ended if replies else None
            time.sleep(0.5)
            results.append((f"{words} ({voice}, {how})", delay))
            print(f"  {words!r} ({voice}, {how}): {'NO REPLY' if delay is None else f'{delay:.2f} s'} "
                  f"{list(player.outcome.heard)[heard_before:]}", flush=True)

        def listened_for(seconds: float) -> None:
            since = None
            while True:
                if player.listening():
                    since = since or time.monotonic()
                    if time.monotonic() - since >= seconds:
                        return
                else:
                    since = None
                time.sleep(0.02)

        def user() -> None:
            try:
                for _ in range(args.rounds):
                    for words, voice in SCRIPT:
                        listened_for(0.5)
                        say(words, voice, "while it listens")
                    for words, voice in AS_IT_ENDS:
                        if player.session.mode not in ("speaking", "holding"):
                            listened_for(0.5)
                            say("go on", "en-us", "to go on")
                        deadline = time.monotonic() + 60
                        while time.monotonic() < deadline:
                            current = player.sounds.current
                            left = (current.start + current.audio.duration - time.monotonic()) if current else 0
                            if current is not None and current.audio.duration > 1.5 and left > 0.5:
                                time.sleep(max(0.0, left - 0.2))
                                say(words, voice, "as a sentence ends")
                                break
                            time.sleep(0.02)
            finally:
                keys.done.set()

        threading.Thread(target=user, daemon=True).start()
        try:
            player.run()
        finally:
            player.close()
            synth.close()
    delays = np.array([d for _, d in results if d is not None])
    dropped = [name for name, d in results if d is None]
    if len(delays):
        print(f"trailing silence {settings.trailing_silence:.2f} s; end of speech -> reply: {len(delays)} replies, "
              f"median {np.median(delays):.2f} s, "
              f"p95 {np.percentile(delays, 95):.2f} s, max {delays.max():.2f} s; no reply: {len(dropped)} "
              f"{dropped} ({load()})")
    else:
        print(f"no replies at all ({load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
