"""Test doubles for the client: a fake clock whose sleep only moves time, and a scripted API."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

from sigsentry_pulumi import SigSentryClient

API_KEY = "ss_secret_client-test-key-0123456789"
BASE_URL = "https://api.sigsentry.test"


class FakeClock:
    """`time.monotonic` and `time.sleep` stand-ins: sleeping records and advances, never waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[float], None] | None = None
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        hook, self.on_sleep = self.on_sleep, None
        if hook is not None:
            hook(seconds)
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def envelope(data: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"success": True, "data": data}, headers=headers)


def page(records: list[dict[str, Any]], next_cursor: str | None = None) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": records, "nextCursor": next_cursor})


def error(
    status: int, code: str, message: str = "failed", details: Any = None, **headers: str
) -> httpx.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return httpx.Response(
        status,
        json={"success": False, "error": body},
        headers={"X-Request-Id": "req_server_1", **headers},
    )


def record(index: int = 0, **overrides: Any) -> dict[str, Any]:
    value = {
        "id": f"ls_00000000-0000-4000-8000-{index:012d}",
        "tenantId": "tnt_test",
        "projectId": "prj_test",
        "type": "cloudwatch",
        "name": f"source-{index}",
        "sources": ["/aws/lambda/checkout-api"],
        "isActive": True,
        "createdAt": "2026-04-25T14:30:12Z",
        "updatedAt": "2026-04-25T14:30:12Z",
    }
    value.update(overrides)
    return value


class ScriptedAPI:
    """An httpx.MockTransport handler answering from a script and recording every request."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.script = list(responses)
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            answer = self.script.pop(0) if self.script else envelope({"updated": True})
        if isinstance(answer, Exception):
            raise answer
        return answer

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def make_client(
    api: Callable[[httpx.Request], httpx.Response],
    clock: FakeClock | None = None,
    *,
    jitter: float = 1.0,
    **options: Any,
) -> SigSentryClient:
    """A client answered by `api` through a mock transport, waiting on `clock` (a new one by
    default); `options` go to `SigSentryClient` (`max_retries` 3 unless given)."""
    clock = clock or FakeClock()
    return SigSentryClient(
        API_KEY,
        base_url=BASE_URL,
        transport=httpx.MockTransport(api),
        sleep=clock.sleep,
        clock=clock.monotonic,
        jitter=lambda: jitter,
        **{"max_retries": 3, **options},
    )
