"""Room talk during a session: does the guide stall, and how soon is it back where it was?

Each chatter phrase is said once (as espeak-ng speech, through the real endpointer, matcher and
session machine, on a simulated clock) during the quiet-face session's first long hold: INTO_HOLD
seconds after the session itself entered it. By default a scripted recogniser writes exactly the phrase
(what Whisper wrote for room talk in the field); `--whisper` hears the speech as the guide does, with
the real Whisper tiny.en and the command model. For each phrase it prints what was
decided, whether a question was asked, and how many seconds after the phrase ended the session was
back in its own flow (holding, speaking, or paused with how to go on said): a stall is a question
still waiting, or silence, after 15 s.

    .venv/bin/python scripts/measure_chatter.py [--whisper] [PHRASE ...]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHRASES = ["what time is it", "hello there", "can you hear me", "I'm going to make some tea",
           "where are my glasses", "is the doctor coming", "the phone is ringing", "what did she say",
           "turn left at the corner", "how are you feeling"]
"""Room talk, the first of them the phrase that froze a session in the field."""
INTO_HOLD = 3.0
"""The phrase is said this many seconds into quiet-face's first hold of 20 s or more."""
AFTER = 40.0
"""Seconds the run goes on after the phrase."""
LONGEST = 600.0
"""Seconds of the simulated clock after which a run ends even if the phrase was never said."""
BACK_WITHIN = 15.0
BLOCK = 0.1


class ChatterMic:
    """A quiet room whose microphone hears `speech` once, INTO_HOLD seconds after the session entered
    the hold of step `hold_step`; it records the session's mode, item and step at every block."""

    def __init__(self, clock, speech, hold_step: int, player_of) -> None:
        self.clock, self.speech, self.hold_step, self.player_of = clock, speech, hold_step, player_of
        self.rate = speech.rate
        self.trace: list[tuple[float, str, str | None, int]] = []
        self.held_at: float | None = None
        self.ended_at: float | None = None

    @contextlib.contextmanager
    def blocks(self):
        yield self._gen()

    def _gen(self):
        rng = np.random.default_rng(0)
        size = round(BLOCK * self.rate)
        start, pending = self.clock.now(), self.speech.samples
        while (self.ended_at is None or self.clock.now() - self.ended_at < AFTER) and self.clock.now() - start < LONGEST:
            self.clock.sleep(BLOCK)
            block = (rng.standard_normal(size) * 10 ** (-62 / 20)).astype(np.float32)
            session = self.player_of().session
            if self.held_at is None and session.mode == "holding" and session.state.step == self.hold_step:
                self.held_at = self.clock.now()
            if self.held_at is not None and self.clock.now() - self.held_at >= INTO_HOLD and len(pending):
                piece, pending = pending[:size], pending[size:]
                block[: len(piece)] += piece
                if not len(pending):
                    self.ended_at = self.clock.now()
            item = session.state.item
            self.trace.append((self.clock.now(), session.mode, item.name if item else None, session.state.step))
            yield block


def long_hold(item) -> int:
    """The step of the item's first hold of 20 s or more (the timeline's; its start on the clock is
    what the session itself does, which a timeline drawn with a fake voice's durations misses)."""
    from voice_guide.timeline import build_timeline

    segments = build_timeline(item, lambda text: 1.0)
    return next(s.step for s in segments if s.kind == "silence" and s.duration >= 20 and s.step is not None)


def run_one(phrase: str, whisper: bool) -> dict:
    from voice_guide.content.loader import load_library
    from voice_guide.understanding.understand import Understander
    from voice_guide.understanding.vocabulary import build_vocabulary
    from voice_guide.live.player import Player
    from voice_guide.live.rig import Hooks, Options, Rig
    from voice_guide.testing import ClockAudioOut, FakeClock, FakeSynthesizer, ScriptedRecognizer, espeak_speech

    library = load_library()
    vocab = build_vocabulary(library.items)
    item = library.get("quiet-face")
    clock = FakeClock(1000.0)
    if whisper:
        from voice_guide.engine_table import open_recognizer_for
        from voice_guide.settings import Settings
        from voice_guide.understanding.command_model import open_command_model

        recognizer = open_recognizer_for(Settings(recogniser="whisper"), vocab)
        commands = open_command_model(vocab, recognizer)
    else:
        recognizer, commands = ScriptedRecognizer([phrase] * 3), None
    holder: dict = {}
    speech = espeak_speech(phrase, pad=0.2, noise_floor=-62)
    mic = ChatterMic(clock, speech, long_hold(item), lambda: holder["p"])
    rig = Rig(FakeSynthesizer(), ClockAudioOut(clock), clock, mic=mic,
              ears=Understander(recognizer, vocab, commands=commands))
    player = holder["p"] = Player(library.items, rig, Options(read_only=True), Hooks(save_place=lambda place: None))
    player.run(item=item)
    end = mic.ended_at
    after = [(t, mode, name, step) for t, mode, name, step in mic.trace if end is not None and t >= end]
    before = next(((m, n, s) for t, m, n, s in reversed(mic.trace) if end is not None and t < end - 3.0), None)
    asked_at = next((k for k, (_, mode, _, _) in enumerate(after) if mode == "confirming"), None)
    asked = asked_at is not None
    back = 0.0 if not asked else next((t - end for t, mode, name, step in after[asked_at:]
                                       if mode in ("holding", "speaking", "paused") and name == item.name), None)
    said = list(player.outcome.said)
    heard = [h for h in player.outcome.heard]
    return {"phrase": phrase, "heard": "; ".join(heard) or "(nothing)", "asked": asked, "back": back,
            "before": before[0] if before else None, "said_after": [s for s in said if "No answer" in s or "?" in s]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phrases", nargs="*", default=PHRASES)
    parser.add_argument("--whisper", action="store_true", help="hear with Whisper tiny.en, not a script")
    args = parser.parse_args()
    stalls = 0
    worst = 0.0
    for phrase in args.phrases:
        r = run_one(phrase, args.whisper)
        ok = r["back"] is not None and r["back"] <= BACK_WITHIN
        stalls += not ok
        worst = max(worst, r["back"] if r["back"] is not None else float("inf"))
        back = "never" if r["back"] is None else f"{r['back']:.1f} s"
        print(f"{phrase!r:32} in {r['before']}: heard {r['heard']:50.50} question={'yes' if r['asked'] else 'no ':3} back {back}"
              f"{'' if ok else '  <- STALL'}")
        for sentence in r["said_after"]:
            print(f"{'':34}said: {sentence}")
    print(f"{len(args.phrases)} phrases: {stalls} stalls; back where it was within {worst:.1f} s at worst "
          f"(target: 0 stalls, within {BACK_WITHIN:g} s)")
    return 0 if stalls == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
