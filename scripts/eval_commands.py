"""Measure command recognition end to end: audio -> recogniser -> matcher -> decision.

    python scripts/eval_commands.py MANIFEST [--noise fan|kitchen|babble] [--snr DB ...]
        [--recogniser auto|whisper|pocketsphinx|vosk] [--whisper-model tiny.en|base] [--split]
        [--no-items] [--plot out.png] [--json] [--command-model on|off] [--head weights.npz]
        [--as-heard]

MANIFEST is a CSV with file,transcript,speaker,kind (paths relative to it). A clip whose transcript the
matcher maps to a command (unless its kind is "not-a-command": room talk that happens to hold one) (yes,
no, stop, go, up, down, next, "start massage" ...) is right only when the decision is "act" with that
command; any other clip (left, right, on, off, cat, coughs ...) is a false accept when the decision is
"act" with any command; a command clip acted on as another command is a WRONG action (worse than
asking again, so counted apart). Prints right / false / wrong rates, a confusion table, decode-time
percentiles (recogniser, matcher and command model together) and peak memory; with --snr, mixes noise
at each SNR; with --as-heard, each clip is first cut out as the live guide's endpointer cuts it.
--command-model on (the default, as in the guide) lets the shipped command model decide with Whisper
(`hearing.fusion`); off is the recogniser and the matcher alone.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voice_guide.understanding import matching  # noqa: E402
from voice_guide.understanding.vocabulary import build_vocabulary  # noqa: E402
from voice_guide.audio import Audio  # noqa: E402
from voice_guide.hearing.audio_files import read_utterance  # noqa: E402
from voice_guide.hearing.listen import Endpointer, RecordingsIn, noise_block  # noqa: E402
from voice_guide.understanding.understand import Understander  # noqa: E402
from voice_guide.settings import Settings  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from make_corpus import NOISES, mix_at_snr  # noqa: E402


@dataclass
class Clip:
    path: Path
    transcript: str
    speaker: str
    kind: str
    expected: matching.Command | None
    """The command the words mean (exact match through the vocabulary), or None."""


@dataclass
class Result:
    clip: Clip
    decision: str
    command: matching.Command | None
    heard: str
    seconds: float

    @property
    def right(self) -> bool:
        return self.decision == "act" and self.command == self.clip.expected

    @property
    def false_accept(self) -> bool:
        return self.clip.expected is None and self.decision == "act"

    @property
    def wrong(self) -> bool:
        return self.clip.expected is not None and self.decision == "act" and self.command != self.clip.expected


@dataclass
class Figures:
    label: str
    commands: int = 0
    right: int = 0
    others: int = 0
    accepted: int = 0
    wrong: int = 0
    decode_ms: list[float] = field(default_factory=list)
    confusion: Counter = field(default_factory=Counter)

    def add(self, r: Result) -> None:
        self.decode_ms.append(r.seconds * 1000)
        got = str(r.command) if r.decision == "act" and r.command else f"({r.decision})"
        self.confusion[(r.clip.transcript, got)] += 1
        if r.clip.expected is not None:
            self.commands += 1
            self.right += r.right
            self.wrong += r.wrong
        else:
            self.others += 1
            self.accepted += r.false_accept

    @property
    def accuracy(self) -> float:
        return self.right / self.commands if self.commands else float("nan")

    @property
    def wrong_rate(self) -> float:
        return self.wrong / self.commands if self.commands else float("nan")

    @property
    def false_accept_rate(self) -> float:
        return self.accepted / self.others if self.others else float("nan")

    def summary(self) -> dict:
        ms = np.array(self.decode_ms) if self.decode_ms else np.zeros(1)
        return {
            "label": self.label, "command_clips": self.commands, "right": self.right,
            "accuracy": round(self.accuracy, 4), "other_clips": self.others, "accepted": self.accepted,
            "false_accept_rate": round(self.false_accept_rate, 4),
            "wrong": self.wrong, "wrong_rate": round(self.wrong_rate, 4),
            "decode_ms_median": round(float(np.median(ms)), 1), "decode_ms_p95": round(float(np.percentile(ms, 95)), 1),
        }


def expected_command(transcript: str, vocab) -> matching.Command | None:
    """What the transcript means when said perfectly: the matcher's own decision on the text."""
    m = matching.match(transcript, vocab)
    return m.command if m.decision == "act" else None


