"""Prints the package's shape against issue 19's targets: modules over 400 lines, classes over 25
methods (inherited ones counted), constructors over 8 parameters, and import cycles (type-only ones
included). Usage: python scripts/measure_structure.py"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from test_imports import TYPED, _cycle  # noqa: E402

PACKAGE = ROOT / "voice_guide"
MAX_LINES, MAX_METHODS, MAX_PARAMS = 400, 25, 8


def main() -> None:
    classes: dict[str, tuple[list[str], int, str]] = {}
    lines = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(ROOT))
        text = path.read_text()
        lines[name] = text.count("\n")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                methods = [f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
                params = 0
                for f in node.body:
                    if isinstance(f, ast.FunctionDef) and f.name == "__init__":
                        a = f.args
                        params = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) - 1
                bases = [ast.unparse(b) for b in node.bases]
                classes[node.name] = (methods, params, f"{name} ({', '.join(bases)})" if bases else name)

    def all_methods(cls: str, seen: frozenset = frozenset()) -> set[str]:
        methods, _, where = classes[cls]
        found = set(methods)
        for base in where.partition("(")[2].rstrip(")").split(", "):
            if base in classes and base not in seen:
                found |= all_methods(base, seen | {cls})
        return found

    print(f"modules: {len(lines)}, largest: " + ", ".join(f"{n} {c}" for n, c in
                                                      sorted(lines.items(), key=lambda x: -x[1])[:5]))
    print(f"modules over {MAX_LINES} lines: {[n for n, c in lines.items() if c > MAX_LINES] or 'none'}")
    big = {c: len(all_methods(c)) for c in classes if len(all_methods(c)) > MAX_METHODS}
    print(f"classes over {MAX_METHODS} methods: {big or 'none'}")
    wide = {c: p for c, (_, p, _) in classes.items() if p > MAX_PARAMS}
    print(f"constructors over {MAX_PARAMS} parameters: {wide or 'none'}")
    cycle = _cycle(TYPED)
    print(f"import cycle (type-only included): {' -> '.join(cycle) if cycle else 'none'}")


if __name__ == "__main__":
    main()
