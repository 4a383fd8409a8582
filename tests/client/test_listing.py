"""The shared list walk: concurrent Reads share one walk, reused until a write invalidates it;
a miss counts only when a fresh walk, shared by the Reads that missed, confirms it."""

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
        self.empty_walks = 0
        """How many of the next walks answer an empty list (a glitching page)."""

    def iter_log_sources(self, *, project_id: str | None = None) -> Iterator[LogSourceRecord]:
        self.walks += 1
        self.started.set()
        self.release.wait(timeout=10)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("walk failed")
        if self.empty_walks:
            self.empty_walks -= 1
            return
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
    assert listing.find(as_client(client), record(1)["id"]) is not None
    assert client.walks == 1
    listing.invalidate()
    listing.find(as_client(client), record(1)["id"])
    assert client.walks == 2


def test_a_source_missing_from_a_glitching_walk_is_found_by_the_fresh_walk() -> None:
    client = CountingClient([record(1)])
    client.empty_walks = 1
    listing = SharedListing()
    found = listing.find(as_client(client), record(1)["id"])
    assert found is not None and found.id == record(1)["id"]
    assert client.walks == 2


def test_a_source_missing_from_two_walks_is_gone_and_later_misses_cost_nothing_more() -> None:
    client = CountingClient([record(1)])
    listing = SharedListing()
    assert listing.find(as_client(client), "ls_missing") is None
    assert listing.find(as_client(client), "ls_missing_too") is None
    assert listing.find(as_client(client), record(1)["id"]) is not None
    assert client.walks == 2  # the first walk, and one fresh walk confirming both misses


def test_reads_that_miss_together_share_one_confirming_walk() -> None:
    # An empty first walk: every read misses, and all of them wait for one fresh walk.
    client = CountingClient([record(i) for i in range(8)])
    client.empty_walks = 1
    listing = SharedListing()
    client.release.clear()
    found: list[object] = []

    def read(index: int) -> None:
        found.append(listing.find(as_client(client), record(index)["id"]))

    threads = [threading.Thread(target=read, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    client.release.set()
    for t in threads:
        t.join(timeout=10)
    assert len(found) == 8 and all(found)
    assert client.walks == 2


def test_the_confirming_walk_starts_after_the_walk_that_missed() -> None:
    # A walk in flight when the miss is seen ran alongside the missing one: it cannot confirm.
    client = CountingClient([record(1)])
    client.empty_walks = 1
    listing = SharedListing()
    assert listing.snapshot(as_client(client)) == {}  # the first walk glitched
    starts: list[int] = []
    original = client.iter_log_sources

    def recording(*, project_id: str | None = None) -> Iterator[LogSourceRecord]:
        starts.append(client.walks)
        return original(project_id=project_id)

    client.iter_log_sources = recording  # type: ignore[method-assign]
    assert listing.find(as_client(client), record(1)["id"]) is not None
    assert starts == [1]  # one new walk, begun after the first had answered


def test_a_failed_confirming_walk_raises_rather_than_reporting_the_source_gone() -> None:
    client = CountingClient([record(1)])
    client.empty_walks = 1
    listing = SharedListing()
    assert listing.snapshot(as_client(client)) == {}
    client.fail_next = True
    with pytest.raises(RuntimeError):
        listing.find(as_client(client), record(1)["id"])
    assert listing.find(as_client(client), record(1)["id"]) is not None  # the next one walks


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
