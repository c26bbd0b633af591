"""A spoken command is data plus one handler: every id the guide can be given (by voice, key or switch)
has a handler in the session's one table, every handler is reachable by an id, every sentence of
prompts.toml is said somewhere, and every sentence the code says is in prompts.toml with the fields it fills in."""

import ast
import re
from pathlib import Path

import pytest

import voice_guide
from voice_guide.hearing.switch import ACTIONS
from voice_guide.session.machine import KEYS, RESOLVED, Session
from voice_guide.session.parts import dispatch_table, handles
from voice_guide.session.prompts import load_prompts
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


def test_an_id_marked_by_two_parts_is_refused():
    class One:
        @handles("pause")
        def pause(self, cmd, now): ...

    class Other:
        @handles("pause", "wait")
        def hold(self, cmd, now): ...

    assert set(dispatch_table(One())) == {"pause"} and set(dispatch_table(Other())) == {"pause", "wait"}
    with pytest.raises(ValueError, match="'pause' has two handlers"):
        dispatch_table(One(), Other())


def test_what_may_barge_in_is_given_and_handled():
    assert barge_in_commands() <= _given()
    assert _handled(set(barge_in_commands())) <= HANDLERS


def _literals() -> tuple[set[str], set[str]]:
    """The package's string constants, and the 'section.' prefixes of f-strings (say(f"take.{problem}"))."""
    constants: set[str] = set()
    prefixes: set[str] = set()
    for path in Path(voice_guide.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
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
    unused = [key for key in load_prompts().sentences if key not in constants
              and not any(key.startswith(p) and key[len(p):] in constants for p in prefixes)]
    assert unused == []


KEY = re.compile(r"[a-z_]+\.[a-z_-]+")


def _keys(node: ast.expr) -> list[str] | None:
    """The sentence keys a say() call's first argument can be: a constant, either side of an `if`
    expression; None when it is built at run time (an f-string) or is no key at all."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.fullmatch(node.value):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _keys(node.body), _keys(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def _says() -> list[tuple[str, str, set[str]]]:
    """Every say(KEY, ..., field=...) in the package: (where, key, the fields it fills in)."""
    found = []
    for path in Path(voice_guide.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args and getattr(node.func, "id", None) == "say"):
                continue
            keys = _keys(node.args[0])
            if keys is None or any(k.arg is None for k in node.keywords):
                continue
            fields = {k.arg for k in node.keywords if k.arg is not None}
            found += [(f"{path.name}:{node.lineno}", key, fields) for key in keys]
    return found


def test_every_sentence_the_code_says_is_in_prompts_toml_with_the_fields_it_fills_in():
    prompts = load_prompts()
    says = _says()
    assert len(says) > 50  # the walker finds them
    wrong = [(where, key, sorted(fields), sorted(prompts.fields.get(key, {"(missing)"})))
             for where, key, fields in says if prompts.fields.get(key) != fields]
    assert wrong == []
