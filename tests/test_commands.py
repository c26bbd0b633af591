"""A spoken command is data plus one handler: every id the guide can be given (by voice, key or switch)
has a handler in the session's one table, every handler is reachable by an id, and every sentence of
prompts.toml is said somewhere."""

import ast
from pathlib import Path

import voice_guide
from voice_guide.hearing.switch import ACTIONS
from voice_guide.session.machine import KEYS, RESOLVED, Session
from voice_guide.session.prompts import SENTENCES
from voice_guide.understanding.vocabulary import barge_in_commands, build_vocabulary

HANDLERS = set(Session([], lambda text, rate: 1.0).handlers)
"""The ids of the session's one dispatch table."""


def _given() -> set[str]:
    """Every command id the guide can be given: matched speech, keys, the switch."""
    vocab = build_vocabulary()
    spoken = {entry.command.id for entry in vocab.entries if entry.command is not None}
    return set(vocab.ids) | spoken | set(KEYS.values()) | set(ACTIONS)


def _handled(ids: set[str]) -> set[str]:
    return {out for cid in ids for out in RESOLVED.get(cid, (cid,))}


def test_every_id_the_guide_can_be_given_has_a_handler():
    assert _handled(_given()) - HANDLERS == set()


def test_every_handler_has_an_id_that_reaches_it():
    assert HANDLERS - _handled(_given()) == set()


def test_what_may_barge_in_is_given_and_handled():
    assert barge_in_commands() <= _given()
    assert _handled(set(barge_in_commands())) <= HANDLERS


def _literals() -> tuple[set[str], set[str]]:
    """The package's string constants (but the list of sentences), and the 'section.' prefixes of f-strings (say(f"take.{problem}"))."""
    constants: set[str] = set()
    prefixes: set[str] = set()
    for path in Path(voice_guide.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "SENTENCES":
                node.value = None  # the list of every sentence says none of them
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                head = str(node.values[0].value)
                if head.endswith(".") and head[:-1].isidentifier():
                    prefixes.add(head)
    return constants, prefixes


def test_every_sentence_of_prompts_toml_is_said_somewhere():
    """Named whole, or as 'section.' + a name the code holds (say(f"voice.{command}"))."""
    constants, prefixes = _literals()
    unused = [key for key in SENTENCES if key not in constants
              and not any(key.startswith(p) and key[len(p):] in constants for p in prefixes)]
    assert unused == []
