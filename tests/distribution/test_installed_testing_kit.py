"""The testing kit as a user installs it: the wheel ships `sigsentry_pulumi.testing` and declares
the emulator's pytest plugin, and in a fresh virtualenv where pip installed
`sigsentry-pulumi[emulator]` and pytest (offline, from the built wheel and a local wheelhouse), a
user's test file using `LogSourceMocks` and the `sigsentry_emulator` fixture passes with nothing
in conftest.py."""

from __future__ import annotations

import configparser
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from distribution.wheelhouse import (
    Distributions,
    install_offline,
    wheel_requirements,
    wheelhouse,
)

pytestmark = pytest.mark.xdist_group("distribution")
RUN_TIMEOUT_SECONDS = 300

USER_TESTS = """
import pulumi
import pytest

from sigsentry_pulumi.testing import LogSourceCheckError, LogSourceMocks

pulumi.runtime.set_mocks(LogSourceMocks(), preview=False)

from sigsentry_pulumi import LogSource  # noqa: E402


def datadog(log_type):
    return LogSource("dd", type=log_type, credentials={"apiKey": "k", "appKey": "a"},
                     sources=["service:checkout"])


@pulumi.runtime.test
def test_good_source():
    return datadog("datadog").id.apply(lambda i: None if i.startswith("ls_") else 1 / 0)


def test_bad_source():
    with pytest.raises(LogSourceCheckError, match="type 'datadgo' is not supported"):
        pulumi.runtime.test(lambda: datadog("datadgo").id)()


def test_emulator(sigsentry_emulator):
    assert sigsentry_emulator.log_sources() == []
    assert sigsentry_emulator.stack_config()["sigsentry:apiKey"].secret
    assert sigsentry_emulator.api_key not in repr(sigsentry_emulator)
"""


def test_wheel_ships_the_testing_kit_and_declares_the_pytest_plugin(
    distributions: Distributions,
) -> None:
    with zipfile.ZipFile(distributions.wheel) as wheel:
        names = set(wheel.namelist())
        (entry_points_file,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entry_points = configparser.ConfigParser()
        entry_points.read_string(wheel.read(entry_points_file).decode())
    for required in (
        "sigsentry_pulumi/testing/__init__.py",
        "sigsentry_pulumi/testing/mocks.py",
        "sigsentry_pulumi/validation.py",
        "sigsentry_emulator/pytest_plugin.py",
    ):
        assert required in names
    assert dict(entry_points["pytest11"]) == {
        "sigsentry_emulator": "sigsentry_emulator.pytest_plugin"
    }


def test_cryptography_is_needed_only_by_the_emulator_extra(distributions: Distributions) -> None:
    requirements = [Requirement(line) for line in wheel_requirements(distributions.wheel)]
    emulator_only = {"fastapi", "uvicorn", "cryptography"}
    for requirement in requirements:
        if requirement.name in emulator_only:
            assert requirement.marker is not None
            assert str(requirement.marker) == 'extra == "emulator"'
    assert {r.name for r in requirements if r.name in emulator_only} == emulator_only


@pytest.mark.slow
def test_a_users_tests_pass_in_a_fresh_install_with_the_emulator_extra(
    distributions: Distributions, tmp_path: Path
) -> None:
    # The wheelhouse holds the extra's dependencies and pytest's, repacked from this virtualenv.
    extra = [
        f"{r.name}{r.specifier}"
        for r in map(Requirement, wheel_requirements(distributions.wheel))
        if r.marker is None or r.marker.evaluate({"extra": "emulator"})
    ]
    house = tmp_path / "wheelhouse"
    wheelhouse([*extra, "pytest"], house)
    venv = tmp_path / "venv"
    installed = install_offline(venv, distributions, house, "sigsentry-pulumi[emulator]", "pytest")
    assert installed.returncode == 0, installed.stderr
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_program.py").write_text(USER_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout
    # The test ran against the installed wheel, not this checkout.
    assert (
        str(venv)
        in subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sigsentry_pulumi; print(sigsentry_pulumi.__file__)",
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    )
