"""Phrases as a recogniser writes them and as the matcher compares them: one normal form for what was
heard and for every phrase, and how alike two are by spelling (rapidfuzz) and by sound (jellyfish).
Pure: no engines.

Speech from a half-moving face is slurred ("nex", "paws", "stawp"), so a guess is compared with a phrase
letter by letter and by its phonetic codes, as heard and with voiced and voiceless consonants folded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import jellyfish
from rapidfuzz import fuzz

from voice_guide.session.events import Do as Command

WORD_COUNT_PENALTY = 0.1
"""A near miss with more or fewer words than the phrase ("what time is it" for "what is it") loses this
much per word of difference: slurring blurs sounds, it rarely adds or drops whole words."""

FILLERS = (
    "um", "umm", "uh", "uhh", "er", "erm", "ehm", "please", "could you", "can you", "would you",
    "will you", "just", "now", "the guide", "voice guide", "guide", "i want to", "i would like to",
    "id like to", "lets", "kindly", "the", "a", "an",
)
"""Words that carry no command; removed before matching (phrases are normalised the same way)."""
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "won": 1, "to": 2, "too": 2, "tree": 3, "free": 3, "for": 4, "fore": 4, "ate": 8,
}
"""Number words, with the homophones a recogniser writes for them."""

NUMBER_NAMES = {n: w for w, n in reversed(NUMBER_WORDS.items())} | {0: "zero"}
_TAG_RE = re.compile(r"\[[^\]]*\]|<[^>]*>|\+\+[^+]*\+\+|\(\d+\)")
_FILLER_RE = re.compile(r"\b(?:" + "|".join(sorted(FILLERS, key=len, reverse=True)) + r")\b")


_DEVOICE = str.maketrans("bdgvz", "ptkfs")
"""Slurred speech blurs voiced and voiceless consonants ("stob", "bause"); sounds are compared both
as heard and with the pairs folded together."""


def sound_codes(text: str) -> tuple[str, ...]:
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
class Phrase:
    """One phrase as the matcher compares it: its normal form, what it means, and its sound codes."""

    text: str
    command: Command | None
    """None for a known non-command."""
    codes: tuple[str, ...]
    exact_only: bool = False
    """Counts only when heard exactly (lookalikes such as "yesterday")."""
    inside: bool = True
    """May be found inside a longer utterance (not so for function words such as "it")."""

    @classmethod
    def of(cls, text: str, command: Command | None, exact_only=False, inside=True) -> "Phrase":
        return cls(text, command, sound_codes(text), exact_only, inside)


def spoken(text: str) -> str:
    """Lower-case words as a recogniser writes them: no tags ("[unk]", "<sil>"), no punctuation but
    inner apostrophes ("don't"), numbers up to twenty as words. The form recogniser grammars get."""
    text = _TAG_RE.sub(" ", str(text))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9']+", " ", text.replace("’", "'"))
    words = []
    for word in text.split():
        word = word.strip("'")
        if word.isdigit() and int(word) in NUMBER_NAMES:
            word = NUMBER_NAMES[int(word)]
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


def similarity(heard: str, phrase: Phrase, codes: tuple[str, ...] | None = None) -> float:
    """1.0 for the same words; otherwise half spelling (rapidfuzz), half sound (jellyfish codes),
    capped below an exact hit. `codes`: `sound_codes(heard)`, when already worked out for many phrases."""
    if heard == phrase.text:
        return 1.0
    if not heard or not phrase.text or phrase.exact_only:
        return 0.0
    if codes is None:
        codes = sound_codes(heard)
    spelling = max(fuzz.ratio(heard, phrase.text), fuzz.token_sort_ratio(heard, phrase.text)) / 100
    plain = (fuzz.ratio(codes[0], phrase.codes[0]) + fuzz.ratio(codes[1], phrase.codes[1])) / 200
    devoiced = (fuzz.ratio(codes[2], phrase.codes[2]) + fuzz.ratio(codes[3], phrase.codes[3])) / 200
    extra = abs(heard.count(" ") - phrase.text.count(" "))
    return min(0.97, 0.5 * spelling + 0.5 * max(plain, devoiced)) - WORD_COUNT_PENALTY * extra
