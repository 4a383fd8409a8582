"""The package's long description: README.md, with every relative link made absolute.

README.md links `docs/*.md` and other files of the repository, which the wheel does not ship, so
on a package index those links would be dead. Here each one points at the file in the
repository named by `Source` in pyproject.toml's `[project.urls]`, on its main branch;
in-page anchors and absolute URLs are kept. Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
SOURCE = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Source"]
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", flags=re.DOTALL | re.MULTILINE)
CODE_SPAN = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"(\]\(\s*<?)([^)\s>]+)")
REFERENCE_LINK = re.compile(r"^(\s*\[[^\]]+\]:\s*<?)(\S+?)(?=>?(?:\s|$))", flags=re.MULTILINE)
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", flags=re.IGNORECASE)


def absolute(target: str) -> str:
    """A link target as it works from a package index's page."""
    if target.startswith("#") or SCHEME.match(target):
        return target
    return f"{SOURCE}/blob/main/{target.removeprefix('./')}"


def _prose(text: str) -> str:
    """`text` with its links made absolute; code spans are left as they are."""
    spans = CODE_SPAN.split(text)
    codes = CODE_SPAN.findall(text)
    rewritten = [
        REFERENCE_LINK.sub(
            lambda m: m[1] + absolute(m[2]),
            INLINE_LINK.sub(lambda m: m[1] + absolute(m[2]), part),
        )
        for part in spans
    ]
    return "".join(part + code for part, code in zip(rewritten, [*codes, ""], strict=True))


def long_description(readme: str) -> str:
    """`readme` with every relative link made absolute, code blocks left as they are."""
    parts: list[str] = []
    position = 0
    for block in FENCE.finditer(readme):
        parts += [_prose(readme[position : block.start()]), block[0]]
        position = block.end()
    parts.append(_prose(readme[position:]))
    return "".join(parts)


setup(
    long_description=long_description((ROOT / "README.md").read_text()),
    long_description_content_type="text/markdown",
)
