"""Tolerant spoken-command matching: recogniser guesses in, one decision out. Pure: no engines.

Speech from a half-moving face is slurred ("nex", "paws", "stawp"), so every n-best guess is scored
against every phrase by exact, fuzzy (rapidfuzz) and phonetic (jellyfish) similarity, weighted by the
guess's confidence and rank. Tolerance is balanced by knowing what is NOT a command: words such as
"left", "cat" or "yesterday" are phrases too, and when one of them fits best nothing happens.

Decisions: "act" (do it), "ask" (two commands fit about as well: "Pause or next?"), "reprompt"
(something command-like but unsure: "Say that again?") and "none" (silence, noise, not a command).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Sequence

from voice_guide.engines import Hypothesis
from voice_guide.understanding.phrases import normalise, similarity, sound_codes
from voice_guide.understanding.vocabulary import Vocabulary, build_vocabulary
from voice_guide.understanding.command import Command

Decision = Literal["act", "ask", "reprompt", "none"]
"""What to do with an utterance: act on it, ask which of two it was, ask to say it again, or nothing."""

ACT = 0.75
"""A command scoring at least this acts (unless another command is within ASK_MARGIN)."""
ASK_FLOOR = ACT
"""Two commands both at least this good and within ASK_MARGIN of each other: ask which. As good as
acting: a question stops what runs, so only a near-tie of two commands that would each have acted
alone earns one; room talk that half-fits two titles ("what time is it") is not asked about."""
ASK_MARGIN = 0.08
REPROMPT = 0.55
"""Below this the utterance is not taken as an attempt at a command at all: "none"."""
RANK_DECAY = 0.92
"""Each later n-best guess counts this much less than the one before it."""
CONFIDENCE_FLOOR = 0.7
"""Weight of a guess with confidence 0; confidence 1 weighs 1. Engines' confidences are rough."""
EXTRA_WORD_PENALTY = 0.07
"""A phrase found inside a longer utterance loses this much per extra word (at most MAX_EXTRA)."""
MAX_EXTRA = 3
NEGATIONS = frozenset({"dont", "not", "never", "cant", "cannot", "shouldnt"})
"""A command word inside a longer negated utterance ("don't stop") is not that command."""


@dataclass(frozen=True)
class Match:
    """The matcher's decision about one utterance."""

    command: Command | None
    """The command to act on ("act"), the best guess ("ask", "reprompt"), or None ("none")."""
    score: float
    """How well the best command fits, 0 to 1, whatever the decision."""
    decision: Decision
    alternatives: tuple[Command, ...] = ()
    """"ask": the two candidates, best first; "reprompt": the best guess, for "Did you mean ...?"."""
    heard: str = ""
    """The normalised words the decision rests on."""
    needs_confirmation: bool = False
    """The command could lose the user's place (risk "confirm"): get a spoken yes before acting."""


@lru_cache(maxsize=1)
def _default_vocabulary() -> Vocabulary:
    return build_vocabulary()


def _candidates(text: str, vocab: Vocabulary) -> dict[Command | None, float]:
    """Similarity of one normalised guess to every command (None: to a known non-command)."""
    if text in vocab.exact:
        return {vocab.exact[text]: 1.0}
    if text in vocab.weak_lips:
        return {vocab.weak_lips[text]: 1.0}
    found: dict[Command | None, float] = {}

    def offer(command: Command | None, score: float) -> None:
        if score > found.get(command, 0.0):
            found[command] = score

    tokens = text.split()
    structured = 0.0
    taught = _taught(text, vocab)
    if taught is not None:
        codes = sound_codes(taught)
        for p in vocab.teach_words:
            score = similarity(taught, p, codes)
            structured = max(structured, score)
            offer(p.command, score)
    if len(tokens) >= 2 and (n := vocab.number(tokens[-1])) is not None:
        prefix = " ".join(tokens[:-1])
        for verb in vocab.verbs:
            if prefix.startswith(verb + " "):
                prefix = prefix[len(verb) + 1 :]
                break
        for p in vocab.prefixes:
            score = similarity(prefix, p)
            structured = max(structured, score)
            offer(Command(p.command.id, n), score)
    for verb in vocab.verbs:
        if text.startswith(verb + " "):
            rest = text[len(verb) + 1 :]
            codes = sound_codes(rest)
            for p in vocab.items:
                score = similarity(rest, p, codes)
                structured = max(structured, score)
                offer(p.command, score)
            if structured < ACT:
                for p in vocab.entries:
                    if p.command is not None:
                        offer(p.command, similarity(rest, p, codes) - EXTRA_WORD_PENALTY)
            break
    codes = sound_codes(text)
    for p in vocab.entries:
        if taught is not None and p.command is not None and p.command.id == "teach" and p.command.arg:
            continue  # the word taught was matched on its own above
        offer(p.command, similarity(text, p, codes))
    if structured < ACT and taught is None:
        _contained(tokens, vocab, offer)
    return found


