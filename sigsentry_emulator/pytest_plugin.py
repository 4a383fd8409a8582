"""The SigSentry emulator as pytest fixtures, for the integration tests of your own programs.

Installed with `pip install 'sigsentry-pulumi[emulator]'` (pytest finds it through the `pytest11`
entry point, so there is nothing to import or list in `conftest.py`):

```python
def test_up(sigsentry_emulator):
    stack.set_all_config(sigsentry_emulator.stack_config())   # apiUrl, apiKey (secret), projectId
    stack.up()
    assert [s["name"] for s in sigsentry_emulator.log_sources()] == ["prod-cloudwatch"]
```

* `sigsentry_emulator_process` (session): one `EmulatorProcess`, a real emulator process on a
  free 127.0.0.1 port with its own temporary database, tenant, project and API key.
* `sigsentry_emulator` (each test): a `SigSentryEmulator` over that process, reset first (no
  log sources, no idempotency records, an empty request log, no faults, default quota and rate
  limit).

This module is loaded by every pytest run in an environment where sigsentry-pulumi is installed,
with or without the `emulator` extra: it imports no FastAPI, uvicorn or cryptography (nor the
emulator's server modules) until a fixture is used, and a fixture used without the extra fails
with the command that installs it. `pytest -p no:sigsentry_emulator` turns the plugin off.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pulumi.automation import ConfigValue

    from sigsentry_emulator.testing import ApiKeyInfo, EmulatorProcess

__all__ = ["SigSentryEmulator", "sigsentry_emulator", "sigsentry_emulator_process"]

INSTALL_HINT = "pip install 'sigsentry-pulumi[emulator]'"
_EXTRA_MODULES = ("fastapi", "uvicorn", "cryptography", "starlette")


class SigSentryEmulator:
    """One test's view of the running emulator: where it is, its key, its log, its faults.

    `url`, `api_key` and `project_id` reach it with a project-scoped key that may read and
    write; `stack_config()` is the same as Pulumi stack config. `process` is the
    `EmulatorProcess` itself, for what is not repeated here (restart, kill, its output).
    """

    def __init__(self, process: EmulatorProcess) -> None:
        self.process = process

    def __repr__(self) -> str:
        # Never the API key or the admin token: a repr ends up in assertion messages and logs.
        return f"SigSentryEmulator(url={self.url!r}, project_id={self.project_id!r})"

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def api_key(self) -> str:
        return self.process.api_key

    @property
    def project_id(self) -> str:
        return self.process.project_id

    @property
    def tenant_id(self) -> str:
        return self.process.tenant_id

    def stack_config(self, namespace: str = "sigsentry") -> dict[str, ConfigValue]:
        """The stack config that points the provider here, for `stack.set_all_config(...)`:
        `<namespace>:apiUrl`, `<namespace>:apiKey` (secret) and `<namespace>:projectId`.
        `namespace` is `sigsentry`, or an account's (`LogSource(account="tenantb")`)."""
        from pulumi.automation import ConfigValue

        return {
            f"{namespace}:apiUrl": ConfigValue(self.url),
            f"{namespace}:apiKey": ConfigValue(self.api_key, secret=True),
            f"{namespace}:projectId": ConfigValue(self.project_id),
        }

    def log_sources(self) -> list[dict[str, Any]]:
        """Every log source of the project, as the API lists them (credentials never shown)."""
        import httpx

        sources: list[dict[str, Any]] = []
        cursor: str | None = None
        headers = {"Authorization": f"Bearer {self.api_key}"}
        while True:
            params: dict[str, str | int] = {"limit": 500}
            if cursor:
                params["cursor"] = cursor
            response = httpx.get(
                f"{self.url}/v1/config/log-sources", headers=headers, params=params, timeout=30
            )
            response.raise_for_status()
            body = response.json()
            sources += body["data"]
            cursor = body.get("nextCursor")
            if not cursor:
                return sources

    def requests(self) -> list[dict[str, Any]]:
        """The requests answered since this test began: method, path, status, fault, ..."""
        return self.process.requests()

    def clear_requests(self) -> None:
        self.process.clear_requests()

    def set_faults(self, spec: Mapping[str, Any]) -> None:
        """Inject faults, such as `{"rules": [{"method": "POST", "fault": "503", "times": 1}]}`
        (docs/emulator.md); the next test starts without them."""
        self.process.set_faults(spec)

    def clear_faults(self) -> None:
        self.process.clear_faults()

    def set_quota(self, n: int) -> None:
        self.process.set_quota(n)

    def set_rate_limit(self, rate: float | None, burst: float | None = None) -> None:
        self.process.set_rate_limit(rate, burst)

    def create_key(self, **kwargs: Any) -> ApiKeyInfo:
        """Mint another API key: `permissions`, `project_id`, `tenant_id`, `new_tenant`, as
        `EmulatorProcess.create_key` takes them."""
        return self.process.create_key(**kwargs)

    def create_project(self, tenant_id: str | None = None) -> str:
        return self.process.create_project(tenant_id)


def _emulator_process_class() -> type[EmulatorProcess]:
    """`EmulatorProcess`, imported only now; a missing `emulator` extra fails the test, naming
    the command that installs it."""
    try:
        from sigsentry_emulator.testing import EmulatorProcess
    except ImportError as error:
        missing = getattr(error, "name", None) or ""
        if missing.split(".")[0] not in _EXTRA_MODULES:
            raise
    else:
        return EmulatorProcess
    # Outside the `except`: the message alone says it all, without the import's traceback.
    pytest.fail(
        f"the sigsentry_emulator fixtures need the emulator's dependencies ({missing} is not "
        f"installed): {INSTALL_HINT}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def sigsentry_emulator_process() -> Iterator[EmulatorProcess]:
    """One SigSentry emulator process for the session (per xdist worker), stopped at its end."""
    with _emulator_process_class()() as process:
        yield process


@pytest.fixture
def sigsentry_emulator(sigsentry_emulator_process: EmulatorProcess) -> SigSentryEmulator:
    """The session's emulator, reset for this test."""
    sigsentry_emulator_process.restore_defaults()
    return SigSentryEmulator(sigsentry_emulator_process)
