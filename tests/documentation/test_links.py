"""Every relative link and every `.md` file named in the repository's Markdown exists, and every
`#anchor` a link names is a heading of the file it points to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from documentation.markdown import (
    ROOT,
    anchors,
    links,
    markdown_files,
    named_markdown,
    resolve,
)

DOCUMENTS = markdown_files()
PYTHON_SOURCES = sorted(
    path
    for folder in (
        "sigsentry_pulumi",
        "sigsentry_emulator",
        "tools",
        "tests",
        "benchmarks",
        "scripts",
        "policy",
        "examples",
        "templates",
    )
    for path in (ROOT / folder).rglob("*.py")
)


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_documents_are_found() -> None:
    names = {name(path) for path in DOCUMENTS}
    assert {"README.md", "docs/provider.md", "benchmarks/README.md"} <= names
    assert not any(part.startswith(".") for path in names for part in Path(path).parts)


@pytest.mark.parametrize("document", DOCUMENTS, ids=name)
def test_every_relative_link_exists(document: Path) -> None:
    text = document.read_text()
    broken = []
    for target in links(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, flags=re.IGNORECASE):
            continue  # https:, mailto:: not a file of the repository
        path_part, _, fragment = target.partition("#")
        resolved = (document.parent / path_part).resolve() if path_part else document
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif (
            fragment and resolved.suffix == ".md" and fragment not in anchors(resolved.read_text())
        ):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=name)
def test_every_named_markdown_file_exists(document: Path) -> None:
    missing = sorted(
        {md for md in named_markdown(document.read_text()) if resolve(document, md) is None}
    )
    assert not missing, missing


@pytest.mark.parametrize("source", PYTHON_SOURCES, ids=name)
def test_python_sources_name_only_markdown_that_exists(source: Path) -> None:
    # Code builds paths in parts (`ROOT / "docs" / "provider.md"`): a bare name may be a doc.
    missing = sorted(
        {
            md
            for md in named_markdown(source.read_text())
            if resolve(source, md, also=(ROOT / "docs",)) is None
        }
    )
    assert not missing, missing