def _taught(text: str, vocab: Vocabulary) -> str | None:
    """The WORD of "teach me WORD again" / "learn WORD", or None when `text` is not of that form."""
    for prefix in vocab.teach_prefixes:
        if text.startswith(prefix + " "):
            rest = text[len(prefix) + 1 :]
            for suffix in vocab.teach_suffixes:
                if rest.endswith(" " + suffix):
                    rest = rest[: -len(suffix) - 1]
                    break
            return rest or None
    return None


def _contained(tokens: list[str], vocab: Vocabulary, offer) -> None:
    """Phrases said inside a few carrier words ("go to the next one"); the longest span wins."""
    if len(tokens) < 2 or NEGATIONS.intersection(tokens):
        return
    spans = []
    for p in vocab.entries:
        if not p.inside:
            continue
        words = p.text.split()
        k, extra = len(words), len(tokens) - len(words)
        if not 1 <= extra <= MAX_EXTRA:
            continue
        for i in range(extra + 1):
            if tokens[i : i + k] == words and vocab.carriers.issuperset(tokens[:i] + tokens[i + k :]):
                spans.append((i, i + k, p.command, 1.0 - EXTRA_WORD_PENALTY * extra))
    for a, b, command, score in spans:
        if not any(c <= a and b <= d and (d - c) > (b - a) for c, d, _, _ in spans):
            offer(command, score)


def _as_hypotheses(nbest: Sequence[Hypothesis] | str) -> list[Hypothesis]:
    if isinstance(nbest, str):
        return [Hypothesis(nbest)]
    return [h if isinstance(h, Hypothesis) else Hypothesis(str(h)) for h in nbest]


def _confidence(confidence: float) -> float:
    try:
        c = min(1.0, max(0.0, float(confidence)))
    except (TypeError, ValueError):
        c = 0.0
    return 0.0 if c != c else c


def _weight(rank: int, confidence: float) -> float:
    return RANK_DECAY**rank * (CONFIDENCE_FLOOR + (1 - CONFIDENCE_FLOOR) * _confidence(confidence))


def match(nbest: Sequence[Hypothesis] | str, vocab: Vocabulary | None = None) -> Match:
    """Decide what an utterance asked for from the recogniser's n-best guesses (best first)."""
    vocab = vocab or _default_vocabulary()
    best: dict[Command, tuple[float, str, float]] = {}
    """command -> (weighted score, the guess it came from, that guess's non-command score)."""
    rejected = 0.0
    first_heard = ""
    hyps = _as_hypotheses(nbest)
    pooled: dict[Command, float] = {}
    pooled_against = 0.0
    # A recogniser whose confidences are posteriors (they add up to one, as Whisper's do) spreads one
    # word over several spellings ("loud" 0.6, "louder" 0.4): their evidence for a command adds up.
    calibrated = len(hyps) > 1 and abs(sum(_confidence(h.confidence) for h in hyps) - 1.0) < 0.02
    for rank, hyp in enumerate(hyps):
        text = normalise(hyp.text)
        weight = _weight(rank, hyp.confidence)
        first_heard = first_heard or text
        # No words the recogniser knows ("", "[unk]"), or only fillers: something that is not a command.
        found = _candidates(text, vocab) if text else {None: 1.0}
        share = _confidence(hyp.confidence)
        pooled_against += share * found.get(None, 0.0)
        against = found.pop(None, 0.0) * weight
        rejected = max(rejected, against)
        for command, score in found.items():
            pooled[command] = pooled.get(command, 0.0) + share * score
            if score * weight > best.get(command, (0.0, "", 0.0))[0]:
                best[command] = (score * weight, text, against)
    if calibrated:
        for command, score in pooled.items():
            if score > best[command][0]:
                best[command] = (score, best[command][1], pooled_against)
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
    if not ranked:
        return Match(None, 0.0, "none", heard=first_heard)
    top, (s1, heard, against) = ranked[0]
    s1 = round(s1, 4)
    runner = next(((c, s) for c, (s, _, _) in ranked[1:] if c != top), None)
    if s1 < REPROMPT or rejected >= s1:
        return Match(None, s1, "none", heard=first_heard)
    if runner and runner[1] >= ASK_FLOOR and s1 >= ASK_FLOOR and s1 - runner[1] < ASK_MARGIN:
        return Match(top, s1, "ask", (top, runner[0]), heard)
    if s1 >= ACT and s1 - against >= ASK_MARGIN:
        return Match(top, s1, "act", heard=heard, needs_confirmation=vocab.risk(top) == "confirm")
    return Match(top, s1, "reprompt", (top,), heard)
