"""Builds the guide's library from its TOML files and refuses anything malformed.

Staged so that most of it never touches the disk: `item_from_dict` (checks one parsed table),
`item_from_toml` (parses text), `library_from_items` (checks names and aliases across items) and only
`load_library` reads files. Every ContentError names the file and the field, so whoever edits the
content can fix it in one go.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from voice_guide.content.model import Item, Step
from voice_guide.errors import ContentError, UsageError

CONTENT_DIR = Path(__file__).parent
FOLDERS = {"topics": "topic", "sessions": "session"}
"""Sub-folder of the content root -> the kind every file in it must have."""

ITEM_FIELDS = {"name", "title", "kind", "order", "summary", "aliases", "safety", "length", "steps"}
REQUIRED_ITEM_FIELDS = ("name", "title", "kind", "order", "summary", "steps")
STEP_FIELDS = {"say", "hold", "fill", "cue", "halfway", "label", "title"}
KINDS = ("topic", "session")
NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(source: str, data: dict, key: str, where: str = "", *, required: bool, empty_ok: bool) -> str:
    """A checked text with its line breaks and runs of spaces made single spaces, so files can wrap
    long sentences freely."""
    if key not in data:
        if required:
            raise ContentError(f"{source}: {where}{key} is missing; add it as a quoted text.")
        return ""
    value = data[key]
    if not isinstance(value, str):
        raise ContentError(f"{source}: {where}{key} must be a quoted text, not {type(value).__name__}.")
    if not empty_ok and not value.strip():
        raise ContentError(f"{source}: {where}{key} must not be empty.")
    return " ".join(value.split())


def _flag(source: str, data: dict, key: str, where: str = "") -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ContentError(f"{source}: {where}{key} must be true or false.")
    return value


def _unknown(source: str, data: dict, known: set[str], where: str = "") -> None:
    extra = sorted(set(data) - known)
    if extra:
        raise ContentError(
            f"{source}: {where}{extra[0]} is not a known field; use only {', '.join(sorted(known))}."
        )


def _step(source: str, data: Any, index: int, kind: str) -> Step:
    where = f"steps[{index}]."
    if not isinstance(data, dict):
        raise ContentError(f"{source}: steps[{index}] must be a table written as [[steps]].")
    _unknown(source, data, STEP_FIELDS, where)
    say = _text(source, data, "say", where, required=kind == "topic", empty_ok=kind == "session")
    hold = data.get("hold", 0.0)
    if not _is_number(hold) or hold < 0:
        raise ContentError(f"{source}: {where}hold must be a number of seconds >= 0.")
    fill, cue, halfway = (_flag(source, data, key, where) for key in ("fill", "cue", "halfway"))
    label = _text(source, data, "label", where, required=False, empty_ok=True)
    title = _text(source, data, "title", where, required=False, empty_ok=True)
    if kind == "topic" and (fill or halfway):
        key = "fill" if fill else "halfway"
        raise ContentError(f"{source}: {where}{key} is only for sessions; remove it from this topic.")
    if (cue or halfway) and not (fill or hold > 0):
        key = "cue" if cue else "halfway"
        raise ContentError(f"{source}: {where}{key} needs a hold longer than 0 seconds or fill = true.")
    if not say and not (fill or hold > 0):
        raise ContentError(f"{source}: {where}say is empty and there is no hold; the step does nothing.")
    return Step(say=say, hold=float(hold), fill=fill, cue=cue, halfway=halfway, label=label, title=title)


def item_from_dict(data: Any, source: str) -> Item:
    """One checked Item from a parsed TOML table; `source` (e.g. 'topics/what-to-do.toml') names the
    file in errors and its stem must equal `name`."""
    if not isinstance(data, dict):
        raise ContentError(f"{source}: the file must hold a table of fields.")
    _unknown(source, data, ITEM_FIELDS)
    for key in REQUIRED_ITEM_FIELDS:
        if key not in data:
            raise ContentError(f"{source}: {key} is missing; every topic and session needs it.")
    name = _text(source, data, "name", required=True, empty_ok=False)
    if not NAME_RE.match(name):
        raise ContentError(f"{source}: name must be lower-case words joined by hyphens, not {name!r}.")
    stem = PurePosixPath(source).stem
    if name != stem:
        raise ContentError(f"{source}: name is {name!r} but must equal the file name {stem!r}.")
    title = _text(source, data, "title", required=True, empty_ok=False)
    kind = data["kind"]
    if kind not in KINDS:
        raise ContentError(f"{source}: kind must be \"topic\" or \"session\", not {kind!r}.")
    order = data["order"]
    if not isinstance(order, int) or isinstance(order, bool):
        raise ContentError(f"{source}: order must be a whole number.")
    summary = _text(source, data, "summary", required=True, empty_ok=False)
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list):
        raise ContentError(f"{source}: aliases must be a list of quoted texts.")
    for i, alias in enumerate(aliases):
        if not isinstance(alias, str) or not alias.strip():
            raise ContentError(f"{source}: aliases[{i}] must be a non-empty quoted text.")
    safety = _flag(source, data, "safety")
    length = data.get("length")
    if kind == "topic" and length is not None:
        raise ContentError(f"{source}: length is only for sessions; a topic lasts as long as its words.")
    if kind == "session":
        if length is None:
            raise ContentError(f"{source}: length is missing; a session needs its planned seconds.")
        if not _is_number(length) or length <= 0:
            raise ContentError(f"{source}: length must be a number of seconds > 0.")
    raw_steps = data["steps"]
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ContentError(f"{source}: steps must hold at least one [[steps]] table.")
    steps = tuple(_step(source, s, i, kind) for i, s in enumerate(raw_steps))
    if kind == "session":
        fills = [i for i, s in enumerate(steps) if s.fill]
        if len(fills) != 1:
            raise ContentError(
                f"{source}: steps must have exactly one step with fill = true, not {len(fills)}."
            )
    return Item(
        name=name,
        title=title,
        kind=kind,
        steps=steps,
        order=order,
        summary=summary,
        aliases=tuple(a.strip() for a in aliases),
        safety=safety,
        length=float(length) if length is not None else None,
    )


def item_from_toml(text: str, source: str) -> Item:
    """Parse one content file's text; a TOML syntax error becomes a ContentError naming the file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{source}: not valid TOML ({exc}).") from exc
    return item_from_dict(data, source)


