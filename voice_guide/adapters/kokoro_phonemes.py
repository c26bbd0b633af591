"""Text to Kokoro's phoneme tokens: espeak-ng's IPA (through Piper's bundled espeak-ng), rewritten into
the phoneme set Kokoro v1.0 was trained on (misaki's: one letter per diphthong and affricate), cut
into pieces the model accepts.

Kokoro reads what the text says, not the text: so the few things espeak-ng reads wrongly for it are
said in words first (money, titles such as "Dr." that espeak-ng takes for a sentence's end). The
rewriting follows misaki's espeak fallback (misaki/espeak.py, Apache-2.0) and kokoro-onnx's tokenizer
(MIT); espeak-ng here gives no tie marks, so diphthongs are found as letter pairs.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import unicodedata
from dataclasses import dataclass

MAX_TOKENS = 510
"""The model's context is 512 tokens: this many phonemes plus the pad token 0 at each end."""
CLAUSE_MARKS = ",:;"

_TITLES = {"Dr": "Doctor", "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor", "St": "Saint"}
_LATIN = {"e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus", "approx.": "about"}

_COMMON = [  # longest first within each step; ties are absent, so pairs stand for diphthongs
    ("ʔˌn̩", "tᵊn"), ("ʔn̩", "tᵊn"), ("ʔn", "tᵊn"), ("ʔ", "t"),
    ("aɪ", "I"), ("aʊ", "W"), ("ɔɪ", "Y"), ("dʒ", "ʤ"), ("tʃ", "ʧ"),
    ("ɚɹ", "əɹ"), ("ɚ", "əɹ"), ("r", "ɹ"), ("x", "k"), ("ç", "k"), ("ɐ", "ə"), ("ɬ", "l"), ("̃", ""), ("ʲ", ""),
]
_US = [("eɪ", "A"), ("e", "A"), ("oʊ", "O"), ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", "")]
_GB = [("eə", "ɛː"), ("eɪ", "A"), ("e", "A"), ("iə", "ɪə"), ("əʊ", "Q")]


@functools.lru_cache(maxsize=1)
def vocabulary() -> dict[str, int]:
    """Kokoro's phoneme table (`voice_guide/data/kokoro_vocab.json`, from kokoro-onnx, MIT)."""
    text = (importlib.resources.files("voice_guide") / "data" / "kokoro_vocab.json").read_text(encoding="utf-8")
    return {str(k): int(v) for k, v in json.loads(text)["vocab"].items()}


def say_in_words(text: str) -> str:
    """`text` with money, titles and Latin abbreviations written out as espeak-ng should read them."""
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("‘", "'")
    for short, long in _LATIN.items():
        text = re.sub(rf"(?<!\w){re.escape(short)}", long, text, flags=re.IGNORECASE)
    text = re.sub(r"\b(" + "|".join(_TITLES) + r")\.(?=\s+[A-Z])", lambda m: _TITLES[m.group(1)], text)
    text = re.sub(r"([$£€])(\d+(?:,\d{3})*)(?:\.(\d\d))?\b", _money, text)
    text = re.sub(r"(?<=\d)\s*%", " percent", text)
    return re.sub(r"(?<=\d)\s*-\s*(?=\d)", " to ", text)


def _money(match: re.Match) -> str:
    unit, cents = {"$": ("dollar", "cent"), "£": ("pound", "penny"), "€": ("euro", "cent")}[match.group(1)]
    amount = match.group(2).replace(",", "")
    words = f"{amount} {unit}{'' if amount == '1' else 's'}"
    if match.group(3) and int(match.group(3)):
        small = int(match.group(3))
        plural = ("pence" if cents == "penny" else "cents") if small != 1 else cents
        words += f" and {small} {plural}"
    return words


def to_kokoro(ipa: str, british: bool) -> str:
    """espeak-ng's IPA for one clause in Kokoro's phoneme set; what Kokoro has no token for is dropped."""
    ipa = unicodedata.normalize("NFD", ipa)
    ipa = re.sub(r"\([^)]*\)", "", ipa)  # espeak-ng's language-switch flags, e.g. "(fr)"
    for old, new in _COMMON + (_GB if british else _US):
        ipa = ipa.replace(old, new)
    ipa = re.sub(r"(\S)\u0329", r"ᵊ\1", ipa).replace("o", "ɔ")
    known = vocabulary()
    return "".join(c for c in ipa if c in known)


@dataclass(frozen=True)
class Clause:
    """One clause as espeak-ng splits it: its phonemes, the mark that ends it, and whether a sentence
    ends there."""

    phonemes: str
    mark: str
    sentence_end: bool


def sentences(clauses: list[Clause]) -> list[str]:
    """Clauses joined into sentences (the mark kept, a space after a clause mark), each cut into pieces
    of at most MAX_TOKENS phonemes: at clause marks first, then at spaces."""
    out: list[str] = []
    current = ""
    for clause in clauses:
        piece = clause.phonemes.strip() + (clause.mark if clause.mark in CLAUSE_MARKS + ".!?" else "")
        if not clause.phonemes.strip():
            continue
        if current and len(current) + 1 + len(piece) > MAX_TOKENS:
            out.append(current)
            current = ""
        current = f"{current} {piece}".strip()
        if clause.sentence_end:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return [cut for sentence in out for cut in _fit(sentence)]


def _fit(phonemes: str) -> list[str]:
    """`phonemes` in pieces of at most MAX_TOKENS, cut at spaces (and mid-word only if a word is longer)."""
    pieces: list[str] = []
    while len(phonemes) > MAX_TOKENS:
        cut = phonemes.rfind(" ", 0, MAX_TOKENS + 1)
        cut = cut if cut > 0 else MAX_TOKENS
        pieces.append(phonemes[:cut].strip())
        phonemes = phonemes[cut:].strip()
    return pieces + ([phonemes] if phonemes else [])


def tokens(phonemes: str) -> list[int]:
    """The model's ids for `phonemes` (at most MAX_TOKENS of them), without the pads."""
    known = vocabulary()
    return [known[c] for c in phonemes if c in known][:MAX_TOKENS]


def _espeak_clauses(text: str, british: bool) -> list[Clause]:
    """espeak-ng's clauses of `text`, through the one espeak-ng Piper loads (it keeps global state, so it
    is shared, under Piper's own lock, with the Piper voice)."""
    from piper import espeakbridge
    from piper import voice as piper_voice
    from piper.phonemize_espeak import EspeakPhonemizer

    with piper_voice._ESPEAK_PHONEMIZER_LOCK:
        if piper_voice._ESPEAK_PHONEMIZER is None:
            piper_voice._ESPEAK_PHONEMIZER = EspeakPhonemizer()
        espeakbridge.set_voice("en" if british else "en-us")
        raw = espeakbridge.get_phonemes(text)
    return [Clause(to_kokoro(ipa, british), mark, end) for ipa, mark, end in raw]


def phonemize(text: str, british: bool = False) -> list[str]:
    """`text` as Kokoro phoneme strings, one per sentence (longer ones cut to fit the model)."""
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in say_in_words(text))
    if not text.strip():
        return []
    return sentences(_espeak_clauses(text, british))
