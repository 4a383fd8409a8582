"""`EmulatorProcess`: the emulator as a real subprocess on 127.0.0.1, for tests.

```python
from sigsentry_emulator.testing import EmulatorProcess

with EmulatorProcess(quota=10) as emu:            # starts, waits for /healthz
    httpx.get(f"{emu.url}/v1/config/log-sources",
              headers={"Authorization": f"Bearer {emu.api_key}"})
    emu.set_faults({"rules": [{"method": "POST", "fault": "503", "times": 1}]})
    emu.requests()                                 # what the server answered
    reader = emu.create_key(permissions=["config:read"])
```

Each instance seeds its own tenant, project and project-scoped key (`config:read` +
`config:write`) and an admin token, all random, through a private 0600 seed file and an
environment variable (never the command line, which other users can read). The server binds port
0 and prints the bound port on its first stdout line, so parallel test workers never collide; a
thread keeps draining its output so it never blocks on a full pipe, and `--exit-with-parent` makes
it exit when the test process dies, even by SIGKILL. Without `db_path` the database lives in a
private temporary directory removed when the object is closed or collected.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import httpx

from .__main__ import ADMIN_TOKEN_ENV_VAR
from .backend import DEFAULT_QUOTA, READ, WRITE
from .ratelimit import DEFAULT_RATE

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
DEFAULT_PERMISSIONS: Final = (READ, WRITE)
_LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
_SAME_PROJECT: Any = ...


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key minted through the admin API.

    `project_id` is None for a tenant-scoped key; `default_project_id` is always a project of the
    key's tenant (send it as `X-Project-Id` with a tenant-scoped key).
    """

    api_key: str = field(repr=False)
    key_id: str
    tenant_id: str
    project_id: str | None
    default_project_id: str
    permissions: tuple[str, ...]


class EmulatorError(RuntimeError):
    """The emulator process failed to start, or an admin call failed."""


