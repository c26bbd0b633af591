"""Generate the command model's speech (issue 18): every phrase of the guide's vocabulary and many
things that are not commands, all synthetic, in many voices, with facial-palsy speech, rooms, noise and
the guide's own voice as an echo. Deterministic for a seed; offline.

    python scripts/make_training_corpus.py --out OUT [--quick] [--seed S] [--heldout-only]
        [--engines espeak,piper,kokoro] [--kokoro-voices DIR] [--jobs N] [--scale F] [--phrases P ...]

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
import multiprocessing
import random
import sys
import time
import zlib
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import corpus_text  # noqa: E402
import palsy  # noqa: E402
import rooms  # noqa: E402
from corpus_voices import OUTPUT_RATE, Engines, Voice, all_voices  # noqa: E402

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


def pick_voice(voices: list[Voice], rng: random.Random) -> Voice:
    engines = sorted({v.engine for v in voices})
    weights = [ENGINE_SHARE[e] for e in engines]
    engine = rng.choices(engines, weights)[0]
    return rng.choice([v for v in voices if v.engine == engine])


def training_conditions(clip: Clip, rng: random.Random) -> Clip:
    """Random weak lips, pace, room, noise, echo and level for a training clip."""
    severity = rng.choices([None, "mild", "moderate"], [0.3, 0.35, 0.35])[0] if clip.voice else None
    rate = rng.choices(list(palsy.RATES), [0.5, 0.3, 0.2] if severity else [0.7, 0.2, 0.1])[0]
    room = rng.choices(["dry", "reverb", "far"], [0.4, 0.4, 0.2])[0]
    noise = (rng.choice(list(rooms.NOISES)), rng.choice([0, 5, 10, 15, 20, 30])) if rng.random() < 0.6 else None
    echo = rng.choice([10, 12, 15, 20]) if rng.random() < 0.15 else None
    return replace(clip, severity=severity, rate=rate, room=room, noise=noise, echo_db=echo,
                   peak_db=round(rng.uniform(-30, -3), 1))


def plan_training(labels: dict[str, list[str]], voices: list[Voice], seed: int, scale: float,
                  negatives: bool) -> list[Clip]:
    rng = random.Random(seed_of(seed, "train"))
    train = [v for v in voices if v.split == "train"]
    clips: list[Clip] = []

    def add(text: str, kind: str, command: str, voice: Voice | None, folder: str) -> None:
        n = len(clips)
        clip = Clip(f"train/{folder}/{n:05d}_{slug(text)}.wav", text, voice, kind, command, seed_of(seed, f"t{n}"))
        clips.append(training_conditions(clip, rng))

    low, high = PER_LABEL
    for label, phrases in sorted(labels.items()):
        count = max(1, round(scale * min(high, max(low, 3 * len(phrases)))))
        order = rng.sample(phrases, len(phrases))
        for i in range(count):
            add(order[i % len(order)], "command", label, pick_voice(train, rng), label.replace(":", "-"))
    if negatives:
        said = ([(t, 4) for t in corpus_text.chatter("train")] + [(t, 2) for t in corpus_text.guide_lines("train")]
                + [(t, 4) for t in corpus_text.near_misses("train")])
        for text, times in said[:: max(1, round(1 / scale))]:
            for _ in range(max(1, round(scale * times))):
                add(text, "not-a-command", "", pick_voice(train, rng), "other")
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
    for text, kind, label in said_alone:
        for _ in range(round(scale * SHORT_WORDS) - have[text]):
            add(text, kind, label, pick_voice(train, rng), label.replace(":", "-") if label else "other")
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


# ---- rendering ----------------------------------------------------------------------------------

_WORKER: dict = {}


def _start_worker(kokoro_dir: str | None, echo_file: str | None) -> None:
    _WORKER["engines"] = Engines(Path(kokoro_dir) if kokoro_dir else None)
    _WORKER["echo"] = np.load(echo_file) if echo_file else None


def not_speech(transcript: str, nrng: np.random.Generator, seed: int) -> np.ndarray:
    """A cough, click or breath (make_corpus's), or a stretch of room noise alone."""
    import make_corpus

    what = transcript.strip("[]")
    if what == "noise":
        length = int(nrng.uniform(0.8, 1.6) * OUTPUT_RATE)
        return rooms.NOISES[str(nrng.choice(list(rooms.NOISES)))](length, OUTPUT_RATE, seed) * 0.1
    return {"cough": make_corpus.cough, "click": make_corpus.click, "breath": make_corpus.breath}[what](nrng)


def render(clip: Clip, out: Path) -> float:
    """Render and write one clip; its length in seconds."""
    import soundfile as sf

    from make_corpus import padded

    rng = random.Random(clip.seed)
    nrng = np.random.default_rng(clip.seed)
    if clip.take:
        x, _ = sf.read(out / clip.take, dtype="float32")
        return _write(rooms.at_level(rooms.noisy(x, OUTPUT_RATE, clip.noise[0], clip.noise[1], clip.seed),
                                     clip.peak_db), out / clip.file)
    if clip.voice is None:
        x = not_speech(clip.transcript, nrng, clip.seed)
    else:
        x = _WORKER["engines"].say(clip.transcript, clip.voice, palsy.RATES[clip.rate], clip.severity, rng)
        if clip.severity:
            x = palsy.palsy_sound(x, OUTPUT_RATE, clip.severity, nrng)
    x = padded(np.asarray(x, dtype=np.float32), rng, 0.5)
    if clip.room == "reverb":
        x = rooms.reverberate(x, OUTPUT_RATE, rng.uniform(0.2, 0.6), rng.uniform(2, 10), nrng)
    elif clip.room == "far":
        x = rooms.far_microphone(x, OUTPUT_RATE, nrng)
    if clip.echo_db is not None and _WORKER["echo"] is not None:
        x = rooms.with_echo(x, _WORKER["echo"], clip.echo_db, nrng)
    if clip.noise:
        x = rooms.noisy(x, OUTPUT_RATE, clip.noise[0], clip.noise[1], clip.seed)
    return _write(rooms.at_level(x, clip.peak_db), out / clip.file)


def _write(x: np.ndarray, path: Path) -> float:
    """Write whole or not at all (a rerun renders what is missing); the length in seconds."""
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    sf.write(part, x, OUTPUT_RATE, subtype="PCM_16", format="WAV")
    part.replace(path)
    return len(x) / OUTPUT_RATE


def _render_one(args: tuple[Clip, Path]) -> float:
    return render(*args)


def guide_echo(out: Path, engines: tuple[str, ...]) -> Path | None:
    """The guide's own voice (Piper joe reading a few of its sentences), rendered once for the echoes."""
    if "piper" not in engines:
        return None
    path = out / "echo.npy"
    if not path.exists():
        import corpus_voices

        text = ". ".join(corpus_text.guide_lines("train")[:8]) + "."
        x = corpus_voices.Engines().piper_say(text, 1.0, None, random.Random(0), scales=(0.667, 1.0, 0.8))
        np.save(path, x.astype(np.float32))
    return path


def render_all(clips: list[Clip], out: Path, jobs: int, kokoro_dir: Path | None, echo: Path | None) -> float:
    """Render every clip not yet in `out`: first the new takes, then those made from another take."""
    todo = [c for c in clips if not (out / c.file).exists()]
    seconds, start, done = 0.0, time.perf_counter(), 0
    init = (str(kokoro_dir) if kokoro_dir else None, str(echo) if echo else None)
    # Spawned, not forked: a forked worker inherits the caller's objects without their threads, and a
    # Whisper model the caller had let go of (CTranslate2's thread pool) hung the worker that
    # collected it (a test process).
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn, initializer=_start_worker, initargs=init) as pool:
        for phase in ([c for c in todo if not c.take], [c for c in todo if c.take]):
            for length in pool.map(_render_one, [(c, out) for c in phase], chunksize=8):
                seconds += length
                done += 1
                if done % 250 == 0 or done == len(todo):
                    print(f"  {done}/{len(todo)} clips, {time.perf_counter() - start:.0f} s", flush=True)
    return seconds


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
    clips = plan_heldout(labels, voices, args.seed, scale, negatives)
    if not args.heldout_only:
        clips = plan_training(labels, voices, args.seed, scale, negatives) + clips
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
