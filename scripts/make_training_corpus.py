"""Generate the command model's speech (issue 18): every phrase of the guide's vocabulary and many
things that are not commands, all synthetic, in many voices, with facial-palsy speech, rooms, noise and
the guide's own voice as an echo. Deterministic for a seed; offline.

    python scripts/make_training_corpus.py --out OUT [--quick] [--seed S] [--heldout-only]
        [--engines espeak,piper,kokoro] [--kokoro-voices DIR] [--jobs N] [--scale F] [--phrases P ...]
        [--kind standard|weak-lips]

Writes 16 kHz mono WAVs, OUT/manifest.csv (file,transcript,speaker,kind,command,engine,condition,split),
one manifest per held-out set that scripts/eval_commands.py reads (OUT/heldout-palsy.csv: the vocabulary
and held-out chatter with weak lips in held-out voices, mild and moderate; heldout-clean.csv and
heldout-noisy12.csv: the vocabulary in held-out voices, clean and with room noise at 12 dB SNR;
heldout-chatter.csv: held-out room talk and the guide's own sentences) and OUT/datacard.md.
`command` is the meaning the vocabulary gives the phrase: "next", "open:self-massage", "step:3",
"teach:pause"; empty for what is not a command. Kokoro's 28 English voices are taken from the folder
--kokoro-voices DIR, fetched there first when they are not (scripts/fetch_kokoro_voices.sh --all DIR).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import corpus_text  # noqa: E402
import palsy  # noqa: E402
import rooms  # noqa: E402
from corpus_render import guide_echo, render_all  # noqa: E402
from corpus_voices import Voice, all_voices, fresh_voice  # noqa: E402

COLUMNS = ["file", "transcript", "speaker", "kind", "command", "engine", "condition", "split"]
ENGINES = ("espeak", "piper", "kokoro")
ENGINE_SHARE = {"kokoro": 0.3, "espeak": 0.5, "piper": 0.2}
"""How training clips are spread over the engines. Clips are planned for all engines and those of an
engine left out (--engines) are dropped, so a corpus without one is the same corpus less its clips."""
PER_LABEL = (48, 96)
"""Training clips per meaning: three per phrase, at least the first figure, at most the second."""
SHORT_WORDS = 16
"""Training clips at least for every one-word phrase, command or near miss ("up", "stop", "left"), topped
up after the rest. A meaning's share is spread over its phrases, so a meaning with thirty phrases gave
"stop" said alone 3 clips a corpus and "up" 6, while real speech is mostly such single words (speech-dev's
missed commands were 9 real "up", 3 "down" and a "stop"). Near misses are topped up alike, so a short
word alone does not come to mean a command."""
HELDOUT_PER_LABEL = {"palsy": 6, "clean": 3}
PLAIN_PACE = (0.7, 0.2, 0.1)
"""How often speech without weak lips is said at a normal, slow and very slow pace."""


@dataclass(frozen=True)
class Kind:
    """What a corpus is drawn for (--kind)."""

    severity: tuple[float, float, float]
    """How often a training clip has no, mild and moderate weak lips."""
    pace: tuple[float, float, float]
    """How often weak lips are said at a normal, slow and very slow pace (plain speech: PLAIN_PACE)."""
    engine_share: dict[str, float]
    fresh_speakers: bool
    """Each Kokoro and espeak-ng clip in a speaker drawn for it (`corpus_voices.fresh_voice`), not one
    of the corpus's few."""
    negatives: tuple[int, int, int, int]
    """Takes of each line of room talk, of the guide's sentences, of near misses and of
    `corpus_text.NEAR_TALK` (room talk with a command's word in it)."""
    heldout: bool
    """Whether the corpus also holds the held-out sets."""


KINDS = {
    "standard": Kind((0.3, 0.35, 0.35), (0.5, 0.3, 0.2), ENGINE_SHARE, False, (4, 2, 4, 0), True),
    "weak-lips": Kind((0.1, 0.4, 0.5), (0.3, 0.35, 0.35), {"kokoro": 0.5, "espeak": 0.45, "piper": 0.05}, True,
                      (1, 1, 2, 6), False),
}
"""standard: the voices, phrases and kinds of speech the model is for. weak-lips: more speakers with
weak lips, more often slow (the held-out weak lips missed 44 of 108 no-argument commands said very
slowly, 10 of 108 at a normal pace), and the room talk that sounds most like a command."""
SOUNDS = ("cough", "click", "breath")


