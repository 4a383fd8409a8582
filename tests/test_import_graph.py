"""No import circle inside `sigsentry_pulumi` or `sigsentry_emulator`.

The graph is read from the source with `ast`, not by importing, so an import hidden inside a
function or under `if TYPE_CHECKING:` counts as an edge like one at the top of the module: both
are the usual ways a circle is kept from failing at import time while it is still there.

`from . import x` is an edge to the submodule `x` when there is one, else to the package. The
implicit import of a package's `__init__` by each of its submodules is not counted: it is how
Python loads a package, not a dependency one module chose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sigsentry_pulumi", "sigsentry_emulator")

Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_of(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}


def imported_modules(node: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of `known` that one import statement loads (any other node: none)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        origin = ".".join(base + (node.module.split(".") if node.module else []))
    else:
        origin = node.module or ""
    # `from pkg import sub` loads the submodule; `from pkg import Name` the module it names.
    names = {f"{origin}.{alias.name}" for alias in node.names}
    return {name if name in known else origin for name in names} & known


def import_graph(modules: dict[str, Path]) -> Graph:
    known = set(modules)
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):  # every level: module, function, class, TYPE_CHECKING
            graph[name] |= imported_modules(node, name, is_package, known) - {name}
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One circle as a list of modules (first repeated at the end), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        stack = [iter(sorted(graph[start]))]
        while stack:  # bounded: each module enters the path at most once per start
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
                continue
            if step in on_path:
                return [*path[path.index(step) :], step]
            if step in done:
                continue
            path.append(step)
            on_path.add(step)
            stack.append(iter(sorted(graph[step])))
    return None


@pytest.mark.parametrize("package", PACKAGES)
def test_package_has_no_import_circle(package: str) -> None:
    modules = modules_of(package)
    assert len(modules) > 5  # the package was found and read
    cycle = find_cycle(import_graph(modules))
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_check_finds_a_circle_hidden_in_a_function_or_type_checking(tmp_path: Path) -> None:
    """The checker itself: lazy and TYPE_CHECKING imports are edges, and a circle is named."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from .a import A\n")
    (package / "a.py").write_text("from . import b\n\nA = 1\n")
    (package / "b.py").write_text("def f() -> None:\n    from .c import C\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\nC = 1\n"
    )
    modules = {
        ".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(".__init__"): p
        for p in sorted(package.glob("*.py"))
    }
    graph = import_graph(modules)
    assert graph["pkg"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    (package / "c.py").write_text("C = 1\n")
    assert find_cycle(import_graph(modules)) is None
