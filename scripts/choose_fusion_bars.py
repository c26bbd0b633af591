"""Choose `fusion.Rule`'s bars on validation voices: training voices a second head never trained on.

    python scripts/train_commands.py --validation --out /tmp/validation-head.npz --card /tmp/validation-head.md
    python scripts/choose_fusion_bars.py --head /tmp/validation-head.npz MANIFEST [MANIFEST ...]
        [--voices VOICE ...] [--grid alone=0.95,0.97 alone_long=0.8,0.9 ...] [--cache FILE] [--limit N]

The bars must never be chosen on the held-out voices the figures are reported for, nor on speech-dev
alone. So a head is trained without `command_corpus.VALIDATION` (`--validation`), and its training
corpora's clips of those voices are heard here as the live guide hears them (cut out by its
endpointer, Whisper's n-best, the pooled embedding the head scores; kept in --cache, so a second
grid or another head costs no decoding). Every combination of --grid's values (`fusion.Rule` fields;
the others as shipped) then decides each clip, and one line per combination prints, fewest wrong
actions first: weak-lip and plain commands acted on right and wrong, and room talk acted on. Pick
the most right at no more wrong actions than the shipped rule gives, then check the choice on
speech-dev (`scripts/eval_commands.py`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from command_corpus import VALIDATION, Row, read_rows  # noqa: E402
from eval_commands import Clip, Figures, Result, as_heard  # noqa: E402
from voice_guide.audio import SPEECH_RATE  # noqa: E402
from voice_guide.engines import Hypothesis  # noqa: E402
from voice_guide.errors import ModelError  # noqa: E402
from voice_guide.fileio import atomic_path  # noqa: E402
from voice_guide.hearing.audio_files import read_utterance  # noqa: E402
from voice_guide.settings import Settings  # noqa: E402
from voice_guide.understanding import whisper_models  # noqa: E402
from voice_guide.understanding.command_model import Head, check_head, key_command  # noqa: E402
from voice_guide.understanding.fusion import RULE, Rule, fuse  # noqa: E402
from voice_guide.understanding.matching import Match, match  # noqa: E402


def group(row: Row) -> str:
    """"weak lips" or "plain": the corpus's condition says whether a clip was said with weak lips."""
    return "weak lips" if row.condition.startswith("palsy") else "plain"


Heard = tuple[list, np.ndarray | None]
"""A clip's n-best and pooled embedding (`hear`)."""


SETTINGS = Settings(recogniser="whisper")
"""The guide's own recogniser, as it ships."""
EMBEDDING = whisper_models.encoder_name(SETTINGS.whisper_model)
"""The embedding its encoder gives, which the cache and every head must be of."""


def load_head(path: Path, vocab) -> Head:
    """The head at `path`, checked for this vocabulary and embedding before anything is heard."""
    try:
        return check_head(Head.load(path), EMBEDDING, vocab)
    except ModelError as err:
        raise SystemExit(f"choose_fusion_bars: {path} cannot be used here: {err}") from err


def hear(rows: list[Row], cache: Path, vocab) -> dict[str, Heard]:
    """Each clip as heard live: Whisper's n-best (text, confidence) and the pooled embedding a head
    scores (None when no utterance was found or Whisper heard no words). No head changes these, so
    --cache keeps them for every head to come: another head costs no decoding."""
    from voice_guide.engine_table import open_recognizer_for
    from voice_guide.understanding.command_model import embedding_of, pool

    heard = _read(cache)
    missing = [r for r in rows if str(r.path) not in heard]
    if missing:
        recognizer = open_recognizer_for(SETTINGS, vocab)
        embedder = embedding_of(recognizer)
        seeds = {str(r.path): i for i, r in enumerate(rows)}  # the same faint room whatever was cached
        for i, row in enumerate(missing):
            audio = as_heard(read_utterance(row.path), seeds[str(row.path)])
            nbest, pooled = [], None
            if audio is not None:
                audio = audio.resample(SPEECH_RATE)
                nbest = [(h.text, h.confidence) for h in recognizer.decode(audio)]
                pooled = pool(embedder.embed(audio)) if nbest else None
            heard[str(row.path)] = (nbest, pooled)
            if (i + 1) % 200 == 0:
                print(f"  heard {i + 1}/{len(missing)}", file=sys.stderr, flush=True)
        _write(cache, heard)
    return heard


def _read(cache: Path) -> dict[str, Heard]:
    """The clips --cache holds, when it was heard through `EMBEDDING`."""
    if not cache.exists():
        return {}
    with np.load(cache, allow_pickle=False) as data:
        if str(data["embedding"]) != EMBEDDING:
            return {}
        nbests, pooled, has = json.loads(str(data["nbest"])), data["pooled"], data["has"]
        return {str(path): (nbest, pooled[i] if has[i] else None)
                for i, (path, nbest) in enumerate(zip(data["paths"], nbests))}


