"""Reading the repository's Markdown: which files, their links, the `.md` names and headings
they hold, and GitHub's anchors. Support for the documentation tests, not a test module."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = frozenset({"build", "dist", "node_modules"})
"""Folders that hold no documentation of the project (besides hidden ones: .venv, .tools, .git,
caches), so a link test never reads an installed package's Markdown."""

FENCE = re.compile(r"^(```|~~~).*?^\1", flags=re.DOTALL | re.MULTILINE)
INLINE_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", flags=re.IGNORECASE)
MD_NAME = re.compile(r"(?<![\w/.-])((?:\.\./|\./)?[\w-][\w./-]*\.md)\b")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)


def markdown_files(root: Path = ROOT) -> list[Path]:
    found: list[Path] = []
    for path in sorted(root.rglob("*.md")):
        parts = path.relative_to(root).parts[:-1]
        if any(
            part.startswith(".") or part in SKIPPED or part.endswith(".egg-info") for part in parts
        ):
            continue
        found.append(path)
    return found


def without_code_blocks(text: str) -> str:
    return FENCE.sub("", text)


def links(text: str) -> Iterator[str]:
    """Every link target in `text` outside fenced code blocks and code spans."""
    prose = re.sub(r"`[^`\n]*`", "", without_code_blocks(text))
    yield from INLINE_LINK.findall(prose)
    yield from REFERENCE_LINK.findall(prose)


def named_markdown(text: str) -> Iterator[str]:
    """Every Markdown file name (`provider.md`, `docs/provider.md`) the text names, code
    included, URLs left out."""
    yield from MD_NAME.findall(URL.sub("", text))


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation gone,
    spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    result: set[str] = set()
    for heading in HEADING.findall(without_code_blocks(text)):
        base = anchor(heading)
        count = seen.get(base, 0)
        result.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return result


def resolve(document: Path, name: str, *, also: tuple[Path, ...] = ()) -> Path | None:
    """The file `name` means in `document`: relative to its folder, else to the repository's
    root (prose often names `docs/provider.md` from anywhere), else to a folder of `also`."""
    for base in (document.parent, ROOT, *also):
        candidate = (base / name).resolve()
        if candidate.exists():
            return candidate
    return None


def section(text: str, heading: str) -> str:
    """The text under `heading` (a whole heading line) up to the next heading of its level or
    above."""
    start = text.index(heading + "\n")
    level = len(heading) - len(heading.lstrip("#"))
    rest = text[start + len(heading) + 1 :]
    end = re.search(rf"^#{{1,{level}}}\s", rest, flags=re.MULTILINE)
    return rest[: end.start()] if end else rest


def table(text: str) -> list[list[str]]:
    """The first Markdown table in `text`: its body rows, each a list of cells (the header and
    the rule left out). A `|` inside a code span does not split a cell."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = re.findall(r"((?:`[^`]*`|[^|`])*)\|", line[1:])
        rows.append([cell.strip() for cell in cells])
    return rows[2:]


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]*)`", cell)
