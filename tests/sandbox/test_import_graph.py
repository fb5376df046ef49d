"""The sandbox package's modules import each other without circles, deferred imports included.

A circle hidden behind an import inside a function still ties two modules together: neither can
be read, tested or replaced alone, and the first caller of the deferred import pays for it. The
graph is read from the source (every `import`, at any depth), so such a circle cannot hide.
"""

from __future__ import annotations

import ast
from pathlib import Path

import codistill.sandbox

ROOT = Path(codistill.sandbox.__file__).parent
PACKAGE = "codistill.sandbox"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join((PACKAGE, *parts[:-1])) if parts[-1] == "__init__" else ".".join((PACKAGE, *parts))


def _imports(path: Path, known: set[str]) -> set[str]:
    """The package's modules `path` imports anywhere in its body (type-checking blocks aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                   for stmt in block.body for node in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from codistill.sandbox import core` names a module; `... import Limits` does not
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a package's own __init__ excluded as a target
    of its submodules: importing `codistill.sandbox.x` runs it, but it is not a dependency)."""
    paths = {_module_name(p): p for p in ROOT.rglob("*.py")}
    known = set(paths)
    graph = {}
    for name, path in paths.items():
        parents = {name.rsplit(".", k)[0] for k in range(1, name.count("."))}
        graph[name] = _imports(path, known) - parents - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_checker_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_deferred_imports() -> None:
    graph = import_graph()
    # java's warm compile used to import core inside a function: such an edge counts too
    assert f"{PACKAGE}.core" in graph[f"{PACKAGE}.backends.local"]
    assert any(target.startswith(f"{PACKAGE}.backends") for target in graph[f"{PACKAGE}.batch"])


def test_no_import_circles_in_the_sandbox() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])
