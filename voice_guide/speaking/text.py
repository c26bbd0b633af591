"""Pure text helpers shared by the speech path and the synthesiser adapters (no engine, no file)."""

from __future__ import annotations

import re

_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "prof", "e.g", "i.e", "etc", "approx", "vs"}
_SENTENCE_END = re.compile(r"[.!?…][\"')\]”’]*(?=\s)")
_CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+")


def split_sentences(text: str, max_chars: int = 250) -> list[str]:
    """Split text into sentences (lines count as breaks; 'Dr.' and 'e.g.' do not), then split any
    sentence longer than `max_chars` at clause marks, then at spaces."""
    pieces: list[str] = []
    for line in text.splitlines():
        start = 0
        for match in _SENTENCE_END.finditer(line):
            candidate = line[start : match.end()].strip()
            last_word = candidate.rsplit(None, 1)[-1].rstrip(".").lower() if candidate else ""
            if last_word in _ABBREVIATIONS:
                continue
            pieces.append(candidate)
            start = match.end()
        pieces.append(line[start:].strip())
    out: list[str] = []
    for piece in pieces:
        if piece:
            out.extend(_limit(piece, max_chars))
    return out


def _limit(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    parts, current = [], ""
    for clause in _CLAUSE_END.split(sentence):
        for word in clause.split(" ") if len(clause) > max_chars else [clause]:
            joined = f"{current} {word}".strip()
            if current and len(joined) > max_chars:
                parts.append(current)
                current = word
            else:
                current = joined
    if current:
        parts.append(current)
    return parts
