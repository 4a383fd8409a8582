"""docs/provider.md says exactly what mypy prints, with the package's plugin, for a misspelt
`type`: its one line, and nothing else (no list of overloads)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from documentation.markdown import ROOT, section

PROVIDER = (ROOT / "docs" / "provider.md").read_text()
TYPES_SECTION = section(PROVIDER, "### Types for editors and mypy")
PROGRAM = """\
from sigsentry_pulumi import LogSource

LogSource(
    "a",
    type="cloudwach",
    credentials={"accessKeyId": "AKIA", "secretAccessKey": "s"},
    sources=["a"],
)
"""


def documented_line() -> str:
    block = TYPES_SECTION.split("```text\n", 1)[1].split("```", 1)[0]
    (line,) = [line for line in block.splitlines() if '"cloudwach"' in line]
    return line


def test_a_misspelt_type_prints_the_documented_line_and_nothing_else(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    # Importable as an installed copy is, whatever the checkout's install mode.
    (site / "sigsentry_pulumi").symlink_to(ROOT / "sigsentry_pulumi", target_is_directory=True)
    (tmp_path / "program.py").write_text(PROGRAM)
    (tmp_path / "mypy.ini").write_text(
        "[mypy]\nstrict = True\nplugins = sigsentry_pulumi.mypy_plugin\n"
    )
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "program.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert checked.stdout.splitlines() == [
        f"program.py:5: {documented_line()}",
        "Found 1 error in 1 file (checked 1 source file)",
    ], checked.stdout + checked.stderr
    assert 'plugins = ["sigsentry_pulumi.mypy_plugin"]' in TYPES_SECTION
