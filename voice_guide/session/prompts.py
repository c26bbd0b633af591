"""What the guide says around the content — the menu's prompts, questions, answers, help, and what it
says when the microphone comes and goes — kept as data in `data/prompts.toml` and checked once on load,
as the content is.

Staged like the content loader so tests never need the file: `prompts_from_dict` checks a parsed
table, `prompts_from_toml` parses text, and only `load_prompts` reads the package's file. A sentence
may have two forms: spoken commands while the guide listens, keys while it does not (`--no-listen`, no
microphone, or the microphone gone); `say(key, hears)` gives the one the user can use. Pure but for
that one read.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Mapping

from voice_guide.errors import ContentError

SOURCE = "prompts.toml"
FORMS = ("voice", "keys")
"""The two forms of a sentence that depends on how the user can answer, in that order."""


@dataclass(frozen=True)
class Prompts:
    """Checked sentences: 'section.name' -> its text, or its (voice, keys) forms, and the {fields}
    each fills in (the same in both forms). The file is the one list of what the guide says:
    `tests/test_commands.py` checks that the code says every sentence and fills in exactly its fields."""

    sentences: Mapping[str, str | tuple[str, str]]
    fields: Mapping[str, frozenset[str]]
    source: str = SOURCE

    def say(self, key: str, hears: bool = True, **fields: object) -> str:
        """The sentence `key` in the form the user can answer in (`hears`), its fields filled in; a
        sentence missing from the file, or with other fields than the guide fills in, is a ContentError."""
        text = self.sentences.get(key)
        if text is None:
            raise ContentError(f"{self.source}: {key} is missing; restore the file.")
        if isinstance(text, tuple):
            text = text[0] if hears else text[1]
        if self.fields[key] != set(fields):
            raise ContentError(f"{self.source}: {key} must use {_wanted(set(fields))}, not {text!r}.")
        return text.format(**fields)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _wanted(fields: set[str]) -> str:
    return ", ".join(f"{{{f}}}" for f in sorted(fields)) or "no {field}"


def _sentence(key: str, value: object, source: str) -> str | tuple[str, str]:
    """One checked sentence: a text, or a table of its two forms; runs of spaces made single."""
    if isinstance(value, dict):
        if set(value) != set(FORMS):
            raise ContentError(f"{source}: {key} must be a text, or a table with exactly "
                               f"{' and '.join(FORMS)}; it has {', '.join(sorted(value)) or 'nothing'}.")
        return tuple(_sentence(f"{key}.{form}", value[form], source) for form in FORMS)  # type: ignore[return-value]
    if not isinstance(value, str):
        raise ContentError(f"{source}: {key} must be a quoted text, not {type(value).__name__}.")
    text = " ".join(value.split())
    if not text:
        raise ContentError(f"{source}: {key} must not be empty.")
    return text


def prompts_from_dict(data: Mapping[str, object], source: str = SOURCE) -> Prompts:
    """Check a parsed prompts file: tables of sentences, each a non-empty text or two, the two forms
    of one sentence using the same {fields}."""
    found: dict[str, str | tuple[str, str]] = {}
    fields: dict[str, frozenset[str]] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ContentError(f"{source}: [{section}] must be a table of sentences.")
        for name, value in table.items():
            key = f"{section}.{name}"
            found[key] = text = _sentence(key, value, source)
            forms = text if isinstance(text, tuple) else (text,)
            try:
                used = [_fields(form) for form in forms]
            except ValueError as exc:
                raise ContentError(f"{source}: {key} has a broken {{field}} ({exc}).") from exc
            for form, names in zip(forms, used):
                if names != used[0]:
                    raise ContentError(f"{source}: {key} must use {_wanted(used[0])}, not {form!r}.")
            fields[key] = frozenset(used[0])
    return Prompts(found, fields, source)


def prompts_from_toml(text: str, source: str = SOURCE) -> Prompts:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{source}: not valid TOML ({exc}).") from exc
    return prompts_from_dict(data, source)


@lru_cache(maxsize=1)
def load_prompts() -> Prompts:
    """The package's own sentences, read and checked once."""
    return prompts_from_toml(resources.files("voice_guide").joinpath(f"data/{SOURCE}").read_text(encoding="utf-8"))


def say(key: str, hears: bool = True, **fields: object) -> str:
    """`load_prompts().say(...)`: the sentence `key` for a user who can (`hears`) or cannot speak to
    the guide now."""
    return load_prompts().say(key, hears, **fields)


def yes_no(hears: bool) -> str:
    return say("question.yes_no", hears)


def go_on(hears: bool, read_only: bool) -> str:
    """After 'Paused.'"""
    return say("answer.go_on_or_finish" if read_only else "answer.go_on_or_menu", hears)


def which_one(hears: bool, count: int) -> str:
    """After 'A, or B?': how to answer a which-one question of `count` (2 or 3) options."""
    return say("question.which_of_three" if count > 2 else "question.which_of_two", hears)


def resume_offer(hears: bool, in_item: bool) -> str:
    """After 'Last time you were at step 4 of ...'"""
    return say("question.resume_item" if in_item else "question.resume_menu", hears)


def help_text(mode: str, hears: bool) -> str:
    """What the user can do right now: `mode` is 'menu', 'paused', 'running' or 'question'."""
    if mode == "question":
        return yes_no(hears)
    text = say(f"help.{mode}", hears)
    if not hears:
        return text
    return f"{text} {_heard_best(mode in ('menu', 'paused'))}"


def misheard(teach: bool) -> str:
    """After `questions.MISHEARD` utterances in a row that were no command (spoken commands only)."""
    return f"{say('answer.misheard')} {_heard_best(teach)}"


def _heard_best(teach: bool) -> str:
    """How to be heard better: teaching the guide a word (`teach`: where it can be done), and the
    words with no lip sound."""
    return f"{say('help.teach')} {say('help.lip_light')}" if teach else say("help.lip_light")
