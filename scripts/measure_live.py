"""Reading live on the virtual sound card: the gaps between sentences, and the CPU a session uses while
it holds silence.

Gaps: reads topics aloud through the real player, speaker (sounddevice, on the virtual sound card
started by scripts/virtual_sound.sh) and the configured voice (Kokoro's Michael by default), from an EMPTY
speech cache, once with the look-ahead and once without it. Each sound's start is taken when it is handed to
the sound card; the gap after a sound is the time from its end to the next sound's start, less
the pause the guide plans there: 1 s after a title, the step's hold after a step, and between the
sentences of one text (played one by one, each after the quiet left of the pause between them) the
text's own pause (`engines.sentence_pause`), counted to the end of that quiet. Prints the median, 95th
percentile and largest gap, within texts and in all, and the load average (the machine may be shared).
With --home DIR the topics are read with DIR as the home folder instead (its speech cache kept): the
first reading with a new DIR is from an empty cache, a later one plays what the earlier rendered.

CPU: runs `voice-guide read quiet-face` (listening on the virtual microphone) and, once the 40-second
hold after its step 4 has begun and the look-ahead has rendered what is to come (the process has used
less than `IDLE_SHARE` of a core for `IDLE_SECONDS` running), counts the CPU time of the whole process
over a stretch of it, and prints its resident memory then (and its peak so far). With --home DIR
it starts with that home folder (a later start: Kokoro's model joined, the speech cache kept).

    .venv/bin/python scripts/measure_live.py [--topics what-is-facial-palsy ...] [--skip-cpu] [--skip-gaps]
        [--voice heart] [--lookahead-only] [--home DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOLD_STEP = "Now turn your attention to your face."
"""How step 4 of quiet-face begins (a 40-second hold follows it)."""


def virtual_sound() -> None:
    """PULSE_SERVER for the virtual sound card (started if needed), set before sounddevice loads."""
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "virtual_sound.sh")], capture_output=True, text=True,
                          timeout=60, check=True)
    line = next(l for l in proc.stdout.splitlines() if l.startswith("export PULSE_SERVER="))
    os.environ["PULSE_SERVER"] = line.split("=", 1)[1].strip()


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def is_cue(audio) -> bool:
    from voice_guide.speaking.cues import CUES

    return any(len(audio) == len(cue) and np.array_equal(audio.samples, cue.samples)
               for cue in (make() for make in CUES.values()))


class Logged:
    """The real speaker, noting when each sound is handed to it and how long it lasts."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.starts: list[list] = []
        """[when, seconds, words (a text's first sentence), "" (its later sentences) or None (a cue),
        the sound]"""

    def play(self, audio):
        self.starts.append([time.monotonic(), audio.duration, None if is_cue(audio) else "", audio])
        return self.inner.play(audio)

    def said(self, text: str) -> None:
        """The player's echo, called just after it started the sound of `text`."""
        self.starts[-1][2] = text


def lead(audio, sentences) -> float:
    """Seconds of quiet a played sound begins with before its sentence: the sound ends with one of
    `sentences` (as rendered), after that quiet. Its leading silent samples when it ends with none:
    counted so, a sentence read back from the cache in 16 bits, which begins with its own silent
    samples, would seem to start late."""
    for own in sentences:
        n = len(own.samples)
        if n <= len(audio.samples) and np.array_equal(audio.samples[len(audio.samples) - n :], own.samples):
            return (len(audio.samples) - n) / audio.rate
    sound = np.flatnonzero(audio.samples)
    return (sound[0] if len(sound) else len(audio.samples)) / audio.rate


def planned_pauses(item) -> dict[str, float]:
    """Sentence -> the quiet the guide plans after it."""
    from voice_guide.timeline import TITLE_GAP

    pauses = {item.title: TITLE_GAP}
    for step in item.steps:
        if step.say:
            pauses[step.say] = step.hold
    return pauses


VOICE: str | None = None
"""The voice to read with (a name from `voice-guide voices`); None: the settings' default."""
COMPARE = True
"""Read once more without the look-ahead."""
HOME: Path | None = None
"""The home folder to read with (its speech cache kept); None: an empty one for each reading."""


def read_aloud(item, lookahead: int, home: Path) -> list[tuple[float, str, bool]]:
    """Gaps (seconds beyond the planned pause) between the sentences of one reading of `item`, each
    with the start of the text it follows and whether it is within that text."""
    os.environ["VOICE_GUIDE_HOME"] = str(home)  # its speech cache: empty, unless --home
    from voice_guide.adapters.sounddevice_speaker import SounddeviceOut
    from voice_guide.live.clock import SystemClock
    from voice_guide.live.player import Player
    from voice_guide.live.rig import Hooks, Options, Rig
    from voice_guide.settings import Settings
    from voice_guide.speaking.speech import voice_settings
    from voice_guide.speaking import voices
    from voice_guide.engine_table import open_synthesizer

    from voice_guide.engines import VoiceSettings, sentence_pause
    from voice_guide.speaking.text import split_sentences

    settings = voices.choose(Settings(), voices.named(VOICE)) if VOICE else Settings()
    synth = open_synthesizer(settings)
    out = Logged(SounddeviceOut())
    player = Player([item], Rig(synth, out, SystemClock()),
                    Options(voice=voice_settings(settings), read_only=True, lookahead=lookahead),
                    Hooks(save_place=lambda place: None, echo=out.said))
    try:
        player.run(item=item)
        full = VoiceSettings(settings.rate, 1.0, settings.voice)  # as the player renders (from the cache now)
        texts = [step.say for step in item.steps if step.say] + [player.session.closing(item)]
        sentences = [synth.synthesize(s, full) for t in texts for s in split_sentences(t)]
    finally:
        player.close()
        synth.close()
    pauses = planned_pauses(item)
    speech = [entry for entry in out.starts if entry[2] is not None]
    gaps, text = [], ""
    for (start, length, words, _), (next_start, _, next_words, sound) in zip(speech, speech[1:]):
        text = words or text
        within = next_words == ""
        if within:
            gap = next_start + lead(sound, sentences) - (start + length) - sentence_pause(settings.rate)
        elif text in pauses:
            gap = next_start - (start + length) - pauses[text]
        else:
            continue
        gaps.append((gap, text[:40].replace("\n", " "), within))
    return gaps


