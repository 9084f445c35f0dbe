"""The packages as they are installed: helpers stands alone, grading needs no instructor tool, no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("helpers", "grading", "instructor")


def _imports() -> dict[str, set[str]]:
    """Module -> the course modules it imports anywhere in its code (top level or inside functions)."""
    graph = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            module = f"{package}.{path.stem}"
            found = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        base = f"{package}.{base}" if base else package
                    names = [f"{base}.{a.name}" for a in node.names] + [base]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    continue
                found |= {
                    n for n in names if n.split(".")[0] in PACKAGES and (ROOT / f"{n.replace('.', '/')}.py").is_file()
                }
            graph[module] = found - {module}
    return graph


def test_helpers_and_grading_depend_only_downwards():
    graph = _imports()
    for module, imported in graph.items():
        if module.startswith("helpers."):
            assert all(m.startswith("helpers.") for m in imported), (module, imported)
        if module.startswith("grading."):
            assert not any(m.startswith("instructor.") for m in imported), (module, imported)


def test_no_import_cycles():
    graph = _imports()
    state: dict[str, int] = {}

    def visit(module, path):
        if state.get(module) == 1:
            raise AssertionError(f"import cycle: {' -> '.join([*path, module])}")
        if state.get(module) == 2:
            return
        state[module] = 1
        for other in sorted(graph.get(module, ())):
            visit(other, [*path, module])
        state[module] = 2

    for module in sorted(graph):
        visit(module, [])