@dataclass(frozen=True)
class Clip:
    """One clip to render: what is said, by whom, and what happens to it on the way to the microphone."""

    file: str
    transcript: str
    voice: Voice | None
    """None for a sound that is not speech (noise alone, a cough)."""
    kind: str
    command: str
    seed: int
    severity: str | None = None
    rate: str = "normal"
    room: str = "dry"
    """dry, reverb or far"""
    noise: tuple[str, int] | None = None
    echo_db: int | None = None
    peak_db: float = -6.0
    sets: tuple[str, ...] = ()
    """The held-out manifests this clip belongs to."""
    take: str | None = None
    """Another clip's file: this one is that take with its noise added, not rendered again."""

    @property
    def split(self) -> str:
        return self.voice.split if self.voice else ("heldout" if self.sets else "train")

    @property
    def condition(self) -> str:
        parts = [f"palsy-{self.severity}" if self.severity else "plain", self.rate, self.room]
        if self.noise:
            parts.append(f"{self.noise[0]}{self.noise[1]}")
        if self.echo_db is not None:
            parts.append(f"echo{self.echo_db}")
        return "+".join(parts)

    def row(self) -> dict[str, str]:
        return {"file": self.file, "transcript": self.transcript,
                "speaker": self.voice.name if self.voice else "none", "kind": self.kind, "command": self.command,
                "engine": self.voice.engine if self.voice else "none", "condition": self.condition,
                "split": self.split}


# ---- the plan (pure) ------------------------------------------------------------------------

def labelled_phrases(only: list[str] | None = None) -> dict[str, list[str]]:
    """Every vocabulary phrase (commands, item names alone and after a verb, steps, suggestions,
    teaching) grouped by the meaning the matcher gives it."""
    from voice_guide.content.loader import load_library
    from voice_guide.understanding.matching import match
    from voice_guide.understanding.vocabulary import build_vocabulary

    vocab = build_vocabulary(load_library().items)
    out: dict[str, list[str]] = defaultdict(list)
    for phrase in only or vocab.phrases():
        m = match(phrase, vocab)
        if m.decision != "act" or m.command is None:
            raise ValueError(f"{phrase!r} is not a command of the vocabulary")
        out[str(m.command)].append(phrase)
    return dict(out)


def seed_of(seed: int, name: str) -> int:
    return zlib.crc32(f"{seed}:{name}".encode())


def slug(text: str) -> str:
    return "_".join("".join(c if c.isalnum() else " " for c in text.lower()).split())[:40] or "sound"


def pick_voice(voices: list[Voice], rng: random.Random, kind: Kind = KINDS["standard"]) -> Voice:
    engines = sorted({v.engine for v in voices})
    weights = [kind.engine_share[e] for e in engines]
    engine = rng.choices(engines, weights)[0]
    if kind.fresh_speakers and engine != "piper":
        return fresh_voice(engine, rng)
    return rng.choice([v for v in voices if v.engine == engine])


def training_conditions(clip: Clip, rng: random.Random, kind: Kind = KINDS["standard"]) -> Clip:
    """Random weak lips, pace, room, noise, echo and level for a training clip."""
    severity = rng.choices([None, "mild", "moderate"], kind.severity)[0] if clip.voice else None
    rate = rng.choices(list(palsy.RATES), kind.pace if severity else PLAIN_PACE)[0]
    room = rng.choices(["dry", "reverb", "far"], [0.4, 0.4, 0.2])[0]
    noise = (rng.choice(list(rooms.NOISES)), rng.choice([0, 5, 10, 15, 20, 30])) if rng.random() < 0.6 else None
    echo = rng.choice([10, 12, 15, 20]) if rng.random() < 0.15 else None
    return replace(clip, severity=severity, rate=rate, room=room, noise=noise, echo_db=echo,
                   peak_db=round(rng.uniform(-30, -3), 1))


