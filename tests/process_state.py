"""An autouse fixture for tests of product code that runs in this process (client, provider).

Import it into a folder's conftest.py: each test there starts with no process-wide SigSentry
state (`_runtime`, `_preflight`, `_accounts`) and no SigSentry environment variables, and leaves
none behind.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sigsentry_pulumi import _accounts, _preflight, _runtime


def _reset() -> None:
    _runtime.reset()
    _preflight.reset()
    _accounts.reset()


@pytest.fixture(autouse=True)
def clean_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("SIGSENTRY_API_KEY", "SIGSENTRY_API_URL", "SIGSENTRY_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    _reset()
    yield
    _reset()