def read_manifest(path: Path, vocab) -> list[Clip]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [
        Clip(path.parent / r["file"], r["transcript"], r.get("speaker", ""), r.get("kind", ""),
             None if r.get("kind") == "not-a-command" else expected_command(r["transcript"], vocab))
        for r in rows
    ]


def as_heard(audio: Audio, seed: int) -> Audio | None:
    """The clip as the live guide takes it from its microphone: said after a moment of a faint room,
    cut out by the guide's own endpointer (which keeps about 0.2 s each side of the speech); the
    longest utterance it found, None when it found none."""
    rng = np.random.default_rng(seed)
    block = RecordingsIn.blocksize
    quiet = [noise_block(block, RecordingsIn.noise_dbfs, rng) for _ in range(10)]
    x = audio.resample(RecordingsIn.rate).samples
    x = np.concatenate([x, np.zeros(-len(x) % block, np.float32)])
    said = [x[i : i + block] + noise_block(block, RecordingsIn.noise_dbfs, rng) for i in range(0, len(x), block)]
    endpointer = Endpointer(RecordingsIn.rate)
    found = [u for b in quiet + said + quiet for u in [endpointer.feed(b)] if u is not None]
    return max(found, key=lambda u: len(u.samples)) if found else None


def run(clips: list[Clip], ears: Understander, noise: str | None = None, snr: float | None = None,
        seed: int = 0, heard_live: bool = False) -> list[Result]:
    results = []
    for i, clip in enumerate(clips):
        audio = read_utterance(clip.path)
        if noise is not None and snr is not None:
            audio = Audio(mix_at_snr(audio.samples, NOISES[noise](len(audio.samples), audio.rate, seed + i), snr), audio.rate)
        if heard_live:
            audio = as_heard(audio, seed + i)
            if audio is None:
                results.append(Result(clip, "none", None, "", 0.0))
                continue
        heard = ears.understand(audio)
        m = heard.match
        results.append(Result(clip, m.decision, m.command, m.heard, heard.decode_ms / 1000))
    return results


def figures(label: str, results: list[Result]) -> Figures:
    f = Figures(label)
    for r in results:
        f.add(r)
    return f


def split_halves(results: list[Result]) -> tuple[list[Result], list[Result]]:
    """Two halves by speaker (sorted speaker ids alternate), so no speaker is in both."""
    speakers = sorted({r.clip.speaker for r in results})
    first = set(speakers[::2])
    return [r for r in results if r.clip.speaker in first], [r for r in results if r.clip.speaker not in first]


def plain_commands(results: list[Result]) -> tuple[list[Result], list[Result]]:
    """The commands people say most, apart: those with no argument (no step, suggestion, topic or word
    to teach), and of those the ones said as one word. A set of every phrase is mostly numbered and
    argument commands, which do better: on the held-out weak lips, 87.8% right in all, 76.5% without
    an argument, 66.7% said as one word."""
    plain = [r for r in results if r.clip.expected is not None and r.clip.expected.arg is None]
    return plain, [r for r in plain if len(r.clip.transcript.split()) == 1]


def print_figures(f: Figures, confusion: bool = True) -> None:
    s = f.summary()
    print(f"== {f.label}")
    print(f"  commands right : {100 * f.accuracy:5.1f}%  ({f.right}/{f.commands})")
    print(f"  false accepts  : {100 * f.false_accept_rate:5.1f}%  ({f.accepted}/{f.others})")
    print(f"  WRONG commands : {100 * f.wrong_rate:5.1f}%  ({f.wrong}/{f.commands})")
    print(f"  decode ms      : median {s['decode_ms_median']}, p95 {s['decode_ms_p95']}")
    if confusion:
        print("  confusion (said -> decision, count):")
        for said in sorted({k[0] for k in f.confusion}):
            row = sorted(((got, n) for (s_, got), n in f.confusion.items() if s_ == said), key=lambda x: -x[1])
            print(f"    {said:>14} -> " + ", ".join(f"{got} {n}" for got, n in row))