def spoken_key(text: str) -> str:
    """How names, titles and aliases compare: case, hyphens and punctuation do not matter."""
    return " ".join(WORD_RE.findall(text.lower().replace("’", "'")))


@dataclass(frozen=True)
class Library:
    """Every topic and session, in menu order (order, then name)."""

    items: tuple[Item, ...]

    def names(self) -> list[str]:
        return [item.name for item in self.items]

    def topics(self) -> list[Item]:
        return [item for item in self.items if item.kind == "topic"]

    def sessions(self) -> list[Item]:
        return [item for item in self.items if item.kind == "session"]

    def get(self, name: str) -> Item:
        """The item called `name`: its name, title or an alias, in any case, hyphens or spaces."""
        key = spoken_key(name)
        for item in self.items:
            if key and key in {spoken_key(n) for n in (item.name, item.title, *item.aliases)}:
                return item
        raise UsageError(
            f"There is no topic or session called {name!r}; choose one of: {', '.join(self.names())}."
        )


def library_from_items(pairs: Iterable[tuple[str, Item]]) -> Library:
    """A Library from (source, item) pairs, refusing two items that share a name, title or alias."""
    seen: dict[str, tuple[str, str]] = {}
    items = []
    for source, item in pairs:
        for field_name, value in [("name", item.name), ("title", item.title)] + [
            (f"aliases[{i}]", a) for i, a in enumerate(item.aliases)
        ]:
            key = spoken_key(value)
            other = seen.get(key)
            if other and other[0] != source:
                raise ContentError(
                    f"{source}: {field_name} {value!r} is already used by {other[0]} ({other[1]}); "
                    "every name, title and alias must be unique."
                )
            seen.setdefault(key, (source, field_name))
        items.append(item)
    return Library(items=tuple(sorted(items, key=lambda i: (i.order, i.name))))


def load_library(directory: Path | str | None = None) -> Library:
    """Read every topics/*.toml and sessions/*.toml under `directory` (default: the package's own
    content) and check them."""
    root = Path(directory) if directory is not None else CONTENT_DIR
    pairs = []
    for folder, kind in FOLDERS.items():
        for path in sorted((root / folder).glob("*.toml")):
            source = f"{folder}/{path.name}"
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ContentError(f"{source}: cannot be read ({exc}).") from exc
            item = item_from_toml(text, source)
            if item.kind != kind:
                raise ContentError(f"{source}: kind must be \"{kind}\" for a file in {folder}/.")
            pairs.append((source, item))
    if not pairs:
        raise ContentError(f"{root}: no topics or sessions found; reinstall voice-guide.")
    return library_from_items(pairs)


def estimate_speech_seconds(text: str, rate_wpm: float) -> float:
    """Seconds `text` takes to speak at `rate_wpm`: words over rate, which runs about a tenth long for
    espeak-ng, so planned sessions never overrun."""
    if rate_wpm <= 0:
        raise ValueError("rate_wpm must be > 0")
    return len(WORD_RE.findall(text)) * 60.0 / rate_wpm


def fixed_seconds(item: Item, rate_wpm: float) -> float:
    """The title, every step's words and every hold except the fill hold."""
    speech = estimate_speech_seconds(item.title, rate_wpm)
    speech += sum(estimate_speech_seconds(s.say, rate_wpm) for s in item.steps)
    return speech + sum(s.hold for s in item.steps if not s.fill)


def planned_seconds(item: Item, rate_wpm: float) -> float:
    """A session's `length`; a topic's estimated speech plus its holds."""
    if item.kind == "session" and item.length is not None:
        return item.length
    return fixed_seconds(item, rate_wpm)