def plan_training(labels: dict[str, list[str]], voices: list[Voice], seed: int, scale: float,
                  negatives: bool, kind: Kind = KINDS["standard"]) -> list[Clip]:
    rng = random.Random(seed_of(seed, "train"))
    train = [v for v in voices if v.split == "train"]
    clips: list[Clip] = []

    def add(text: str, what: str, command: str, voice: Voice | None, folder: str) -> None:
        n = len(clips)
        clip = Clip(f"train/{folder}/{n:05d}_{slug(text)}.wav", text, voice, what, command, seed_of(seed, f"t{n}"))
        clips.append(training_conditions(clip, rng, kind))

    low, high = PER_LABEL
    for label, phrases in sorted(labels.items()):
        count = max(1, round(scale * min(high, max(low, 3 * len(phrases)))))
        order = rng.sample(phrases, len(phrases))
        for i in range(count):
            add(order[i % len(order)], "command", label, pick_voice(train, rng, kind), label.replace(":", "-"))
    if negatives:
        talk, guide, near, near_talk = kind.negatives
        said = ([(t, talk) for t in corpus_text.chatter("train")]
                + [(t, guide) for t in corpus_text.guide_lines("train")]
                + [(t, near) for t in corpus_text.near_misses("train")])[:: max(1, round(1 / scale))]
        for text, times in said + [(t, near_talk) for t in corpus_text.NEAR_TALK if near_talk]:
            for _ in range(max(1, round(scale * times))):
                add(text, "not-a-command", "", pick_voice(train, rng, kind), "other")
        for i in range(max(1, round(scale * 40))):
            add(f"[{rng.choice(SOUNDS + ('noise',))}]", "not-a-command", "", None, "other")
    said_alone = [(p, "command", label) for label, phrases in sorted(labels.items()) for p in phrases
                  if len(p.split()) == 1]
    if negatives:
        said_alone += [(w, "not-a-command", "") for w in corpus_text.near_misses("train") if len(w.split()) == 1]
    rng = random.Random(seed_of(seed, "short"))
    have = defaultdict(int)
    for clip in clips:
        have[clip.transcript] += 1
    for text, what, label in said_alone:
        for _ in range(round(scale * SHORT_WORDS) - have[text]):
            add(text, what, label, pick_voice(train, rng, kind), label.replace(":", "-") if label else "other")
    return clips


