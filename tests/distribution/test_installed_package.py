"""The installed wheel as a user's tools see it, outside the checkout: mypy reads its types
(py.typed) and rejects a program that forgot a credential; the policies module names the extra it
needs when pulumi-policy is not installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("distribution")
MYPY_TIMEOUT_SECONDS = 180

GOOD_PROGRAM = """
from sigsentry_pulumi import LogSource

LogSource(
    "cw",
    type="cloudwatch",
    credentials={"accessKeyId": "AKIA", "secretAccessKey": "wJalr"},
    sources=["/aws/lambda/checkout-api"],
)
"""
# The same source without its secretAccessKey.
BAD_PROGRAM = GOOD_PROGRAM.replace(', "secretAccessKey": "wJalr"', "")


def mypy(installed_venv: Path, folder: Path, program: str) -> subprocess.CompletedProcess[str]:
    """mypy --strict on `program` (a file in `folder`, outside the checkout), resolving imports
    in the fresh virtualenv."""
    (folder / "program.py").write_text(program)
    env = {k: v for k, v in os.environ.items() if k not in {"MYPYPATH", "PYTHONPATH"}}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-executable",
            str(installed_venv / "bin" / "python"),
            "--cache-dir",
            str(folder / ".mypy_cache"),
            "program.py",
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=MYPY_TIMEOUT_SECONDS,
    )


@pytest.mark.slow
def test_mypy_reads_the_installed_package_types(installed_venv: Path, tmp_path: Path) -> None:
    good = mypy(installed_venv, tmp_path, GOOD_PROGRAM)
    assert good.returncode == 0, good.stdout
    assert "py.typed" not in good.stdout

    bad = mypy(installed_venv, tmp_path, BAD_PROGRAM)
    assert bad.returncode == 1
    assert 'No overload variant of "LogSource" matches' in bad.stdout


def test_policies_without_the_policy_extra_name_it(installed_venv: Path) -> None:
    result = subprocess.run(
        [str(installed_venv / "bin" / "python"), "-c", "import sigsentry_pulumi.policies"],
        cwd=installed_venv,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        "sigsentry_pulumi.policies needs pulumi-policy: pip install 'sigsentry-pulumi[policy]'"
        in result.stderr
    )