def _write(cache: Path, heard: dict[str, Heard]) -> None:
    paths = list(heard)
    width = next((len(v) for _, v in heard.values() if v is not None), 0)
    pooled = np.zeros((len(paths), width), np.float32)
    for i, path in enumerate(paths):
        if heard[path][1] is not None:
            pooled[i] = heard[path][1]
    cache.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as part, open(part, "wb") as fh:
        np.savez(fh, embedding=np.array(EMBEDDING), paths=np.array(paths), pooled=pooled,
                 nbest=np.array(json.dumps([heard[p][0] for p in paths])),
                 has=np.array([heard[p][1] is not None for p in paths]))


def scored(heard: dict[str, Heard], head: Head) -> dict[str, dict]:
    """Each clip's n-best and the head's scores of it (none where it heard no words)."""
    return {path: {"nbest": nbest,
                   "scores": {} if pooled is None else dict(zip(head.classes, map(float, head.probabilities(pooled))))}
            for path, (nbest, pooled) in heard.items()}


def figures(rows: list[Row], heard: dict[str, dict], rule: Rule, vocab) -> dict[str, list[int]]:
    """Per group: [commands, right, wrong, room talk, room talk acted on], counted as
    `scripts/eval_commands.py` counts them."""
    out = {g: Figures(g) for g in ("weak lips", "plain")}
    for row in rows:
        clip = heard[str(row.path)]
        decided = Match(None, 0.0, "none")
        if clip["nbest"]:
            decided = match([Hypothesis(t, c) for t, c in clip["nbest"]], vocab)
            decided, _ = fuse(decided, {key_command(k): p for k, p in clip["scores"].items()}, vocab, rule)
        said = Clip(row.path, row.transcript, row.speaker, row.kind, key_command(row.label))
        out[group(row)].add(Result(said, decided.decision, decided.command, decided.heard, 0.0))
    return {g: [f.commands, f.right, f.wrong, f.others, f.accepted] for g, f in out.items()}


def grid_rules(specs: list[str]) -> list[Rule]:
    """Every combination of the --grid values, the other fields as shipped."""
    names = {f.name for f in fields(Rule)}
    axes = []
    for spec in specs:
        name, _, values = spec.partition("=")
        if name not in names or not values:
            raise SystemExit(f"choose_fusion_bars: --grid takes FIELD=V1,V2,... with FIELD one of {sorted(names)}")
        kind = type(getattr(RULE, name))
        if kind not in (float, int):
            raise SystemExit(f"choose_fusion_bars: --grid takes numeric fields of fusion.Rule, not {name}")
        axes.append([(name, kind(v)) for v in values.split(",")])
    return [replace(RULE, **dict(combo)) for combo in itertools.product(*axes)] if axes else [RULE]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifests", type=Path, nargs="+", help="training corpora's manifest.csv")
    ap.add_argument("--head", type=Path, required=True, help="a head trained without these voices")
    ap.add_argument("--voices", nargs="+", default=list(VALIDATION))
    ap.add_argument("--grid", nargs="*", default=[], help="FIELD=V1,V2,... of fusion.Rule")
    ap.add_argument("--cache", type=Path, default=Path("validation-heard.npz"),
                    help="what was heard of each clip (n-best, pooled embedding), for any head")
    ap.add_argument("--limit", type=int, help="only the first N clips (a quick look)")
    args = ap.parse_args(argv)

    from voice_guide.content.loader import load_library
    from voice_guide.understanding.vocabulary import build_vocabulary

    vocab = build_vocabulary(load_library().items)
    rows = [r for m in args.manifests for r in read_rows(m, vocab) if r.speaker in args.voices and r.split != "heldout"]
    rows = rows[: args.limit] if args.limit else rows
    if not rows:
        raise SystemExit("choose_fusion_bars: none of these voices' clips are in the manifests")
    rules = grid_rules(args.grid)
    head = load_head(args.head, vocab)
    heard = scored(hear(rows, args.cache, vocab), head)
    print(f"{len(rows)} clips of {len({r.speaker for r in rows})} validation voices")
    print("rule | weak lips right, wrong, room talk acted | plain right, wrong, room talk acted")
    names = [spec.partition("=")[0] for spec in args.grid]
    lines = []
    for rule in rules:
        f = figures(rows, heard, rule, vocab)
        wrong = f["weak lips"][2] + f["plain"][2]
        changed = ", ".join(f"{name}={getattr(rule, name)}" for name in names) or "as shipped"
        cells = " | ".join(f"{g[1]}/{g[0]}, {g[2]}, {g[4]}/{g[3]}" for g in f.values())
        lines.append((wrong, -(f["weak lips"][1] + f["plain"][1]), f"{changed} | {cells}"))
    for *_, line in sorted(lines):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