def plan_heldout(labels: dict[str, list[str]], voices: list[Voice], seed: int, scale: float,
                 negatives: bool) -> list[Clip]:
    """The held-out sets, the same for every run with the same voices: each meaning in held-out voices
    with weak lips (mild and moderate, at every pace) and plainly, the plain ones again with noise at
    12 dB; held-out chatter with weak lips; held-out chatter and guide sentences plainly."""
    held = [v for v in voices if v.split == "heldout"]
    if not held:
        return []
    clips: list[Clip] = []
    n = 0

    def add(text: str, kind: str, command: str, voice: Voice | None, sets: tuple[str, ...], **how) -> Clip:
        nonlocal n
        folder = sets[0].removeprefix("heldout-")
        clip = Clip(f"heldout/{folder}/{n:05d}_{slug(text)}.wav", text, voice, kind, command,
                    seed_of(seed, f"h{n}"), sets=sets, **how)
        n += 1
        clips.append(clip)
        return clip

    turn = 0
    for k, (label, phrases) in enumerate(sorted(labels.items())):
        for i in range(max(2, round(scale * HELDOUT_PER_LABEL["palsy"]))):
            add(phrases[turn % len(phrases)], "command", label, held[(k + i) % len(held)], ("heldout-palsy",),
                severity=("mild", "moderate")[i % 2], rate=list(palsy.RATES)[(i // 2 + k) % 3],
                room=("dry", "reverb")[(i // 2 + k) % 2], peak_db=-12.0)
            turn += 1
        for i in range(max(1, round(scale * HELDOUT_PER_LABEL["clean"]))):
            clean = add(phrases[(turn + 1) % len(phrases)], "command", label, held[(k + 2 * i + 1) % len(held)],
                        ("heldout-clean",), peak_db=-9.0)
            noisy = add(clean.transcript, "command", label, clean.voice, ("heldout-noisy12",), peak_db=-9.0,
                        noise=(list(rooms.NOISES)[turn % 3], 12))
            clips[-1] = replace(noisy, take=clean.file)
            turn += 1
    if negatives:
        step = max(1, round(1 / scale))  # a smaller scale keeps every step-th line

        def lines(*parts: list[str]) -> list[str]:
            return [t for part in parts for t in part][::step]

        for i, text in enumerate(lines(corpus_text.chatter("heldout"), corpus_text.near_misses("heldout"))):
            add(text, "not-a-command", "", held[i % len(held)], ("heldout-palsy",),
                severity=("mild", "moderate")[i % 2], rate=list(palsy.RATES)[i % 3], peak_db=-12.0)
        for i, text in enumerate(lines(corpus_text.chatter("heldout"), corpus_text.guide_lines("heldout"))):
            for j in range(2):
                add(text, "not-a-command", "", held[(i + 3 * j) % len(held)], ("heldout-chatter",),
                    room=("dry", "reverb")[j], peak_db=-9.0)
        for i in range(max(4, round(12 * scale))):
            add(f"[{(SOUNDS + ('noise',))[i % 4]}]", "not-a-command", "", None, ("heldout-chatter",), peak_db=-15.0,
                noise=(list(rooms.NOISES)[i % 3], 0) if i % 4 == 3 else None)
    return clips


# ---- manifests and data card --------------------------------------------------------------------

def write_manifest(path: Path, clips: list[Clip]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, COLUMNS)
        writer.writeheader()
        writer.writerows(c.row() for c in clips)


def write_manifests(out: Path, clips: list[Clip]) -> dict[str, int]:
    write_manifest(out / "manifest.csv", clips)
    sets = sorted({s for c in clips for s in c.sets})
    for name in sets:
        write_manifest(out / f"{name}.csv", [c for c in clips if name in c.sets])
    return {name: sum(name in c.sets for c in clips) for name in sets}


def fetch_kokoro_voices(folder: Path) -> None:
    """Kokoro's 28 English voices from npm kokoro-js (scripts/fetch_kokoro_voices.sh, which installs
    nodejs and npm when missing and checks what it takes), unless `folder` already holds them."""
    import subprocess

    from corpus_voices import KOKORO_VOICES

    if not all((folder / f"{name}.bin").is_file() for name in KOKORO_VOICES):
        subprocess.run(["bash", str(ROOT / "scripts" / "fetch_kokoro_voices.sh"), "--all", str(folder)], check=True)


def main(argv: list[str] | None = None) -> int:
    from datacard import datacard

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--quick", action="store_true", help="a small corpus for development (a tenth of each count)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every count")
    ap.add_argument("--heldout-only", action="store_true", help="only the held-out sets")
    ap.add_argument("--engines", default="espeak,piper,kokoro")
    ap.add_argument("--kokoro-voices", type=Path, help="folder of kokoro-js voices/*.bin (fetch_kokoro_voices.sh --all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--phrases", nargs="*", help="only these vocabulary phrases (default: all)")
    ap.add_argument("--no-negatives", action="store_true", help="no chatter, near misses or sounds")
    ap.add_argument("--kind", choices=sorted(KINDS), default="standard", help="what the corpus is drawn for (KINDS)")
    args = ap.parse_args(argv)
    engines = tuple(e for e in args.engines.split(",") if e)
    if "kokoro" in engines and not args.kokoro_voices:
        ap.error("kokoro needs --kokoro-voices DIR (its 28 English voices are fetched there when missing), "
                 "or leave it out of --engines")
    if "kokoro" in engines:
        fetch_kokoro_voices(args.kokoro_voices)
    if ROOT in args.out.resolve().parents:
        ap.error("write corpora outside the repo")
    scale = args.scale * (0.1 if args.quick else 1.0)
    start = time.perf_counter()
    labels = labelled_phrases(args.phrases)
    voices = all_voices(ENGINES, args.seed)
    negatives = not args.no_negatives
    kind = KINDS[args.kind]
    clips = plan_heldout(labels, voices, args.seed, scale, negatives) if kind.heldout else []
    if not args.heldout_only:
        clips = plan_training(labels, voices, args.seed, scale, negatives, kind) + clips
    clips = [c for c in clips if c.voice is None or c.voice.engine in engines]
    voices = [v for v in voices if v.engine in engines]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{len(clips)} clips for {len(labels)} meanings in {len(voices)} voices ({', '.join(engines)})", flush=True)
    seconds = render_all(clips, args.out, args.jobs, args.kokoro_voices, guide_echo(args.out, engines))
    sets = write_manifests(args.out, clips)
    card = datacard(clips, labels, engines, sets, time.perf_counter() - start, seconds, args)
    (args.out / "datacard.md").write_text(card, encoding="utf-8")
    print(card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