def plot(points: list[tuple[float, float, float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    snrs = [p[0] for p in points]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(snrs, [100 * p[1] for p in points], "o-", label="commands right")
    ax.plot(snrs, [100 * p[2] for p in points], "s--", label="false accepts")
    ax.set_xlabel("SNR (dB)")
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--noise", choices=sorted(NOISES))
    ap.add_argument("--snr", type=float, nargs="*", default=[])
    ap.add_argument("--recogniser", default="auto", choices=["auto", "whisper", "pocketsphinx", "vosk"])
    ap.add_argument("--whisper-model", default="tiny.en", choices=["tiny.en", "base"])
    ap.add_argument("--split", action="store_true", help="also report two speaker-disjoint halves")
    ap.add_argument("--plain", action="store_true",
                    help="also report the commands with no argument, and those said as one word, apart")
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="no confusion table")
    ap.add_argument("--command-model", choices=["on", "off"], default="on",
                    help="the command model decides with the recogniser (on, as in the guide) or not (off)")
    ap.add_argument("--as-heard", action="store_true",
                    help="each clip as the live guide's endpointer cuts it from the microphone (`as_heard`)")
    ap.add_argument("--head", type=Path, help="command model weights to use instead of the shipped ones")
    ap.add_argument("--no-items", action="store_true",
                    help="commands only; by default the library's topics and sessions are phrases too, as in the guide")
    args = ap.parse_args(argv)

    from voice_guide.engine_table import open_recognizer_for

    items = ()
    if not args.no_items:
        from voice_guide.content.loader import load_library

        items = load_library().items
    vocab = build_vocabulary(items)
    clips = read_manifest(args.manifest, vocab)
    t = time.perf_counter()
    settings = Settings(recogniser=args.recogniser, whisper_model=args.whisper_model)
    recognizer = open_recognizer_for(settings, vocab)  # what the guide and `hear` open
    commands = None
    if args.command_model == "on":
        from voice_guide.understanding.command_model import open_command_model

        commands = open_command_model(vocab, recognizer, head_path=args.head)
    load_s = time.perf_counter() - t
    ears = Understander(recognizer, vocab, commands=commands)
    if getattr(recognizer, "notice", "") and not args.json:
        print(recognizer.notice)
    if not args.json:
        print(f"{len(vocab.phrases())} phrases in the grammar ({'commands only' if args.no_items else 'commands and library items'})")
    conditions = [(None, None)] if not args.snr else [(args.noise or "fan", s) for s in args.snr]
    report, points = [], []
    for noise, snr in conditions:
        via = recognizer.name + (" + command model" if commands else "")
        label = f"{args.manifest.parent.name}/{args.manifest.name} via {via}" + (f", {noise} noise at {snr:g} dB SNR" if noise else "") + (", as heard live" if args.as_heard else "")
        results = run(clips, ears, noise, snr, heard_live=args.as_heard)
        f = figures(label, results)
        groups = [f]
        if args.split:
            a, b = split_halves(results)
            groups += [figures(label + " [speaker half A]", a), figures(label + " [speaker half B]", b)]
        if args.plain:
            plain, one_word = plain_commands(results)
            groups += [figures(label + " [commands with no argument]", plain),
                       figures(label + " [commands said as one word]", one_word)]
        for g in groups:
            report.append(g.summary())
            if not args.json:
                print_figures(g, confusion=not args.quiet and g is f)
        if snr is not None:
            points.append((snr, f.accuracy, f.false_accept_rate))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.plot and points:
        plot(sorted(points), args.plot, f"{recognizer.name}: {args.manifest.parent.name}, {args.noise or 'fan'} noise")
    if args.json:
        print(json.dumps({"recogniser": recognizer.name, "load_seconds": round(load_s, 2),
                          "peak_memory_mb": round(peak_mb, 1), "results": report}, indent=2))
    else:
        print(f"recogniser {recognizer.name}: loaded in {load_s:.2f} s, peak memory {peak_mb:.0f} MB")
        if args.plot and points:
            print(f"plot written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
