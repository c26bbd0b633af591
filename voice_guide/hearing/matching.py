"""Tolerant spoken-command matching: recogniser guesses in, one decision out. Pure: no engines.

Speech from a half-moving face is slurred ("nex", "paws", "stawp"), so every n-best guess is scored
against every phrase by exact, fuzzy (rapidfuzz) and phonetic (jellyfish) similarity, weighted by the
guess's confidence and rank. Tolerance is balanced by knowing what is NOT a command: words such as
"left", "cat" or "yesterday" are phrases too, and when one of them fits best nothing happens.

Decisions: "act" (do it), "ask" (two commands fit about as well: "Pause or next?"), "reprompt"
(something command-like but unsure: "Say that again?") and "none" (silence, noise, not a command).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable, Literal, Sequence

import jellyfish
from rapidfuzz import fuzz

from voice_guide.content.model import Item
from voice_guide.engines import Hypothesis
from voice_guide.errors import ContentError
from voice_guide.session.events import Do as Command

Decision = Literal["act", "ask", "reprompt", "none"]
"""What to do with an utterance: act on it, ask which of two it was, ask to say it again, or nothing."""

ACT = 0.75
"""A command scoring at least this acts (unless another command is within ASK_MARGIN)."""
ASK_FLOOR = 0.65
"""Two commands both at least this good and within ASK_MARGIN of each other: ask which."""
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
WORD_COUNT_PENALTY = 0.1
"""A near miss with more or fewer words than the phrase ("what time is it" for "what is it") loses this
much per word of difference: slurring blurs sounds, it rarely adds or drops whole words."""

FILLERS = (
    "um", "umm", "uh", "uhh", "er", "erm", "ehm", "please", "could you", "can you", "would you",
    "will you", "just", "now", "the guide", "voice guide", "guide", "i want to", "i would like to",
    "id like to", "lets", "kindly", "the", "a", "an",
)
"""Words that carry no command; removed before matching (phrases are normalised the same way)."""
NEGATIONS = frozenset({"dont", "not", "never", "cant", "cannot", "shouldnt"})
"""A command word inside a longer negated utterance ("don't stop") is not that command."""
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "won": 1, "to": 2, "too": 2, "tree": 3, "free": 3, "for": 4, "fore": 4, "ate": 8,
}
"""Number words, with the homophones a recogniser writes for them."""

_NUMBER_NAMES = {n: w for w, n in reversed(NUMBER_WORDS.items())} | {0: "zero"}
_TAG_RE = re.compile(r"\[[^\]]*\]|<[^>]*>|\+\+[^+]*\+\+|\(\d+\)")
_FILLER_RE = re.compile(r"\b(?:" + "|".join(sorted(FILLERS, key=len, reverse=True)) + r")\b")


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


_DEVOICE = str.maketrans("bdgvz", "ptkfs")
"""Slurred speech blurs voiced and voiceless consonants ("stob", "bause"); sounds are compared both
as heard and with the pairs folded together."""


def _codes(text: str) -> tuple[str, ...]:
    """Phonetic spellings of `text`: metaphone and match-rating codes, plain and devoiced."""
    out = []
    for spelling in (text, text.translate(_DEVOICE)):
        for code in (jellyfish.metaphone, jellyfish.match_rating_codex):
            words = []
            for word in spelling.split():
                try:
                    words.append(code(word))
                except (ValueError, IndexError):
                    words.append(word)
            out.append(" ".join(words))
    return tuple(out)


@dataclass(frozen=True)
class _Phrase:
    text: str
    command: Command | None
    """None for a known non-command."""
    codes: tuple[str, ...]
    exact_only: bool = False
    """Counts only when heard exactly (lookalikes such as "yesterday")."""
    inside: bool = True
    """May be found inside a longer utterance (not so for function words such as "it")."""

    @classmethod
    def of(cls, text: str, command: Command | None, exact_only=False, inside=True) -> "_Phrase":
        return cls(text, command, _codes(text), exact_only, inside)


def spoken(text: str) -> str:
    """Lower-case words as a recogniser writes them: no tags ("[unk]", "<sil>"), no punctuation but
    inner apostrophes ("don't"), numbers up to twenty as words. The form recogniser grammars get."""
    text = _TAG_RE.sub(" ", str(text))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9']+", " ", text.replace("’", "'"))
    words = []
    for word in text.split():
        word = word.strip("'")
        if word.isdigit() and int(word) in _NUMBER_NAMES:
            word = _NUMBER_NAMES[int(word)]
        if word:
            words.append(word)
    return " ".join(words)


def normalise(text: str) -> str:
    """The words that matter: `spoken` without apostrophes and fillers ("um", "please", "the"), and
    with repetitions folded ("yes yes yes", "no no", "oh no oh no"): recognisers, Whisper most of all,
    write a word said once, slowly, several times."""
    text = _FILLER_RE.sub(" ", spoken(text).replace("'", ""))
    return " ".join(_fold_repeats(text.split()))


def _fold_repeats(words: list[str]) -> list[str]:
    folded = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]
    n = len(folded)
    for size in range(1, n // 2 + 1):
        if n % size == 0 and folded == folded[:size] * (n // size):
            return folded[:size]
    return folded


def similarity(heard: str, phrase: _Phrase) -> float:
    """1.0 for the same words; otherwise half spelling (rapidfuzz), half sound (jellyfish codes),
    capped below an exact hit."""
    return _similarity(heard, _codes(heard), phrase)


def _similarity(heard: str, codes: tuple[str, ...], phrase: _Phrase) -> float:
    if heard == phrase.text:
        return 1.0
    if not heard or not phrase.text or phrase.exact_only:
        return 0.0
    spelling = max(fuzz.ratio(heard, phrase.text), fuzz.token_sort_ratio(heard, phrase.text)) / 100
    plain = (fuzz.ratio(codes[0], phrase.codes[0]) + fuzz.ratio(codes[1], phrase.codes[1])) / 200
    devoiced = (fuzz.ratio(codes[2], phrase.codes[2]) + fuzz.ratio(codes[3], phrase.codes[3])) / 200
    extra = abs(heard.count(" ") - phrase.text.count(" "))
    return min(0.97, 0.5 * spelling + 0.5 * max(plain, devoiced)) - WORD_COUNT_PENALTY * extra


class Vocabulary:
    """Every phrase the guide understands, and every phrase it knows is not a command."""

    def __init__(self, data: dict, items: Iterable[Item] = ()) -> None:
        try:
            self._risk = {cid: spec.get("risk", "safe") for cid, spec in data["commands"].items()}
            self._risk["open"] = data["open"].get("risk", "confirm")
            self._risk["step"] = self._risk["suggestion"] = data["numbers"].get("risk", "safe")
            verbs = [spoken(v) for v in data["open"]["verbs"]]
            self._grammar_verbs = verbs[: int(data["open"].get("grammar_verbs", len(verbs)))]
            self._verbs = sorted({normalise(v) for v in verbs}, key=len, reverse=True)
            self._number_range = (int(data["numbers"]["min"]), int(data["numbers"]["max"]))
            prefixes = data["numbers"]["prefixes"]
            self._decoys = [spoken(w) for w in data["non_commands"]["words"]]
            self._function_words = [spoken(w) for w in data["non_commands"]["function_words"]]
            self._lookalikes = [spoken(w) for w in data["non_commands"]["lookalikes"]]
            commands = {cid: spec["phrases"] for cid, spec in data["commands"].items()}
            teach = data.get("teach", {})
            teach_forms = [spoken(f) for f in teach.get("forms", ())]
            teach_words = [spoken(w) for w in teach.get("words", ())]
            self.carriers = frozenset(normalise(w) for w in data.get("contained", {}).get("carriers", ()))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ContentError(f"commands.toml: {exc} is missing or malformed; restore the file.") from exc
        self._spoken: list[str] = []
        self._item_spoken: list[str] = []
        self.entries: list[_Phrase] = []
        """Every whole-utterance phrase, each meaning exactly one command (or None)."""
        self.items: list[_Phrase] = []
        """Item names, titles and aliases, also those a command phrase shadows ("open help")."""
        seen: dict[str, Command | None] = {}

        def add(text: str, command: Command | None, **flags) -> bool:
            key = normalise(text)
            if not key or key in seen:
                return False
            seen[key] = command
            self.entries.append(_Phrase.of(key, command, **flags))
            return True

        for cid, phrases in commands.items():
            for phrase in phrases:
                add(phrase, Command(cid))
                self._spoken.append(spoken(phrase))
        for form in teach_forms:
            for word in teach_words:
                phrase = form.replace("word", word)
                add(phrase, Command("teach", word))
                self._spoken.append(phrase)
        parts = [tuple(normalise(part) for part in form.split("word", 1)) for form in teach_forms]
        self.teach_prefixes = sorted({a for a, _ in parts if a}, key=len, reverse=True)
        self.teach_suffixes = sorted({b for _, b in parts if b}, key=len, reverse=True)
        self.teach_words = [_Phrase.of(normalise(w), Command("teach", w)) for w in teach_words]
        """"teach me WORD again": the WORD is matched on its own, as tolerantly as a command said alone."""
        for item in items:
            command = Command("open", item.name)
            for text in (item.name.replace("-", " "), item.title, *item.aliases):
                key = normalise(text)
                if key and all(p.text != key for p in self.items):
                    self.items.append(_Phrase.of(key, command))
                    self._item_spoken.append(spoken(text))
                if add(text, command):
                    self._spoken.append(spoken(text))
        for word in self._decoys:
            add(word, None)
        for word in self._function_words:
            add(word, None, inside=False)
        for word in self._lookalikes:
            add(word, None, exact_only=True)
        self.exact = {p.text: p.command for p in self.entries}
        self.prefixes = [_Phrase.of(normalise(p), Command(kind)) for kind, ps in prefixes.items() for p in ps]
        low, high = self._number_range
        self._numbered = [
            f"{spoken(p)} {_NUMBER_NAMES[n]}"
            for ps in prefixes.values()
            for p in ps
            for n in range(low, high + 1)
        ]

    def phrases(self) -> list[str]:
        """Every phrase that means something, as `spoken` writes it, for recogniser grammars:
        commands, item names alone and after an opening verb, numbered steps and suggestions."""
        opened = [
            f"{verb} {name}"
            for name in self._item_spoken
            for verb in self._grammar_verbs
            if not any(name.startswith(v + " ") for v in self._grammar_verbs)
        ]
        return list(dict.fromkeys(self._spoken + opened + self._numbered))

    def short_commands(self) -> list[str]:
        """Every one-word command phrase ("up", "pause", "yes"): what a recogniser that rescores
        unclear words against the audio (Whisper) compares them with."""
        return [p.text for p in self.entries if p.command is not None and " " not in p.text]

    def non_commands(self, grammar_safe: bool = False) -> list[str]:
        """Known non-commands; `grammar_safe` leaves out lookalikes that would steal real commands
        if listed in a recogniser grammar."""
        words = self._decoys + self._function_words
        return list(dict.fromkeys(words if grammar_safe else words + self._lookalikes))

    def words(self) -> list[str]:
        """Every single word in phrases() and non_commands(grammar_safe=True), sorted."""
        return sorted({w for p in self.phrases() + self.non_commands(True) for w in p.split()})

    def risk(self, command: Command) -> str:
        return self._risk.get(command.id, "safe")

    @property
    def verbs(self) -> list[str]:
        return list(self._verbs)

    def number(self, token: str) -> int | None:
        value = int(token) if token.isdigit() else NUMBER_WORDS.get(token)
        low, high = self._number_range
        return value if value is not None and low <= value <= high else None


@lru_cache(maxsize=1)
def _command_data() -> dict:
    text = resources.files("voice_guide").joinpath("data/commands.toml").read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"commands.toml: {exc}; restore the file.") from exc


def build_vocabulary(items: Iterable[Item] = ()) -> Vocabulary:
    """The command vocabulary from commands.toml plus the names, titles and aliases of `items`."""
    return Vocabulary(_command_data(), items)


@lru_cache(maxsize=1)
def _default_vocabulary() -> Vocabulary:
    return build_vocabulary()


def _candidates(text: str, vocab: Vocabulary) -> dict[Command | None, float]:
    """Similarity of one normalised guess to every command (None: to a known non-command)."""
    if text in vocab.exact:
        return {vocab.exact[text]: 1.0}
    found: dict[Command | None, float] = {}

    def offer(command: Command | None, score: float) -> None:
        if score > found.get(command, 0.0):
            found[command] = score

    tokens = text.split()
    structured = 0.0
    taught = _taught(text, vocab)
    if taught is not None:
        codes = _codes(taught)
        for p in vocab.teach_words:
            score = _similarity(taught, codes, p)
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
            codes = _codes(rest)
            for p in vocab.items:
                score = _similarity(rest, codes, p)
                structured = max(structured, score)
                offer(p.command, score)
            if structured < ACT:
                for p in vocab.entries:
                    if p.command is not None:
                        offer(p.command, _similarity(rest, codes, p) - EXTRA_WORD_PENALTY)
            break
    codes = _codes(text)
    for p in vocab.entries:
        if taught is not None and p.command is not None and p.command.id == "teach" and p.command.arg:
            continue  # the word taught was matched on its own above
        offer(p.command, _similarity(text, codes, p))
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
