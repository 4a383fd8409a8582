"""The list walk that every Read of a process shares.

There is no GET by id: finding one source means walking `GET /v1/config/log-sources`. A refresh
reads every source of a stack, up to four at a time, so walking once per source would cost
N * ceil(N/500) requests. Here the first Read starts a walk and any Read arriving meanwhile waits
for it (single flight); its result is then reused by later Reads until a write made in this
process (create, update, delete) invalidates it. A walk that fails is not kept: the next Read
starts a fresh one.

Not implemented: expiry by age. A snapshot lives until the next write in the process, which is
right for one deployment (one plugin process); a long-lived script that needs fresh data should
call `invalidate()` or use `SigSentryClient.iter_log_sources` directly.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only types: the provider's module imports this one, and pydantic waits for a request.
    from ._client import SigSentryClient
    from ._models import LogSourceRecord

__all__ = ["SharedListing"]

_Key = tuple["SigSentryClient", str | None]
Snapshot = Mapping[str, "LogSourceRecord"]


class _Walk:
    """One walk in flight, which later arrivals wait for."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self._done = threading.Event()
        self._records: Snapshot = {}
        self._error: BaseException | None = None

    def finish(self, records: Snapshot) -> None:
        self._records = records
        self._done.set()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._done.set()

    def result(self) -> Snapshot:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._records


class SharedListing:
    """Walks of the list endpoint, one at a time per (client, project), cached until a write."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._snapshots: dict[_Key, Snapshot] = {}
        self._in_flight: dict[_Key, _Walk] = {}

    def find(
        self, client: SigSentryClient, log_source_id: str, project_id: str | None = None
    ) -> LogSourceRecord | None:
        """The record with this id, or None when the project has no such source."""
        return self.snapshot(client, project_id).get(log_source_id)

    def snapshot(self, client: SigSentryClient, project_id: str | None = None) -> Snapshot:
        """Every source of the project by id: the cached walk, the one in flight, or a new one."""
        key: _Key = (client, project_id)
        with self._lock:
            cached = self._snapshots.get(key)
            if cached is not None:
                return cached
            walk = self._in_flight.get(key)
            leading = walk is None
            if walk is None:
                walk = self._in_flight[key] = _Walk(self._generation)
        if not leading:
            return walk.result()
        try:
            records = {r.id: r for r in client.iter_log_sources(project_id=project_id)}
        except BaseException as error:
            with self._lock:
                if self._in_flight.get(key) is walk:
                    del self._in_flight[key]
            walk.fail(error)
            raise
        with self._lock:
            if self._in_flight.get(key) is walk:
                del self._in_flight[key]
            if walk.generation == self._generation:
                self._snapshots[key] = records
        walk.finish(records)
        return records

    def invalidate(self) -> None:
        """Forget every snapshot: a write happened. A walk in flight finishes but is not kept."""
        with self._lock:
            self._generation += 1
            self._snapshots.clear()
            self._in_flight.clear()
