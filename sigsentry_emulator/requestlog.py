"""An in-memory log of the requests the API answered, for tests that count or inspect calls.

Entries hold method, path, query string, status, request id, whether an idempotent replay was
served, the injected fault if any, and the time. Never bodies or headers: bodies carry
credentials and headers carry API keys. Admin and health-check calls are not logged. The log is
bounded (oldest entries dropped) and does not survive a restart.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime

MAX_ENTRIES = 10_000


class RequestLog:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, object]] = deque(maxlen=max_entries)

    def add(
        self,
        *,
        method: str,
        path: str,
        query: str,
        status: int | None,
        request_id: str,
        replayed: bool,
        fault: str | None,
    ) -> None:
        entry: dict[str, object] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "requestId": request_id,
            "replayed": replayed,
            "fault": fault,
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, object]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
