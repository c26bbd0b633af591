"""The package's import graph: no cycles, and adapters import only the base layer, never their users.

Every import is counted, including those inside functions (a cycle hidden in a function still ties two
modules together); `if TYPE_CHECKING:` blocks, which never run, are left out of the layer rules but
counted for cycles (a type-only cycle still ties two modules together for a reader).
"""

from __future__ import annotations

import ast
from pathlib import Path

import voice_guide

PACKAGE = Path(voice_guide.__file__).parent

BASE = {"voice_guide.engines", "voice_guide.audio", "voice_guide.errors", "voice_guide.speaking.text",
        "voice_guide.fileio", "voice_guide.hearing.frontend", "voice_guide.schema", "voice_guide.export.tracks"}
"""What adapters may import: the protocols and value types, sound, errors, and a few pure helpers
(the typed schemas of files among them)."""

PURE_ROOMS = ("voice_guide.content", "voice_guide.session", "voice_guide.timeline", "voice_guide.understanding.command",
              "voice_guide.understanding.matching", "voice_guide.understanding.vocabulary",
              "voice_guide.understanding.phrases")
"""The pure core: content, the session machine, the timeline and the matcher, tested by tables."""

PURE_BASE = {"voice_guide.engines", "voice_guide.audio", "voice_guide.errors"}
"""What the pure core may import besides itself: value types, audio maths and errors, none with I/O."""

ROOMS = ("voice_guide.hearing", "voice_guide.understanding", "voice_guide.voice", "voice_guide.speaking",
         "voice_guide.live", "voice_guide.session", "voice_guide.export", "voice_guide.adapters")
"""The package's rooms; each `__init__` only says what the room is for."""


LISTENING = ("voice_guide.hearing", "voice_guide.understanding", "voice_guide.voice")
"""The microphone's rooms, bottom up: the signal, what it means, the person's own voice. A room imports only
the rooms before it in this list, never one after it."""

SPEAKING = ("voice_guide.speaking",)
"""The speaker's room. Listening and speaking stand side by side: neither imports the other."""

LIVE = "voice_guide.live"
"""The loop that joins them; only the commands, the wiring and scripts above it may import it."""


def _module_name(path: Path) -> str:
    parts = ("voice_guide",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _in(name: str, rooms: tuple[str, ...] | str) -> bool:
    rooms = (rooms,) if isinstance(rooms, str) else rooms
    return any(name == room or name.startswith(room + ".") for room in rooms)


def _runs(node: ast.AST) -> bool:
    return not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test))


def _imports(path: Path, typed: bool = False) -> set[str]:
    found: set[str] = set()
    stack: list[ast.AST] = [ast.parse(path.read_text())]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        stack.extend(child for child in ast.iter_child_nodes(node) if typed or _runs(child))
    return {name for name in found if name in MODULES}


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}
TYPED = {name: _imports(path, typed=True) - {name} for name, path in MODULES.items()}
"""The graph with type-only imports too."""


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return None


def test_the_walker_sees_function_level_imports():
    assert "voice_guide.adapters.whisper_asr" in GRAPH["voice_guide.engine_table"]
    assert "voice_guide.engines" in GRAPH["voice_guide.adapters.vosk_asr"]
    assert "voice_guide.wiring" in TYPED["voice_guide.cli"] - GRAPH["voice_guide.cli"]  # type-only


def test_no_import_cycles_not_even_type_only_ones():
    assert _cycle(TYPED) is None, " -> ".join(_cycle(TYPED) or [])


def test_the_protocols_import_no_room():
    assert TYPED["voice_guide.engines"] <= {"voice_guide.audio"}, sorted(TYPED["voice_guide.engines"])


def test_adapters_import_only_the_base_layer():
    for name, targets in GRAPH.items():
        if name.startswith("voice_guide.adapters."):
            outside = {t for t in targets if t not in BASE and not t.startswith("voice_guide.adapters")}
            assert not outside, f"{name} imports {sorted(outside)}"


def test_the_base_layer_stands_alone():
    for name in BASE:
        assert GRAPH[name] <= BASE, f"{name} imports {sorted(GRAPH[name] - BASE)}"


def _pure(name: str) -> bool:
    return any(name == room or name.startswith(room + ".") for room in PURE_ROOMS)


def test_the_pure_core_imports_nothing_with_io():
    for name, targets in GRAPH.items():
        if _pure(name):
            outside = {t for t in targets if not _pure(t) and t not in PURE_BASE}
            assert not outside, f"{name} imports {sorted(outside)}"


def test_a_room_opens_nothing():
    """Importing one module of a room (an adapter's `hearing.frontend`) runs the room's `__init__` too."""
    for room in ROOMS:
        assert not GRAPH[room], f"{room}/__init__.py imports {sorted(GRAPH[room])}"


def test_listening_and_speaking_never_import_each_other():
    for name, targets in GRAPH.items():
        if _in(name, LISTENING):
            assert not {t for t in targets if _in(t, SPEAKING)}, f"{name} imports the speaking room"
        if _in(name, SPEAKING):
            assert not {t for t in targets if _in(t, LISTENING)}, f"{name} imports a listening room"


def test_the_listening_rooms_import_only_downwards():
    for low, room in enumerate(LISTENING):
        above = LISTENING[low + 1:]
        for name, targets in GRAPH.items():
            if _in(name, room):
                upward = {t for t in targets if _in(t, above)}
                assert not upward, f"{name} imports {sorted(upward)}"


def test_only_the_top_imports_the_live_loop():
    for name, targets in GRAPH.items():
        if not _in(name, (LIVE, "voice_guide.commands", "voice_guide.wiring", "voice_guide.cli")):
            assert not {t for t in targets if _in(t, LIVE)}, f"{name} imports the live loop"


def test_commands_ask_the_wiring_never_an_adapter():
    for name, targets in GRAPH.items():
        if _in(name, ("voice_guide.commands", "voice_guide.cli")):
            assert not {t for t in targets if _in(t, "voice_guide.adapters")}, f"{name} imports an adapter"
