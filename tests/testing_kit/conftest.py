"""Fixtures for the testing kit's tests: a runner that executes user-style test files with
pytest in a subprocess, as a user's own project would (user_project.py says how)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from testing_kit.user_project import RUN_TIMEOUT_SECONDS, RunPytest, user_env


@pytest.fixture
def run_pytest(tmp_path: Path) -> RunPytest:
    """`run_pytest({"test_x.py": source, ...}, cli=None)`: write the files into a fresh folder
    and run `python -m pytest` there; returns the finished process (output in `stdout`)."""
    counter = iter(range(1_000))

    def run(
        files: Mapping[str, str], cli: Path | None = None, *args: str
    ) -> subprocess.CompletedProcess[str]:
        folder = tmp_path / f"project-{next(counter)}"
        folder.mkdir()
        for name, source in files.items():
            (folder / name).write_text(source, encoding="utf-8")
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
            cwd=folder,
            env=user_env(folder, cli),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
        )

    return run
