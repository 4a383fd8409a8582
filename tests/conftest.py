"""Fixtures for every test: a clean process, the emulator as a real process, raw HTTP to it.

`clean_process_state` (autouse) starts each test with no process-wide SigSentry state
(`_runtime`, `_preflight`, `_accounts`) and no `SIGSENTRY_*` environment variables, and leaves
none behind, so product code run in this process (client, provider, resource) never sees another
test's settings.

`emulator_process` starts once per test session (per xdist worker) on a private temporary
database; `emulator` hands each test that same process freshly reset: no log sources, no
idempotency records, an empty request log, no faults, and the default quota and rate limit.
Tests that kill or restart the server, or need their own database, build an `EmulatorProcess`
themselves. `api` is raw HTTP to it with the seeded project-scoped read+write key (`raw_api`).

Imports in tests are absolute from the two roots pyproject.toml's `pythonpath` sets: the
checkout (`sigsentry_pulumi`, `sigsentry_emulator`, `tools`) and tests/ (`samples`, `raw_api`,
`provider_plugin`, and each folder's modules as `cli.conftest`, `emulator.helpers`, ...).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from raw_api import connect
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import _accounts, _preflight, _runtime

_SIGSENTRY_ENVIRONMENT = ("SIGSENTRY_API_KEY", "SIGSENTRY_API_URL", "SIGSENTRY_PROJECT_ID")


def _reset_process_state() -> None:
    _runtime.reset()
    _preflight.reset()
    _accounts.reset()


@pytest.fixture(autouse=True)
def clean_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _SIGSENTRY_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    _reset_process_state()
    yield
    _reset_process_state()


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
