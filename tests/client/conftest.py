"""Every client test starts with no process-wide state and no SigSentry environment variables."""

from collections.abc import Iterator

import pytest

from sigsentry_pulumi import _runtime


@pytest.fixture(autouse=True)
def _clean_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("SIGSENTRY_API_KEY", "SIGSENTRY_API_URL", "SIGSENTRY_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    _runtime.reset()
    yield
    _runtime.reset()
