"""The embedded default recogniser: pocketsphinx 5 with the en-us model its wheel ships.

Decoding is restricted to a finite-state grammar of the command phrases plus a rejection model: a
list of common English words (and the vocabulary's known non-commands) that are NOT close in sound to
any command. A word that is not a command then decodes to one of those and yields no command, instead
of being forced onto the nearest command (an untuned command-only grammar takes nine in ten ordinary
words for commands). Garbage words within `min_distance` phones of a command are left out, so they
never steal that command.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.engines import Hypothesis
from voice_guide.errors import EngineError, ModelError
from voice_guide.hearing.frontend import FrontEnd

LOG = logging.getLogger(__name__)

MIN_SECONDS = 0.1
"""Shorter sounds hold no word (and pocketsphinx fails on an empty buffer)."""


@dataclass(frozen=True)
class Tuning:
    """The general parameters tuned on the development speech (scripts/eval_commands.py)."""

    garbage_words: int = 1500
    """How many of the most common English words form the rejection model (0: none)."""
    min_distance: int = 2
    """Garbage words must differ from every command word by at least this many phones."""
    garbage_share: float = 0.5
    """Grammar probability of taking the garbage branch rather than a command."""
    confidence_scale: float = 1500.0
    """Score gap (logmath units) over which a guess's weight falls by a factor e against the best one."""
    nbest: int = 5
    """Hypotheses returned per utterance."""
    beam: float = 1e-30
    """Pruning beams (pocketsphinx defaults 1e-48 and 7e-29): narrower decode faster, as accurately here."""
    wbeam: float = 1e-20
    bestpath: bool = False
    """pocketsphinx's lattice best-path pass over an FSG search misreads after earlier utterances
    ("help" as "do it", "where" as the unfinished "where am"); the plain Viterbi result does not."""
    max_hmms: int = 1500
    """Most HMMs searched per frame (pocketsphinx maxhmmpf, default 30000): with the library items' ~700
    phrases this halves decode time at the same dev accuracy."""


