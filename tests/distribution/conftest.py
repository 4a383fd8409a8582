"""Fixtures for the packaging tests: the sdist and wheel `python -m build` makes, and a fresh
virtualenv outside the checkout where pip installed examples/quickstart/requirements.txt, finding
`sigsentry-pulumi` as that wheel, offline (tests/distribution/wheelhouse.py says how)."""

from __future__ import annotations

from pathlib import Path

import pytest

from distribution.wheelhouse import (
    ROOT,
    Distributions,
    build_distributions,
    install_offline,
    wheel_requirements,
    wheelhouse,
)


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist declares this marker; declared here too, so the tests also run without it.
    config.addinivalue_line("markers", "xdist_group(name): run in one xdist worker with its group")


@pytest.fixture(scope="session")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    return build_distributions(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="session")
def installed_venv(tmp_path_factory: pytest.TempPathFactory, distributions: Distributions) -> Path:
    """A new virtualenv (no pip, no checkout on its path) where pip installed the quickstart's
    requirements.txt with no index: `sigsentry-pulumi` from the built distributions, every
    other distribution from a local wheelhouse."""
    base = tmp_path_factory.mktemp("installed")
    house = base / "wheelhouse"
    wheelhouse(wheel_requirements(distributions.wheel), house)
    requirements = ROOT / "examples" / "quickstart" / "requirements.txt"
    venv = base / "venv"
    installed = install_offline(venv, distributions, house, "--requirement", str(requirements))
    assert installed.returncode == 0, installed.stderr
    return venv
