"""Lip-light phrases (issue 18 item 5): weak lips turn p, b, m, f, v and w into breath, so every command
keeps a phrase with no lip sound at all, and help names them to a person the guide often mishears."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest

from voice_guide.understanding.matching import match
from voice_guide.understanding.vocabulary import build_vocabulary
from voice_guide.understanding.command import Command
from voice_guide.session.prompts import help_text, say

COMMANDS = tomllib.loads(resources.files("voice_guide").joinpath("data/commands.toml").read_text(encoding="utf-8"))["commands"]
LIP_LETTERS = re.compile(r"[pbmfvw]")
LIP_SOUNDS = re.compile(r"qu|\bonce?\b|\b(?:en|t|r|c)ough\b|augh")
"""Lip sounds that no lip letter spells: the w of "quit", "one", "once"; the f of "enough", "laugh"."""


def lip_light(phrase: str) -> bool:
    return not LIP_LETTERS.search(phrase) and not LIP_SOUNDS.search(phrase)


@pytest.mark.parametrize("phrase, light", [
    ("next", True), ("go on", True), ("say again", True), ("hold on", True), ("louder", True),
    ("pause", False), ("wait", False), ("quit", False), ("once more", False), ("enough", False),
    ("phone", False), ("up", False), ("slow", False),
])
def test_the_rule_finds_lip_letters_and_lip_sounds(phrase, light):
    assert lip_light(phrase) is light


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_keeps_a_lip_light_phrase(command):
    vocab = build_vocabulary()
    light = [p for p in COMMANDS[command]["phrases"] if lip_light(p)]
    assert light, f"{command} has no phrase without a lip sound"
    for phrase in light:
        m = match(phrase, vocab)
        assert m.decision == "act" and m.command.id == command, phrase


def offered() -> list[str]:
    """The phrases help.lip_light lists after its colon: "a, b, or c."."""
    listed = say("help.lip_light").split(":", 1)[1].rstrip(".")
    return [p.strip().removeprefix("or ").strip() for p in listed.split(",")]


def test_help_offers_a_lip_light_phrase_for_every_command_but_teaching():
    vocab = build_vocabulary()
    said = {}
    for phrase in offered():
        assert lip_light(phrase), phrase
        m = match(phrase, vocab)
        assert m.decision == "act", phrase
        said[phrase] = m.command
    assert {c.id for c in said.values()} == set(COMMANDS) - {"teach"}
    assert all(c == Command(c.id) for c in said.values())


@pytest.mark.parametrize("mode", ["menu", "paused", "running"])
def test_help_tells_about_them_only_when_the_guide_hears(mode):
    assert say("help.lip_light") in help_text(mode, True)
    assert say("help.lip_light") not in help_text(mode, False)


def test_help_shows_teaching_with_a_lip_light_example():
    example = say("help.teach").split("for example:", 1)[1].strip().rstrip(".")
    assert lip_light(example), example
    m = match(example, build_vocabulary())
    assert m.decision == "act" and m.command == Command("teach", "next")
