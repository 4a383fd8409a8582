"""mypy, run on a program outside the checkout, finds the package in an editable install made
the way `make` makes it (the Makefile's `editable_mode`), and does not in setuptools' default
editable install, an import hook mypy does not follow: docs/provider.md tells users so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from distribution.wheelhouse import INSTALL_TIMEOUT_SECONDS, ROOT, copy_sources

pytestmark = [pytest.mark.xdist_group("distribution"), pytest.mark.slow]

MAKEFILE_MODE = re.search(
    r"pip install .*-e .*--config-settings editable_mode=(\w+)", (ROOT / "Makefile").read_text()
)
NOT_FOUND = 'Cannot find implementation or library stub for module named "sigsentry_pulumi"'
# A mistake only the package's types reveal: mypy read them when it reports it.
PROGRAM = """\
from sigsentry_pulumi import LogSourceType

kind: LogSourceType = "datadgo"
"""


def editable_install(workdir: Path, mode: str | None) -> Path:
    """A new virtualenv holding an editable install of a copy of the checkout's sources, made
    by setuptools' editable build in `mode` (None: its default); returns its Python."""
    source = copy_sources(workdir)
    wheels = workdir / "wheels"
    settings = {} if mode is None else {"editable_mode": mode}
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; "
            f"build_meta.build_editable(sys.argv[1], {settings!r})",
            str(wheels),
        ],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )
    venv = workdir / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )
    python = venv / "bin" / "python"
    (wheel,) = wheels.glob("*.whl")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python)),
            *("install", "--quiet", "--no-index", "--no-deps", str(wheel)),
        ],
        check=True,
        capture_output=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )
    return python


def mypy_outside(folder: Path, python: Path) -> subprocess.CompletedProcess[str]:
    (folder / "program.py").write_text(PROGRAM)
    env = {k: v for k, v in os.environ.items() if k not in {"MYPYPATH", "PYTHONPATH"}}
    return subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--no-incremental"),
            *("--python-executable", str(python), "program.py"),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )


def test_make_installs_the_checkout_in_a_mode_mypy_follows(tmp_path: Path) -> None:
    assert MAKEFILE_MODE is not None, "make's editable install names no editable_mode"
    python = editable_install(tmp_path, MAKEFILE_MODE[1])
    (tmp_path / "program").mkdir()
    checked = mypy_outside(tmp_path / "program", python)
    assert NOT_FOUND not in checked.stdout, checked.stdout
    assert "Incompatible types in assignment (expression has type \"Literal['datadgo']\"" in (
        checked.stdout
    ), checked.stdout


def test_the_default_editable_install_is_invisible_to_mypy(tmp_path: Path) -> None:
    python = editable_install(tmp_path, None)
    (tmp_path / "program").mkdir()
    checked = mypy_outside(tmp_path / "program", python)
    assert NOT_FOUND in checked.stdout, checked.stdout
