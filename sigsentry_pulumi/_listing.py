"""The list walk that every Read of a process shares, and the fresh walk that confirms a miss.

There is no GET by id: finding one source means walking `GET /v1/config/log-sources`. A refresh
reads every source of a stack, many at a time, so walking once per source would cost
N * ceil(N/500) requests. Here the first Read starts a walk and any Read arriving meanwhile waits
for it (single flight); its result is then reused by later Reads until a write made in this
process (create, update, delete) invalidates it. A walk that fails is not kept: the next Read
starts a fresh one.

A source missing from that walk is not taken as gone on its word: one empty or short page (a
glitch, a proxy, a moment of eventual consistency) would otherwise drop every source a refresh
reads. `find` confirms a miss with a second walk that started after the missing walk had
finished, never that walk itself nor one running alongside it, and only that second walk's
answer counts (a source it finds is returned from it). The confirming walk is single flight as
well: every Read that misses in the same first walk shares it, so a refresh of N sources of
which k were deleted costs 2 walks, not k + 1, and one with nothing deleted still costs 1. Later
Reads keep looking in the first walk, so one confirming walk serves every miss of the refresh.
Two walks that both glitch on the same source still drop it: the confirmation makes that a
coincidence of two independent requests instead of one.

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
    """One walk, in flight (later arrivals wait for it) or finished.

    `started` and `finished` are ticks of the listing's clock, which counts every start and
    finish: a walk confirms a miss only if it started after the missing walk finished.
    """

    def __init__(self, started: int) -> None:
        self.started = started
        self.finished: int | None = None
        self._done = threading.Event()
        self._records: Snapshot = {}
        self._error: BaseException | None = None

    def finish(self, records: Snapshot, tick: int) -> None:
        self._records, self.finished = records, tick
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
        self._tick = 0
        # Per (client, project): the walk first looks use, and the latest walk that confirms a
        # miss. Each is in flight or finished; a failed one is removed, a write clears both.
        self._first: dict[_Key, _Walk] = {}
        self._confirming: dict[_Key, _Walk] = {}

    def find(
        self, client: SigSentryClient, log_source_id: str, project_id: str | None = None
    ) -> LogSourceRecord | None:
        """The record with this id, or None when two walks, the second fresh, both lack it."""
        key: _Key = (client, project_id)
        first = self._walk(self._first, key, client, after=None)
        record = first.result().get(log_source_id)
        if record is not None:
            return record
        assert first.finished is not None  # result() returned: the walk finished
        fresh = self._walk(self._confirming, key, client, after=first.finished)
        return fresh.result().get(log_source_id)

    def snapshot(self, client: SigSentryClient, project_id: str | None = None) -> Snapshot:
        """Every source of the project by id: the cached walk, the one in flight, or a new one.

        One walk's word: a source missing here may still exist (see `find`).
        """
        return self._walk(self._first, (client, project_id), client, after=None).result()

    def _walk(
        self, walks: dict[_Key, _Walk], key: _Key, client: SigSentryClient, after: int | None
    ) -> _Walk:
        """The walk in `walks` for `key` (one started after tick `after`, if given), or a new one
        this thread leads. The returned walk has finished or failed."""
        with self._lock:
            walk = walks.get(key)
            leading = walk is None or (after is not None and walk.started <= after)
            if leading:
                self._tick += 1
                walk = walks[key] = _Walk(self._tick)
        assert walk is not None
        if not leading:
            walk.result()  # wait for it, raising its error
            return walk
        try:
            records = {r.id: r for r in client.iter_log_sources(project_id=key[1])}
        except BaseException as error:
            with self._lock:
                if walks.get(key) is walk:
                    del walks[key]  # not kept: the next look starts a fresh walk
            walk.fail(error)
            raise
        with self._lock:
            self._tick += 1
            tick = self._tick
        # A write that landed meanwhile removed the walk from `walks`: its waiters get its
        # records, and no later look does.
        walk.finish(records, tick)
        return walk

    def invalidate(self) -> None:
        """Forget every snapshot: a write happened. A walk in flight finishes but is not kept."""
        with self._lock:
            self._first.clear()
            self._confirming.clear()
