"""The shared list walk: concurrent Reads share one walk, reused until a write invalidates it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, cast

import pytest

from client.fakes import record
from sigsentry_pulumi import SigSentryClient
from sigsentry_pulumi._listing import SharedListing
from sigsentry_pulumi._models import LogSourceRecord


class CountingClient:
    """Stands in for SigSentryClient.iter_log_sources, counting walks; can hold a walk open."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = [LogSourceRecord.model_validate(r) for r in records]
        self.walks = 0
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()
        self.fail_next = False

    def iter_log_sources(self, *, project_id: str | None = None) -> Iterator[LogSourceRecord]:
        self.walks += 1
        self.started.set()
        self.release.wait(timeout=10)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("walk failed")
        yield from self.records


def as_client(fake: CountingClient) -> SigSentryClient:
    """The fake where SharedListing takes a client: the listing only calls iter_log_sources."""
    return cast("SigSentryClient", fake)


def test_concurrent_reads_share_one_walk() -> None:
    client = CountingClient([record(i) for i in range(5)])
    listing = SharedListing()
    client.release.clear()
    found: list[object] = []

    def read(index: int) -> None:
        found.append(listing.find(as_client(client), record(index)["id"]))

    threads = [threading.Thread(target=read, args=(i,)) for i in range(4)]
    threads[0].start()
    client.started.wait(timeout=10)
    for t in threads[1:]:
        t.start()
    client.release.set()
    for t in threads:
        t.join(timeout=10)
    assert client.walks == 1
    assert len(found) == 4 and all(found)


def test_a_snapshot_is_reused_until_invalidated() -> None:
    client = CountingClient([record(1)])
    listing = SharedListing()
    assert listing.find(as_client(client), record(1)["id"]) is not None
    assert listing.find(as_client(client), "ls_missing") is None
    assert client.walks == 1
    listing.invalidate()
    listing.find(as_client(client), record(1)["id"])
    assert client.walks == 2


def test_projects_are_walked_separately() -> None:
    client = CountingClient([record(1)])
    listing = SharedListing()
    listing.snapshot(as_client(client), "prj_a")
    listing.snapshot(as_client(client), "prj_b")
    listing.snapshot(as_client(client), "prj_a")
    assert client.walks == 2


def test_a_failed_walk_is_not_kept() -> None:
    client = CountingClient([record(1)])
    client.fail_next = True
    listing = SharedListing()
    with pytest.raises(RuntimeError):
        listing.snapshot(as_client(client))
    assert record(1)["id"] in listing.snapshot(as_client(client))
    assert client.walks == 2


def test_a_walk_overtaken_by_a_write_is_not_cached() -> None:
    client = CountingClient([record(1)])
    listing = SharedListing()
    client.release.clear()
    worker = threading.Thread(target=listing.snapshot, args=(client,))
    worker.start()
    client.started.wait(timeout=10)
    listing.invalidate()  # a write lands while the walk is still reading pages
    client.release.set()
    worker.join(timeout=10)
    listing.snapshot(as_client(client))
    assert client.walks == 2
