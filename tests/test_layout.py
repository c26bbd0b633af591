"""The README's layout section matches the tree: every file it names exists, and it names every room,
every top-level module and every module of the rooms it describes one by one (commands/ and adapters/
are described as "one module per ...")."""

import re
from pathlib import Path

import voice_guide

PACKAGE = Path(voice_guide.__file__).parent
README = PACKAGE.parent / "README.md"
LISTED_BY_KIND = {"commands", "adapters"}
"""Rooms the layout describes as one module per subcommand or engine, rather than file by file."""


def _layout() -> str:
    text = README.read_text(encoding="utf-8")
    block = text[text.index("Layout:"):]
    block = block[block.index("```") + 3:]
    return block[:block.index("```")]


def _modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"]


def test_every_file_the_layout_names_exists():
    names = {p.name for p in _modules()} | {p.name for p in (PACKAGE / "data").iterdir()}
    assert set(re.findall(r"\w+\.(?:py|toml)", _layout())) - names == set()


def test_the_layout_names_every_room_and_module():
    layout = _layout()
    named = set(re.findall(r"\w+\.py", layout))
    rooms = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert {room for room in rooms if f"{room}/" not in layout} == set()
    unnamed = {str(p.relative_to(PACKAGE)) for p in _modules()
               if p.parent.name not in LISTED_BY_KIND and p.name not in named}
    assert unnamed == set()
