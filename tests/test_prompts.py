"""The guide's own sentences as data: the package's file is whole, and every way of breaking it is
one ContentError that names the sentence. Tables of dicts; only the first test reads the file."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources

import pytest

from voice_guide.errors import ContentError
from voice_guide.session.prompts import SENTENCES, help_text, load_prompts, prompts_from_dict, prompts_from_toml

DATA = tomllib.loads(resources.files("voice_guide").joinpath("data/prompts.toml").read_text(encoding="utf-8"))


def test_the_package_file_has_every_sentence():
    assert set(load_prompts().sentences) == set(SENTENCES)


def test_a_sentence_is_filled_in_and_fits_how_the_user_answers():
    prompts = prompts_from_dict({**DATA, "question": {**DATA["question"],
                                                      "close": "Close the guide?\n   {answer}"}})
    yes_no = prompts.say("question.yes_no", hears=True)
    assert yes_no == "Say yes or no." and prompts.say("question.yes_no", hears=False) == "Press y for yes, or n for no."
    assert prompts.say("question.close", answer=yes_no) == "Close the guide? Say yes or no."
    assert prompts.say("where.step", hears=False, number=2, steps=5, title="Quiet face") == "Step 2 of 5 of Quiet face."


def test_help_adds_how_to_teach_only_when_the_guide_hears():
    assert "To teach me how you say a word, say, for example: teach me pause again." in help_text("menu", True)
    assert "teach" not in help_text("menu", False) and help_text("question", False) == "Press y for yes, or n for no."


def broken(section: str, name: str, value=None, drop: bool = False) -> dict:
    data = copy.deepcopy(DATA)
    if drop:
        del data[section][name]
    else:
        data.setdefault(section, {})[name] = value
    return data


@pytest.mark.parametrize("data, message", [
    (broken("menu", "greeting", drop=True), "menu.greeting is missing"),
    (broken("menu", "welcome", "Hi."), "menu.welcome is not something the guide says"),
    (broken("question", "close", "Close the guide?"), r"question.close must use \{answer\}"),
    (broken("question", "close", "Close {guide}? {answer}"), r"question.close must use \{answer\}"),
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


def test_a_file_that_is_not_toml_is_named():
    with pytest.raises(ContentError, match="prompts.toml: not valid TOML"):
        prompts_from_toml("[menu\ngreeting = 'x'")
