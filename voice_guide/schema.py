"""Typed reading of what the guide's own files hold: every kind of file (settings, switch, enrolled
templates, a voice's config, a Whisper model's side files, the checked-models record) has one schema,
and msgspec checks a file against it before anything uses a value. A value of the wrong type, a
number out of its range (NaN and infinity included) or a text too long is refused with one sentence
naming the field, what it must be, and (shortened) what it is: a `ValueError`, which every loader
already turns into "set aside, use the defaults, tell the user once".

Numbers are declared with `between` (each range stated once, where its meaning lives); sample rates
are `SampleRate`, the same range a recording's header must pass.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from typing import Annotated, Any, Literal, TypeVar, Union

import msgspec

from voice_guide.audio import MAX_RATE, MIN_RATE
from voice_guide.errors import printable

T = TypeVar("T")

SHOWN = 40
"""Characters of a refused value repeated in the sentence: a 10 MB value is never echoed whole."""


def between(low: float, high: float, unit: str = "", whole: bool = False) -> Any:
    """A finite number from `low` to `high` inclusive (a whole one when `whole`), in `unit`."""
    return Annotated[int if whole else float, msgspec.Meta(ge=low, le=high, extra={"unit": unit})]


def text(longest: int) -> Any:
    """A text of at most `longest` characters."""
    return Annotated[str, msgspec.Meta(max_length=longest)]


SampleRate = between(MIN_RATE, MAX_RATE, "samples a second", whole=True)
PathText = text(4096)
"""A file or folder name as a setting holds it (PATH_MAX)."""


def convert(data: Any, kind: type[T]) -> T:
    """`data` (as parsed from a file) as a `kind`, checked; ValueError with one sentence if it is not."""
    try:
        return msgspec.convert(data, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ValueError(problem(exc, kind, data)) from None


def decode_json(data: bytes | str, kind: type[T]) -> T:
    """JSON text as a `kind`, checked while it is parsed (so a file of 100,000 nested brackets where a
    table belongs fails at the first one); ValueError with one sentence if it is not one."""
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.ValidationError as exc:
        raise ValueError(problem(exc, kind, _untyped(data))) from None
    except msgspec.DecodeError as exc:
        why = _lower(str(exc).removeprefix("JSON is malformed: "))
    except RecursionError:
        raise ValueError("its lists or tables nest too deeply") from None
    try:  # Python's JSON also reads NaN and Infinity (and writes them): say which field holds one
        parsed = json.loads(data)
    except (ValueError, RecursionError):
        raise ValueError(f"it is not JSON ({why})") from None
    return convert(parsed, kind)


def _untyped(data: bytes | str) -> Any:
    """The JSON as plain Python, for quoting the refused value; None when even that cannot be had."""
    try:
        return msgspec.json.decode(data)
    except (msgspec.MsgspecError, RecursionError):
        return None


# ---- the one sentence ------------------------------------------------------------------------------

_MISSING = object()
_AT = re.compile(r"^(.*?)(?: - at `\$(.*)`)?$", re.S)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")


def problem(exc: msgspec.ValidationError, kind: Any, data: Any) -> str:
    """What is wrong, as "FIELD must be WHAT, not VALUE", from msgspec's error and the schema."""
    message, at = _AT.match(str(exc)).groups()
    steps = [name if name else (int(index) if index.isdigit() else None)
             for name, index in _STEP.findall(at or "")]
    where = ".".join(str(s) if isinstance(s, str) else f"[{s if s is not None else '...'}]"
                     for s in steps).replace(".[", "[").strip(".")
    missing = re.match(r"Object missing required field `(.*)`", message)
    if missing:
        return f"{where + '.' if where else ''}{missing.group(1)} is missing"
    field_type = _walk_type(kind, steps)
    value = _walk_value(data, steps)
    if field_type is None:
        return f"{where or 'the file'}: {_lower(message)[:2 * SHOWN]}"
    shown = "" if value is _MISSING else f", not {_shown(value)}"
    return f"{where or 'the file'} must be {describe(field_type)}{shown}"


def describe(kind: Any) -> str:
    """A type of a schema in words: "80 to 300 words a minute (a whole number)", "one of a, b"."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is Annotated:
        base, meta = args[0], next((m for m in args[1:] if isinstance(m, msgspec.Meta)), None)
        if meta is not None and meta.ge is not None and meta.le is not None:
            unit = (meta.extra or {}).get("unit", "")
            return (f"{meta.ge:g} to {meta.le:g}{' ' + unit if unit else ''}"
                    f"{' (a whole number)' if base is int else ''}")
        if meta is not None and meta.max_length is not None and base is str:
            return f"a text of at most {meta.max_length:,} characters"
        if meta is not None and meta.max_length is not None:
            return f"{describe(base)} of at most {meta.max_length:,} entries"
        return describe(base)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join("null" if a is type(None) else describe(a) for a in args)
    if origin in (list, tuple) or kind in (list, tuple):
        return "a list"
    if origin is dict or kind is dict or dataclasses.is_dataclass(kind) or _is_struct(kind):
        return "a table"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a text"}.get(kind, "valid")


def _is_struct(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, msgspec.Struct)


def _walk_type(kind: Any, steps: list) -> Any:
    """The schema's type at `steps` (field names and list indexes), or None when it cannot be told."""
    for step in steps:
        kind = _container(kind)
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if isinstance(step, str) and (dataclasses.is_dataclass(kind) or _is_struct(kind)):
            kind = typing.get_type_hints(kind, include_extras=True).get(step)
        elif origin is dict and len(args) == 2:
            kind = args[1]
        elif origin is list and args:
            kind = args[0]
        elif origin is tuple and args and isinstance(step, int):
            kind = args[-2] if args[-1] is Ellipsis else args[min(step, len(args) - 1)]
        else:
            return None
        if kind is None:
            return None
    return kind


def _container(kind: Any) -> Any:
    """Through Annotated and Optional to the table or list inside."""
    while True:
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if origin is Annotated:
            kind = args[0]
        elif origin in (Union, types.UnionType):
            inner = [a for a in args if a is not type(None) and typing.get_origin(a) is not Literal]
            if len(inner) != 1:
                return kind
            kind = inner[0]
        else:
            return kind


def _walk_value(data: Any, steps: list) -> Any:
    for step in steps:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return data


def _shown(value: Any) -> str:
    shown = printable(repr(value))
    return shown if len(shown) <= SHOWN else shown[: SHOWN - 3] + "..."


def _lower(message: str) -> str:
    message = message.replace("`", "")
    return message[:1].lower() + message[1:]