class EmulatorProcess:
    """Runs `python -m sigsentry_emulator` on 127.0.0.1 and drives its admin API."""

    def __init__(
        self,
        db_path: Path | None = None,
        *,
        quota: int = DEFAULT_QUOTA,
        rate_limit: float | None = None,
        extra_args: Sequence[str] = (),
        tenant_id: str | None = None,
        project_id: str | None = None,
        api_key: str | None = None,
    ) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="sigsentry-emulator-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmp, ignore_errors=True)
        self.db_path = Path(db_path) if db_path is not None else self._tmp / "emulator.db"
        self.default_quota = quota
        self.default_rate_limit = rate_limit
        self._quota = quota
        self._rate: tuple[float, float | None] | None = (
            None if rate_limit is None else (rate_limit, None)
        )
        self._extra_args = tuple(extra_args)
        # Random unless given: a test that brings its own database (a saved one) names the
        # tenant, project and key that database already holds.
        self.tenant_id = tenant_id or f"tnt_{secrets.token_hex(6)}"
        self.project_id = project_id or f"prj_{secrets.token_hex(6)}"
        self.api_key = api_key or f"ss_secret_{secrets.token_urlsafe(24)}"
        self.admin_token = secrets.token_urlsafe(24)
        self._seed_file = self._write_seed_file()
        self._process: subprocess.Popen[str] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=500)
        self.port: int | None = None
        self.url = ""
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"EmulatorProcess(url={self.url!r}, db_path={str(self.db_path)!r})"

    # lifecycle

    def start(self) -> EmulatorProcess:
        """Start the server (port 0: a free one) and wait until /healthz answers."""
        self._spawn(port=0)
        return self

    def restart(self) -> None:
        """Stop if running, start again on the same database, on the same port if it is free."""
        if self.is_running:
            self.stop()
        previous = self.port or 0
        try:
            self._spawn(port=previous)
        except EmulatorError:
            if previous == 0:
                raise
            self._spawn(port=0)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL (`kill -9`): no shutdown, no flush beyond what SQLite has committed."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def close(self) -> None:
        """Stop the server and remove the private temporary directory."""
        self.stop()
        if self._client is not None:
            self._client.close()
            self._client = None
        self._cleanup()

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def output(self) -> list[str]:
        """The server's most recent stdout/stderr lines (for failure diagnostics)."""
        return list(self._output)

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # admin API

    def reset(self) -> None:
        """Drop all log sources and idempotency records, clear the request log; keep keys."""
        self._admin("POST", "/_admin/reset")

    def requests(self) -> list[dict[str, Any]]:
        """Requests answered since the last reset/clear (admin calls and /healthz excluded).

        Each entry: time, method, path, query, status, requestId, replayed, fault. For a `drop`
        fault, status is what the server produced before it closed the connection unanswered.
        """
        entries: list[dict[str, Any]] = self._admin("GET", "/_admin/requests")
        return entries

    def clear_requests(self) -> None:
        self._admin("DELETE", "/_admin/requests")

    def set_faults(self, spec: Mapping[str, Any]) -> None:
        """Install a fault spec (see `sigsentry_emulator.faults`), replacing the previous one."""
        self._admin("PUT", "/_admin/faults", dict(spec))

    def clear_faults(self) -> None:
        self._admin("DELETE", "/_admin/faults")

    def set_quota(self, n: int) -> None:
        """Set logSourcesPerProject; kept across `restart()`."""
        self._admin("PUT", "/_admin/settings", {"quota": n})
        self._quota = n

    def set_rate_limit(self, rate: float | None, burst: float | None = None) -> None:
        """Requests per second per key and bucket size (default 2 x rate); 0 disables limiting,
        None restores the server default (100/s, burst 200). Kept across `restart()`."""
        effective = (rate, burst) if rate is not None else (DEFAULT_RATE, None)
        self._admin(
            "PUT", "/_admin/settings", {"rateLimit": {"rate": effective[0], "burst": effective[1]}}
        )
        self._rate = None if rate is None else (rate, burst)

    def restore_defaults(self) -> None:
        """What a fresh test wants: reset, no faults, the constructor's quota and rate limit."""
        if not self.is_running:
            self.restart()
        self.reset()
        self.clear_faults()
        self.set_quota(self.default_quota)
        self.set_rate_limit(self.default_rate_limit)

    def create_key(
        self,
        *,
        permissions: Sequence[str] = DEFAULT_PERMISSIONS,
        project_id: str | None = _SAME_PROJECT,
        tenant_id: str | None = None,
        new_tenant: bool = False,
    ) -> ApiKeyInfo:
        """Mint an API key.

        project_id: omitted → the seeded project (or, with `new_tenant`/`tenant_id`, that
        tenant's first project, created if needed); None → a tenant-scoped key; a `prj_...`
        id → that project (created in the tenant if it does not exist).
        tenant_id: None → the seeded tenant; new_tenant=True → a brand-new tenant.
        """
        body: dict[str, Any] = {"permissions": list(permissions), "newTenant": new_tenant}
        if tenant_id is not None:
            body["tenantId"] = tenant_id
        if project_id is None:
            body["tenantScoped"] = True
        elif project_id is not _SAME_PROJECT:
            body["projectId"] = project_id
        elif tenant_id is None and not new_tenant:
            body["projectId"] = self.project_id
        data = self._admin("POST", "/_admin/keys", body)
        return ApiKeyInfo(
            api_key=data["apiKey"],
            key_id=data["keyId"],
            tenant_id=data["tenantId"],
            project_id=data["projectId"],
            default_project_id=data["defaultProjectId"],
            permissions=tuple(data["permissions"]),
        )

    def credential_differences(self, source_id: str, credentials: Mapping[str, str]) -> list[str]:
        """The credential keys whose value SigSentry stores for `source_id` is not the one given
        (a key missing on either side counts); empty when they all match. Values never leave
        the emulator: it compares them itself."""
        data = self._admin(
            "POST",
            f"/_admin/log-sources/{source_id}/credentials/compare",
            {"credentials": dict(credentials)},
        )
        differing: list[str] = data["differingKeys"]
        return differing

    def create_project(self, tenant_id: str | None = None) -> str:
        """A new project in `tenant_id` (default: the seeded tenant); returns its id."""
        data = self._admin("POST", "/_admin/projects", {"tenantId": tenant_id or self.tenant_id})
        project: str = data["projectId"]
        return project

    # internals

    def _write_seed_file(self) -> Path:
        seed = {
            "tenants": [
                {
                    "id": self.tenant_id,
                    "projects": [self.project_id],
                    "keys": [
                        {
                            "key": self.api_key,
                            "project": self.project_id,
                            "permissions": list(DEFAULT_PERMISSIONS),
                        }
                    ],
                }
            ]
        }
        path = self._tmp / "seed.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(seed, f)
        return path

    def _command(self, port: int) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "sigsentry_emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(self.db_path),
            "--seed",
            str(self._seed_file),
            "--admin",
            "--quota",
            str(self._quota),
            "--exit-with-parent",
            str(os.getpid()),
        ]
        if self._rate is not None:
            command += ["--rate-limit", str(self._rate[0])]
            if self._rate[1] is not None:
                command += ["--rate-burst", str(self._rate[1])]
        return command + list(self._extra_args)

    def _spawn(self, port: int) -> None:
        env = {**os.environ, ADMIN_TOKEN_ENV_VAR: self.admin_token}
        process = subprocess.Popen(
            self._command(port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            bufsize=1,
        )
        first_line: queue.Queue[str | None] = queue.Queue()
        threading.Thread(
            target=self._drain, args=(process, first_line), name="emulator-output", daemon=True
        ).start()
        self._process = process
        try:
            line = first_line.get(timeout=START_TIMEOUT_SECONDS)
        except queue.Empty:
            line = None
        match = _LISTENING.search(line or "")
        if match is None:
            self.kill()
            time.sleep(0.05)  # let the drain thread collect the last lines
            raise EmulatorError(
                "the emulator did not start:\n" + "\n".join(self._output or ["(no output)"])
            )
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_healthy(process)

    def _drain(self, process: subprocess.Popen[str], first_line: queue.Queue[str | None]) -> None:
        assert process.stdout is not None
        told = False
        for line in process.stdout:
            self._output.append(line.rstrip("\n"))
            if not told:
                first_line.put(line)
                told = True
        if not told:
            first_line.put(None)
        process.stdout.close()

    def _wait_healthy(self, process: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise EmulatorError(
            "the emulator never became healthy:\n" + "\n".join(self._output or ["(no output)"])
        )

    def _admin(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        if not self.url:
            raise EmulatorError("the emulator is not started: call start() first")
        if self._client is None or self._client.base_url != httpx.URL(self.url):
            if self._client is not None:
                self._client.close()
            self._client = httpx.Client(
                base_url=self.url, headers={"X-Admin-Token": self.admin_token}, timeout=30
            )
        response = self._client.request(method, path, json=body)
        if response.status_code >= 300:
            raise EmulatorError(f"{method} {path} failed: {response.status_code} {response.text}")
        return response.json()["data"]
