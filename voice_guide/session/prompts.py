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

SENTENCES: dict[str, frozenset[str]] = {key: frozenset(fields.split()) for key, fields in {
    "menu.greeting": "", "menu.prompt": "", "menu.choose": "", "menu.what_next": "",
    "menu.pick_a_number": "count", "menu.nothing_paused": "", "menu.topics": "", "menu.sessions": "",
    "menu.item": "number title", "menu.session": "number title minutes", "menu.short_session": "number title",
    "menu.and_a_half": "whole",
    "where.menu": "", "where.starting": "title", "where.step": "number steps title", "where.step_title": "title",
    "where.seconds_left": "seconds", "where.this_is": "title", "where.no_such_step": "steps",
    "where.no_such_label": "label",
    "question.yes_no": "", "question.which_of_two": "", "question.which_of_three": "",
    "question.no_answer": "", "question.no_answer_paused": "", "question.no_answer_go_on": "", "question.resume": "number steps title answer",
    "question.resume_item": "", "question.resume_menu": "", "question.close": "answer",
    "question.stop_and_close": "title answer", "question.leave_for_menu": "title answer",
    "question.leave_and_open": "title other answer", "question.leave_for_label": "title label other answer",
    "question.teach_one": "command answer", "question.teach_all": "answer", "question.choice_step": "number",
    "question.choice_teach_one": "command", "question.choice_teach_all": "", "question.none_asked": "",
    "answer.all_right": "", "answer.paused": "", "answer.go_on_or_finish": "", "answer.go_on_or_menu": "",
    "answer.going_on": "", "answer.already_going_on": "", "answer.not_caught": "", "answer.that_was": "title",
    "answer.that_was_goodbye": "title", "answer.goodbye": "", "answer.place_saved": "",
    "answer.place_not_saved": "",
    "voice.slower": "", "voice.faster": "", "voice.louder": "", "voice.quieter": "", "voice.slowest": "",
    "voice.fastest": "", "voice.loudest": "", "voice.quietest": "", "voice.sample": "label", "voice.kept": "",
    "voice.only_one": "",
    "help.teach": "", "help.lip_light": "", "help.menu": "", "help.paused": "", "help.running": "",
    "teaching.no_microphone": "", "teaching.back_to_place": "where", "teaching.back_to_menu": "prompt",
    "enrolment.intro_many": "takes", "enrolment.intro_one": "takes", "enrolment.say_word": "command",
    "enrolment.again": "", "enrolment.thanks": "", "enrolment.leave_word": "command", "enrolment.stopped": "",
    "enrolment.all_done": "", "enrolment.nothing_saved": "",
    "take.nothing": "", "take.quiet": "", "take.clipped": "", "take.long": "", "take.short": "", "take.unlike": "",
    "take.not-switch": "",
    "switch.intro": "what does takes", "switch.click": "", "switch.hum": "", "switch.toggles": "",
    "switch.pauses": "", "switch.now": "", "switch.leave": "", "switch.ready": "",
    "microphone.back_going_on": "", "microphone.back_listening": "", "microphone.keys_in_item": "",
    "microphone.keys_at_menu": "", "microphone.none_at_start": "keys", "microphone.none_and_no_keys": "", "microphone.lost_paused": "keys",
    "microphone.lost": "keys",
}.items()}
"""Every sentence the guide says from this file ('section.name') and the {fields} it fills in."""


@dataclass(frozen=True)
class Prompts:
    """Checked sentences: 'section.name' -> its text, or its (voice, keys) forms."""

    sentences: Mapping[str, str | tuple[str, str]]

    def say(self, key: str, hears: bool = True, **fields: object) -> str:
        """The sentence `key` in the form the user can answer in (`hears`), its fields filled in."""
        text = self.sentences[key]
        if isinstance(text, tuple):
            text = text[0] if hears else text[1]
        return text.format(**fields)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


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
    """Check a parsed prompts file: every sentence in SENTENCES present (and no other), each a
    non-empty text or two, each form using exactly its fields."""
    found: dict[str, str | tuple[str, str]] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ContentError(f"{source}: [{section}] must be a table of sentences.")
        for name, value in table.items():
            found[f"{section}.{name}"] = _sentence(f"{section}.{name}", value, source)
    missing = sorted(set(SENTENCES) - set(found))
    if missing:
        raise ContentError(f"{source}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing; "
                           "restore the file.")
    unknown = sorted(set(found) - set(SENTENCES))
    if unknown:
        raise ContentError(f"{source}: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not "
                           "something the guide says; remove or rename it.")
    for key, text in found.items():
        for form in text if isinstance(text, tuple) else (text,):
            try:
                used = _fields(form)
            except ValueError as exc:
                raise ContentError(f"{source}: {key} has a broken {{field}} ({exc}).") from exc
            if used != SENTENCES[key]:
                wanted = ", ".join(f"{{{f}}}" for f in sorted(SENTENCES[key])) or "no {field}"
                raise ContentError(f"{source}: {key} must use {wanted}, not {form!r}.")
    return Prompts(found)


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
    teach = f" {say('help.teach')}" if mode in ("menu", "paused") else ""
    return f"{text}{teach} {say('help.lip_light')}"
