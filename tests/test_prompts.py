"""The guide's own sentences as data: every way of breaking the file is one ContentError that names the
sentence, on load or when the sentence is said. Tables of dicts read from the package's file
(`tests/test_commands.py` checks that the code and the file agree)."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources

import pytest

from voice_guide.errors import ContentError
from voice_guide.session.prompts import help_text, load_prompts, prompts_from_dict, prompts_from_toml

DATA = tomllib.loads(resources.files("voice_guide").joinpath("data/prompts.toml").read_text(encoding="utf-8"))


def test_a_sentence_is_filled_in_and_fits_how_the_user_answers():
    prompts = prompts_from_dict({**DATA, "question": {**DATA["question"],
                                                      "close": "Close the guide?\n   {answer}"}})
    yes_no = prompts.say("question.yes_no", hears=True)
    assert yes_no == "Say yes or no." and prompts.say("question.yes_no", hears=False) == "Press y for yes, or n for no."
    assert prompts.say("question.close", answer=yes_no) == "Close the guide? Say yes or no."
    assert prompts.say("where.step", hears=False, number=2, steps=5, title="Quiet face") == "Step 2 of 5 of Quiet face."


def test_help_adds_how_to_teach_only_when_the_guide_hears():
    assert "To teach me how you say a word, say, for example: learn next." in help_text("menu", True)
    assert "teach" not in help_text("menu", False) and help_text("question", False) == "Press y for yes, or n for no."


def broken(section: str, name: str, value=None, drop: bool = False) -> dict:
    data = copy.deepcopy(DATA)
    if drop:
        del data[section][name]
    else:
        data.setdefault(section, {})[name] = value
    return data


@pytest.mark.parametrize("data, message", [
    (broken("menu", "greeting", "Hello {name"), "menu.greeting has a broken"),
    (broken("menu", "greeting", 3), "menu.greeting must be a quoted text, not int"),
    (broken("menu", "greeting", "   "), "menu.greeting must not be empty"),
    (broken("menu", "prompt", {"voice": "Say a topic."}), "menu.prompt must be a text, or a table with exactly voice and keys"),
    (broken("menu", "prompt", {"voice": "Say it.", "keys": "Press {key}."}), "menu.prompt must use no {field}"),
    ({**DATA, "menu": "Hello."}, r"\[menu\] must be a table of sentences"),
])
def test_every_break_is_one_sentence_naming_it(data, message):
    with pytest.raises(ContentError, match=message) as info:
        prompts_from_dict(data, "prompts.toml")
    assert str(info.value).startswith("prompts.toml: ") and "\n" not in str(info.value)


@pytest.mark.parametrize("data, key, fields, message", [
    (broken("menu", "greeting", drop=True), "menu.greeting", {}, "menu.greeting is missing; restore the file"),
    (broken("question", "close", "Close the guide?"), "question.close", {"answer": "Say yes."},
     r"question.close must use \{answer\}"),
    (broken("question", "close", "Close {guide}? {answer}"), "question.close", {"answer": "Say yes."},
     r"question.close must use \{answer\}"),
])
def test_a_sentence_missing_or_with_other_fields_is_one_sentence_when_said(data, key, fields, message):
    prompts = prompts_from_dict(data, "prompts.toml")
    with pytest.raises(ContentError, match=message) as info:
        prompts.say(key, **fields)
    assert str(info.value).startswith("prompts.toml: ") and "\n" not in str(info.value)


def test_a_file_that_is_not_toml_is_named():
    with pytest.raises(ContentError, match="prompts.toml: not valid TOML"):
        prompts_from_toml("[menu\ngreeting = 'x'")


def test_no_message_carries_markup():
    """What the guide says or prints is read by a screen reader or spoken: no backticks or asterisks
    in any string of the package but its docstrings and the patterns that take markup apart."""
    import ast
    from pathlib import Path

    import voice_guide

    docstrings = set()
    found = []
    for path in Path(voice_guide.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list):
                docstrings.update(id(n.value) for n in body
                                  if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
        for node in ast.walk(tree):  # patterns that take markup apart (re.compile, .replace) are not messages
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("compile", "match", "replace", "sub"):
                docstrings.update(id(a) for a in node.args)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if "`" in node.value or "**" in node.value:
                    found.append(f"{path.name}:{node.lineno}: {node.value[:60]}")
    assert found == []
    for text in load_prompts().sentences.values():
        for form in text if isinstance(text, tuple) else (text,):
            assert "`" not in form and "*" not in form


OFFERS = {
    "menu.prompt": {"list": "menu"},
    "question.yes_no": {"yes": "yes", "no": "no"},
    "question.which_of_two": {"the first": "choice", "the second": "choice", "no": "no"},
    "question.which_of_three": {"the first": "choice", "the second": "choice", "the third": "choice", "no": "no"},
    "question.no_answer_paused": {"go": "resume", "keep going": "resume"},
    "question.resume_item": {"yes": "yes", "no": "no"},
    "question.resume_menu": {"yes": "yes", "no": "no"},
    "question.none_asked": {"help": "help"},
    "answer.go_on_or_finish": {"go": "resume", "keep going": "resume", "stop": "stop"},
    "answer.go_on_or_menu": {"go": "resume", "keep going": "resume", "main menu": "menu"},
    "help.teach": {"learn next": "teach"},
    "help.lip_light": {"again": "repeat", "cancel": "stop", "hold on": "pause", "hurry": "faster",
                       "instructions": "help", "list": "menu", "louder": "louder", "no": "no", "ready": "resume",
                       "status": "where", "take it easy": "slower", "too loud": "quieter", "yes": "yes",
                       "another reader": "another_voice", "i like this reader": "keep_voice"},
    "voice.sample": {"keep this one": "keep_voice", "another voice": "another_voice"},
    "help.menu": {"safety notice": "open", "start massage": "open", "list": "menu", "slower": "slower",
                  "faster": "faster", "louder": "louder", "quieter": "quieter", "stop": "stop"},
    "help.paused": {"go": "resume", "keep going": "resume", "next": "next", "back": "back", "repeat": "repeat",
                    "where": "where", "slower": "slower", "faster": "faster", "main menu": "menu"},
    "help.running": {"wait": "pause", "pause": "pause", "next": "next", "back": "back", "repeat": "repeat",
                     "where": "where", "slower": "slower", "faster": "faster", "louder": "louder",
                     "quieter": "quieter", "main menu": "menu"},
    "teaching.back_to_place": {"go": "resume", "keep going": "resume"},
}
"""Every word a prompt or help answer tells people to say, and the command it is offered for."""

NOT_OFFERS = {"a topic", "a session", "a name", "a number from 1", "the name of a topic", "it a little louder",
              "it a little softer", "move back a bit", "come closer", "just the word", "it {takes} times", "each word {takes} times",
              "'{command}'", "{command}", "my commands", "a word", "for example"}
"""What follows 'say' but is not a word to say: descriptions, and the enrolment's own words."""