def measure_gaps(names: list[str]) -> None:
    from voice_guide.content.loader import load_library
    from voice_guide.live.lookahead import AHEAD

    library = load_library()
    for lookahead in (AHEAD, 0) if COMPARE else (AHEAD,):
        gaps: list[tuple[float, str, bool]] = []
        started = time.monotonic()
        for name in names:
            if HOME is not None:
                gaps += read_aloud(library.get(name), lookahead, HOME)
                continue
            with tempfile.TemporaryDirectory(prefix="voice-guide-gaps-") as home:
                gaps += read_aloud(library.get(name), lookahead, Path(home))
        label = f"look-ahead {lookahead}" if lookahead else "no look-ahead"
        label += f", speech cache in {HOME}" if HOME else ", from an empty speech cache"
        print(f"gaps beyond the planned pause, {label} ({time.monotonic() - started:.0f} s of reading; {load()}):")
        for kind, chosen in (("within texts", [g for g in gaps if g[2]]), ("all", gaps)):
            if chosen:
                ms = 1000 * np.array([gap for gap, _, _ in chosen])
                print(f"  {kind}: {len(ms)} gaps, median {np.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, "
                      f"max {ms.max():.0f} ms", flush=True)
        for gap, after, within in sorted(gaps, reverse=True)[:3]:
            print(f"    {1000 * gap:5.0f} ms {'within' if within else 'after'} \"{after}...\"")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory now (VmRSS) and its peak so far (VmHWM), in MB."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: int(v.split()[0]) / 1024 for k, v in (l.split(":", 1) for l in lines) if k in ("VmRSS", "VmHWM")}


IDLE_SHARE = 0.15
IDLE_SECONDS = 3
"""The guide only listens once its process has used less than IDLE_SHARE of a core for IDLE_SECONDS
seconds running (on a busy machine the look-ahead may still render well into the hold)."""


def wait_until_listening(pid: int, limit: float = 8.0) -> None:
    """Until the process only listens, or `limit` seconds (the hold is 40 s; the CPU is measured in it)."""
    quiet, last, start = 0, cpu_seconds(pid), time.monotonic()
    while quiet < IDLE_SECONDS and time.monotonic() - start < limit:
        time.sleep(1)
        now = cpu_seconds(pid)
        quiet, last = (quiet + 1 if now - last < IDLE_SHARE else 0), now


def measure_hold_cpu(window: float = 20.0) -> None:
    with (contextlib.nullcontext(str(HOME)) if HOME else tempfile.TemporaryDirectory(prefix="voice-guide-cpu-")) as home:
        env = dict(os.environ, VOICE_GUIDE_HOME=home)
        if VOICE:
            subprocess.run([sys.executable, "-m", "voice_guide", "settings", "set", "voice", VOICE], cwd=ROOT,
                           env=env, check=True, capture_output=True)
        proc = subprocess.Popen([sys.executable, "-m", "voice_guide", "read", "quiet-face"], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        seen = threading.Event()

        def watch() -> None:
            for line in proc.stdout:
                if line.startswith(HOLD_STEP):
                    seen.set()

        threading.Thread(target=watch, daemon=True).start()
        try:
            if not seen.wait(300):
                print("quiet-face never reached step 4; is the virtual sound card running?")
                return
            time.sleep(12)  # its words are said
            wait_until_listening(proc.pid)
            before, start = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(window)
            used, wall = cpu_seconds(proc.pid) - before, time.monotonic() - start
            memory = memory_mb(proc.pid)
            print(f"CPU while quiet-face holds silence (listening): {100 * used / wall:.1f} % of one core "
                  f"over {wall:.0f} s; {load()}")
            print(f"Memory while listening: {memory['VmRSS']:.0f} MB resident, {memory['VmHWM']:.0f} MB at "
                  "its peak so far")
        finally:
            proc.terminate()
            proc.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", nargs="+", default=["what-is-facial-palsy"])
    parser.add_argument("--skip-gaps", action="store_true")
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--voice", default=None, help="a voice from `voice-guide voices` (default: the settings')")
    parser.add_argument("--lookahead-only", action="store_true", help="skip the reading without the look-ahead")
    parser.add_argument("--home", type=Path, default=None,
                        help="read with this home folder, keeping its speech cache (default: an empty one each time)")
    args = parser.parse_args()
    global VOICE, COMPARE, HOME
    VOICE, COMPARE, HOME = args.voice, not args.lookahead_only, args.home
    virtual_sound()
    if not args.skip_gaps:
        measure_gaps(args.topics)
    if not args.skip_cpu:
        measure_hold_cpu()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
