"""Fixtures for every test: a clean process, the emulator as a real process, raw HTTP to it.

`clean_process_state` (autouse) starts each test with no process-wide SigSentry state
(`_runtime.reset()`) and no `SIGSENTRY_*` environment variables, and leaves
none behind, so product code run in this process (client, provider, resource) never sees another
test's settings.

`emulator_process` starts once per test session (per xdist worker) on a private temporary
database; `emulator` hands each test that same process freshly reset: no log sources, no
idempotency records, an empty request log, no faults, and the default quota and rate limit.
Tests that kill or restart the server, or need their own database, build an `EmulatorProcess`
themselves. `api` is raw HTTP to it with the seeded project-scoped read+write key (`raw_api`).

`pulumi_cli` is the real Pulumi CLI (tools/pulumi/find-cli chooses it). Without one, the tests
that need it are skipped with the reason, except under CI=true, where they fail: CI must prove
every claim about the engine with the real engine.

Imports in tests are absolute from the two roots pyproject.toml's `pythonpath` sets: the
checkout (`sigsentry_pulumi`, `sigsentry_emulator`, `tools`) and tests/ (`samples`, `raw_api`,
and each folder's modules as `cli.conftest`, `emulator.helpers`, ...).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from raw_api import connect
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import _runtime
from tools.pulumi_cli import CLINotFoundError, find_cli

_SIGSENTRY_ENVIRONMENT = ("SIGSENTRY_API_KEY", "SIGSENTRY_API_URL", "SIGSENTRY_PROJECT_ID")


def pytest_addoption(parser: pytest.Parser) -> None:
    # Read by tests/cli/test_lifecycle_walks_cli.py; declared here, in the root conftest, so the
    # options exist whichever test paths a run names (docs/lifecycle-checker.md).
    group = parser.getgroup("lifecycle", "lifecycle walks (tests/cli/test_lifecycle_walks_cli.py)")
    group.addoption(
        "--lifecycle-seed", type=int, default=None, help="run only the walk with this seed"
    )
    group.addoption(
        "--lifecycle-walks", type=int, default=None, help="how many walks to run (default 2)"
    )
    group.addoption("--lifecycle-steps", type=int, default=None, help="steps per walk (default 6)")
    group.addoption(
        "--lifecycle-first-seed",
        type=int,
        default=None,
        help="the first walk's seed; the others follow it (default 1)",
    )
    group.addoption(
        "--lifecycle-include",
        action="append",
        default=[],
        metavar="KIND",
        help="walk a step kind the known-defect list leaves out (to check a fix); repeatable",
    )
    group.addoption(
        "--lifecycle-figures",
        default=None,
        help="append each walk's figures (steps, commands, faults) to this JSON-lines file",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): run in one xdist worker with its group")


@pytest.fixture(autouse=True)
def clean_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _SIGSENTRY_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    _runtime.reset()
    yield
    _runtime.reset()


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as process:
        yield process


@pytest.fixture
def emulator(emulator_process: EmulatorProcess) -> EmulatorProcess:
    emulator_process.restore_defaults()
    return emulator_process


@pytest.fixture
def api(emulator: EmulatorProcess) -> Iterator[httpx.Client]:
    """Raw HTTP to the emulator with its seeded project-scoped read+write key."""
    with connect(emulator.url, emulator.api_key) as client:
        yield client


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    try:
        return find_cli()
    except CLINotFoundError as error:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI must run the tests of the real Pulumi CLI: {error}", pytrace=False)
        pytest.skip(f"no Pulumi CLI: {error}")