def load_garbage_words() -> list[str]:
    """The shipped list of common English words, most frequent first."""
    text = resources.files("voice_guide").joinpath("data/garbage_words.txt").read_text(encoding="utf-8")
    return [w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")]


def phone_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Edit distance between two phone sequences."""
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(list(a), list(b))


class PocketsphinxRecognizer:
    """Grammar-restricted pocketsphinx decoding of whole utterances into an n-best list."""

    name = "pocketsphinx"

    def __init__(
        self,
        phrases: Sequence[str],
        non_commands: Sequence[str] = (),
        tuning: Tuning = Tuning(),
        frontend: FrontEnd | None = FrontEnd(),
        model_dir: str | Path | None = None,
    ) -> None:
        try:
            import pocketsphinx
        except ImportError as exc:
            raise EngineError("The pocketsphinx recogniser is not installed; run: pip install pocketsphinx") from exc
        base = Path(model_dir) if model_dir else Path(pocketsphinx.get_model_path()) / "en-us"
        hmm, dic = base / "en-us", base / "cmudict-en-us.dict"
        if not (hmm / "mdef").is_file() or not dic.is_file():
            raise ModelError(f"The pocketsphinx model in {base} is missing or incomplete; reinstall pocketsphinx.")
        self.tuning = tuning
        self.frontend = frontend
        self.notice = ""
        try:
            self._decoder = pocketsphinx.Decoder(hmm=str(hmm), dict=str(dic), lm=None, logfn="/dev/null",
                                                 samprate=SPEECH_RATE, beam=tuning.beam, pbeam=tuning.beam,
                                                 wbeam=tuning.wbeam, maxhmmpf=tuning.max_hmms,
                                                 bestpath=tuning.bestpath)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"The pocketsphinx model in {base} could not be loaded ({exc}); reinstall pocketsphinx.") from exc
        self._prons = _Pronunciations(self._decoder)
        self.phrases, self.dropped = self._known(phrases)
        if not self.phrases:
            raise EngineError("None of the command phrases can be recognised by pocketsphinx.")
        if self.dropped:
            LOG.warning("pocketsphinx cannot say these phrases, left out: %s", ", ".join(self.dropped))
        self._phrase_set = set(self.phrases)
        self.garbage = self._garbage(non_commands)
        transitions = _transitions(self.phrases, self.garbage, tuning.garbage_share if self.garbage else 0.0)
        try:
            fsg = self._decoder.create_fsg("commands", 0, 1, transitions)
            self._decoder.add_fsg("commands", fsg)
            self._decoder.activate_search("commands")
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"pocketsphinx rejected the command grammar ({exc}).") from exc

    def _known(self, phrases: Sequence[str]) -> tuple[list[str], list[str]]:
        known, dropped = [], []
        for phrase in dict.fromkeys(" ".join(p.lower().split()) for p in phrases):
            if phrase and all(w in self._prons for w in phrase.split()):
                known.append(phrase)
            elif phrase:
                dropped.append(phrase)
        return known, dropped

    def _garbage(self, non_commands: Sequence[str]) -> list[str]:
        """Single rejection words: the vocabulary's non-commands, then common words, far from commands."""
        if self.tuning.garbage_words <= 0:
            return []
        command_words = {w for p in self.phrases for w in p.split()}
        command_prons = [pr for w in command_words for pr in self._prons[w]]
        chosen: list[str] = []
        common = load_garbage_words()[: self.tuning.garbage_words]
        near = self.tuning.min_distance
        for word in [w for nc in non_commands for w in nc.lower().split()] + common:
            if word in command_words or word in chosen or word not in self._prons:
                continue
            if any(abs(len(p) - len(c)) < near and phone_distance(p, c) < near
                   for p in self._prons[word] for c in command_prons):
                continue
            chosen.append(word)
        return chosen

    def decode(self, audio: Audio) -> list[Hypothesis]:
        """Decode one utterance; garbage and incomplete paths come back as an empty guess."""
        if self.frontend is not None:
            audio = self.frontend.prepare(audio)
        elif audio.rate != SPEECH_RATE:
            audio = audio.resample(SPEECH_RATE)
        if audio.duration < MIN_SECONDS:
            return []
        d = self._decoder
        try:
            d.start_utt()
            d.process_raw(audio.to_pcm16(), full_utt=True)
            d.end_utt()
        except (RuntimeError, IndexError) as exc:
            raise EngineError(f"pocketsphinx failed while decoding ({exc}).") from exc
        best = d.hyp()
        if best is None or not best.hypstr:
            return []
        scored: dict[str, float] = {}
        for hyp, _ in zip(d.nbest() or (), range(self.tuning.nbest * 4)):
            if hyp is None:
                continue
            text = self._clean(hyp.hypstr)
            score = d.logmath.log(hyp.score) if hyp.score > 0 else -math.inf
            if text not in scored or score > scored[text]:
                scored[text] = score
        top = self._clean(best.hypstr)
        scored.setdefault(top, max(scored.values(), default=0.0))
        return self._calibrated(top, scored)

    def _clean(self, hypstr: str) -> str:
        text = " ".join(w for w in hypstr.split() if not w.startswith(("<", "[", "++")))
        text = re.sub(r"\(\d+\)", "", text)
        return text if text in self._phrase_set else ""

    def _calibrated(self, top: str, scored: dict[str, float]) -> list[Hypothesis]:
        """Confidence from the margin to the other guesses: softmax of scores, best first."""
        ref = scored[top]
        weights = {t: math.exp(max(-50.0, (s - ref) / self.tuning.confidence_scale)) for t, s in scored.items()}
        weights[top] = max(weights.values())
        total = sum(weights.values()) or 1.0
        order = [top] + sorted((t for t in weights if t != top), key=lambda t: -weights[t])
        out = [Hypothesis(t, round(weights[t] / total, 4)) for t in order[: self.tuning.nbest]]
        if out[0].text == "":
            return [out[0]]
        return [h for h in out if h.text]


class _Pronunciations:
    """Word -> phone sequences, looked up in the decoder's own dictionary (fast, C) as needed."""

    def __init__(self, decoder) -> None:
        self._decoder = decoder
        self._cache: dict[str, list[tuple[str, ...]]] = {}

    def __contains__(self, word: str) -> bool:
        return bool(self[word])

    def __getitem__(self, word: str) -> list[tuple[str, ...]]:
        if word not in self._cache:
            prons = []
            for variant in [word] + [f"{word}({i})" for i in range(2, 5)]:
                phones = self._decoder.lookup_word(variant)
                if not phones:
                    break
                prons.append(tuple(phones.split()))
            self._cache[word] = prons
        return self._cache[word]


class _Node:
    __slots__ = ("children", "ends", "mass")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.ends = 0
        self.mass = 0


def _transitions(phrases: Sequence[str], garbage: Sequence[str], share: float) -> list[tuple]:
    """FSG arcs from state 0 to final state 1. Phrases form a prefix tree ("go", "go on", "go back"
    share one "go" arc), which keeps the search small and fast with hundreds of phrases; each garbage
    word is one arc. Every phrase is equally likely; garbage words share `share` of the mass."""
    root = _Node()
    for phrase in phrases:
        node = root
        node.mass += 1
        for word in phrase.split():
            node = node.children.setdefault(word, _Node())
            node.mass += 1
        node.ends += 1
    arcs: list[tuple] = []
    next_state = 2
    todo = [(root, 0, 1.0 - share)]
    while todo:
        node, state, scale = todo.pop()
        for word, child in node.children.items():
            p = scale * child.mass / node.mass
            if not child.children:
                arcs.append((state, 1, p, word))
                continue
            arcs.append((state, next_state, p, word))
            if child.ends:
                arcs.append((next_state, 1, child.ends / child.mass))
            todo.append((child, next_state, 1.0))
            next_state += 1
    for word in garbage:
        arcs.append((0, 1, share / len(garbage), word))
    return arcs
