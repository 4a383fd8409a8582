"""The emulator as the benchmarks start it: a real subprocess on loopback, rate limit off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sigsentry_emulator.testing import EmulatorProcess


@contextmanager
def started_emulator(workdir: Path, *, quota: int) -> Iterator[EmulatorProcess]:
    """A fresh emulator with its database under `workdir`; `rate_limit=0` turns limiting off so
    the numbers measure the server, not the token bucket."""
    with EmulatorProcess(db_path=workdir / "emulator.db", quota=quota, rate_limit=0) as emulator:
        yield emulator
