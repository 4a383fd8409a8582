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
import concurrent.futures
from collections.abc import Iterator
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


def parse(path: Path) -> ast.Module:
    """The module's syntax tree.

    CPython 3.11.7's AST builder can trip its own recursion-depth check (`SystemError: AST
    constructor recursion depth mismatch`) in a thread whose recursion bookkeeping other code
    has moved (hypothesis changes the recursion limit); a fresh thread starts from a clean count.
    """
    source = path.read_text(encoding="utf-8")
    try:
        return ast.parse(source, filename=str(path))
    except SystemError:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as fresh:
            return fresh.submit(ast.parse, source, filename=str(path)).result()


def import_graph(modules: dict[str, Path]) -> Graph:
    known = set(modules)
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        tree = parse(path)
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


# -- tests import support modules, never test modules ----------------------------------------

TESTS = ROOT / "tests"
# The roots the tests import from (pyproject.toml's `pythonpath`), the checkout first.
IMPORT_ROOTS = (ROOT, TESTS)


def is_test_module(path: Path) -> bool:
    """A module pytest collects or loads by itself: importing it runs it a second time, under
    another name, and makes one test file depend on another's private helpers."""
    return path.name == "conftest.py" or (path.name.startswith("test_") and path.suffix == ".py")


def module_file(name: str, roots: tuple[Path, ...]) -> Path | None:
    """The file `import name` loads from `roots` (a module or a package's `__init__`), if any."""
    parts = name.split(".")
    for root in roots:
        for candidate in (
            root.joinpath(*parts).with_suffix(".py"),
            root.joinpath(*parts, "__init__.py"),
        ):
            if candidate.is_file():
                return candidate
    return None


def imported_names(
    node: ast.Import | ast.ImportFrom, path: Path, roots: tuple[Path, ...]
) -> set[str]:
    """Every module name one import statement may load: `from m import x` may load `m.x`."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if node.level:  # relative: spelled from the importing file's folder, under its root
        root = next(r for r in sorted(roots, key=lambda r: -len(r.parts)) if path.is_relative_to(r))
        folder = path.parent
        for _ in range(node.level - 1):
            folder = folder.parent
        base = ".".join([*folder.relative_to(root).parts, *([node.module] if node.module else [])])
    else:
        base = node.module or ""
    return {base, *(f"{base}.{alias.name}" for alias in node.names)} - {""}


def import_sites(path: Path, roots: tuple[Path, ...]) -> Iterator[tuple[int, str]]:
    """(line, module name) of every module an import of `path` may load, at any level."""
    tree = parse(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in sorted(imported_names(node, path, roots)):
                yield node.lineno, name


def imports_of_test_modules(files: list[Path], roots: tuple[Path, ...]) -> list[str]:
    """`file:line imports name` for every import, at any level, of a test module or conftest."""
    found = []
    for path in files:
        for line, name in import_sites(path, roots):
            target = module_file(name, roots)
            if target is not None and target != path and is_test_module(target):
                found.append(f"{path.relative_to(roots[0])}:{line} imports {name}")
    return found


def test_no_module_imports_a_test_module_or_a_conftest() -> None:
    """Shared helpers live in support modules (`cli/stacks.py`, `provider/cases.py`, ...)."""
    files = sorted(TESTS.rglob("*.py"))
    assert len(files) > 50  # the tests were found and read
    assert imports_of_test_modules(files, IMPORT_ROOTS) == []


def from_the_tests(name: str) -> bool:
    """Whether `name` is the tests' own: `tests.*`, or found under tests/ and not the checkout."""
    in_tests = module_file(name, (TESTS,)) is not None and module_file(name, (ROOT,)) is None
    return name == "tests" or name.startswith("tests.") or in_tests


def test_benchmarks_and_tools_import_nothing_from_the_tests() -> None:
    """Benchmarks and tools import `tools.*` and the product packages, never test support."""
    files = sorted([*(ROOT / "benchmarks").rglob("*.py"), *(ROOT / "tools").rglob("*.py")])
    assert files
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files
        for line, name in import_sites(path, (ROOT,))
        if from_the_tests(name)
    ]
    assert found == []


def test_the_check_finds_test_module_imports_in_every_spelling(tmp_path: Path) -> None:
    """The checker itself: absolute from either root, relative, in a function, and a conftest."""
    tests = tmp_path / "tests"
    (tests / "cli").mkdir(parents=True)
    (tests / "cli" / "__init__.py").write_text("")
    (tests / "cli" / "conftest.py").write_text("SHARED = 1\n")
    (tests / "cli" / "test_a.py").write_text("def helper() -> None: ...\n")
    (tests / "cli" / "support.py").write_text("def helper() -> None: ...\n")
    (tests / "cli" / "test_b.py").write_text(
        "from cli.test_a import helper\n"
        "from tests.cli import test_a\n"
        "from . import support\n"
        "from .support import helper as fine\n"
        "def f() -> None:\n"
        "    from .conftest import SHARED\n"
        "    import cli.test_a\n"
    )
    found = imports_of_test_modules([tests / "cli" / "test_b.py"], (tmp_path, tests))
    assert found == [
        "tests/cli/test_b.py:1 imports cli.test_a",
        "tests/cli/test_b.py:2 imports tests.cli.test_a",
        "tests/cli/test_b.py:6 imports cli.conftest",
        "tests/cli/test_b.py:7 imports cli.test_a",
    ]
