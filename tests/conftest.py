"""Shared fixtures: the SigSentry emulator as a real process on a loopback port.

`emulator_process` starts once per test session (per xdist worker) on a private temporary
database; `emulator` hands each test that same process freshly reset: no log sources, no
idempotency records, an empty request log, no faults, and the default quota and rate limit.
Tests that kill or restart the server, or need their own database, build an `EmulatorProcess`
themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sigsentry_emulator.testing import EmulatorProcess


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as process:
        yield process


@pytest.fixture
def emulator(emulator_process: EmulatorProcess) -> EmulatorProcess:
    emulator_process.restore_defaults()
    return emulator_process