def offered(text: str) -> set[str]:
    """The words `text` tells people to say: each 'say ...' up to the end of its sentence, split at its
    commas and 'or', with 'to go on'-style purposes, 'you can also' and 'for example:' taken off."""
    import re

    words: set[str] = set()
    for clause in re.findall(r"\bsay\b,?(.*?)(?:[.?]|$)", text, flags=re.I | re.S):
        clause = re.sub(r"\s+", " ", clause)
        for part in re.split(r",|\bor\b|:", clause):
            part = re.sub(r"^(also say|say)\b", "", part.strip(), flags=re.I).strip()
            part = re.sub(r"(^|\s+)(to|when)\s.*$", "", part).strip()
            if part and part not in NOT_OFFERS and not part.startswith("how you"):
                words.add(part)
    return words


def test_every_word_a_prompt_offers_is_a_phrase_of_its_command():
    """Each word the guide tells people to say (in the voice form) is in the vocabulary, exactly, as a
    phrase of the command it is offered for; OFFERS lists them all, so a new prompt must be added."""
    from voice_guide.content.loader import load_library
    from voice_guide.understanding.vocabulary import build_vocabulary

    vocab = build_vocabulary(load_library().items)
    found = {}
    for key, text in load_prompts().sentences.items():
        voice = text[0] if isinstance(text, tuple) else text
        words = offered(voice)
        if words:
            found[key] = words
    assert found == {key: set(words) for key, words in OFFERS.items()}
    for key, words in OFFERS.items():
        for phrase, command in words.items():
            from voice_guide.understanding.matching import match

            heard = match(phrase, vocab)
            assert heard.decision == "act" and heard.command.id == command, (key, phrase, heard)


def test_offered_finds_the_words_in_a_sentence():
    assert offered("Say go, or keep going, to go on, or stop to finish.") == {"go", "keep going", "stop"}
    assert offered("Say a topic or a session, or say list to hear them all.") == {"list"}
    assert offered("Press space to go on.") == set()
