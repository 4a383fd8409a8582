"""Refresh cost: list requests and wall time to read N sources, shared walk vs one walk per source.

The API has no GET by id, so reading a source means walking `GET /v1/config/log-sources`
(at most 500 per page). For N = 100, 300, 1000 sources in one project:

* `pulumi refresh`: what a refresh costs with this provider, through the real Pulumi CLI (an
  inline Automation API stack whose N sources a `pulumi up` made first, untimed): the engine
  reads every source through the plugin, four at a time; concurrent Reads share one walk
  (single flight) and later Reads reuse it. The wall time is the whole command's.
* `shared`: the same shared walk (`SharedListing`) called in-process from four threads, to compare
  with the next row on equal terms (no gRPC).
* `walk per source`: the naive provider. Each Read walks the list from the first page until it
  finds its source (`SigSentryClient.find_log_source`), four at a time.

Requests are counted from the emulator's own request log (only `GET /v1/config/log-sources`).
Each N gets a fresh emulator (real subprocess, loopback, rate limit off); the in-process rows
read the sources the `pulumi up` made.

    .venv/bin/python benchmarks/refresh_cost.py [--sizes 100 300 1000]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import Bench, changed, timed  # noqa: E402
from _emulator import started_emulator  # noqa: E402

from sigsentry_pulumi import SigSentryClient  # noqa: E402
from sigsentry_pulumi._listing import SharedListing  # noqa: E402

LOG_SOURCES = "/v1/config/log-sources"
PAGE = 500
ENGINE_CONCURRENCY = 4  # the SDK plugin's own width (sigsentry:parallelism widens it; see README)


def list_requests(emulator: Any) -> int:
    return sum(1 for r in emulator.requests() if r["method"] == "GET" and r["path"] == LOG_SOURCES)


def deployed(bench: Bench, count: int) -> tuple[Any, list[dict[str, Any]]]:
    """A stack holding `count` sources, made by `pulumi up`, and the sources SigSentry holds."""
    stack = bench.ours(count, "refresh")
    result, seconds = timed(lambda: stack.up(show_secrets=False))
    assert changed(result, "create") == count + 1, result.summary.resource_changes
    print(f"{count:>5}  (the `pulumi up` making them, not a row: {seconds:.1f} s)", flush=True)
    client = SigSentryClient(bench.api_key, base_url=bench.api_url)
    return stack, [{"id": record.id} for record in client.iter_log_sources()]


def real_refresh(emulator: Any, stack: Any, count: int) -> tuple[int, float]:
    emulator.clear_requests()
    result, elapsed = timed(lambda: stack.refresh())
    assert changed(result, "same") == count + 1, result.summary.resource_changes
    return list_requests(emulator), elapsed


def shared_walk_in_process(emulator: Any, records: list[dict[str, Any]]) -> tuple[int, float]:
    """The provider's shared walk without the plugin: same client, same threads as the naive
    strategy below, so the two wall times compare the strategies alone."""
    client = SigSentryClient(emulator.api_key, base_url=emulator.url)
    listing = SharedListing()
    emulator.clear_requests()
    started = time.perf_counter()
    with ThreadPoolExecutor(ENGINE_CONCURRENCY) as pool:
        found = list(pool.map(lambda r: listing.find(client, r["id"], None), records))
    elapsed = time.perf_counter() - started
    assert all(record is not None for record in found), "a Read did not find its source"
    return list_requests(emulator), elapsed


def walk_per_source(emulator: Any, records: list[dict[str, Any]]) -> tuple[int, float]:
    client = SigSentryClient(emulator.api_key, base_url=emulator.url)
    emulator.clear_requests()
    started = time.perf_counter()
    with ThreadPoolExecutor(ENGINE_CONCURRENCY) as pool:
        found = list(pool.map(lambda r: client.find_log_source(r["id"]), records))
    elapsed = time.perf_counter() - started
    assert all(record is not None for record in found), "a walk did not find its source"
    return list_requests(emulator), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    args = parser.parse_args()
    print(f"refresh cost: list page size {PAGE}, {ENGINE_CONCURRENCY} Reads at a time, loopback")
    print(f"{'N':>5}  {'strategy':<16} {'list requests':>13} {'expected':>9} {'wall s':>7}")
    for n in args.sizes:
        with (
            tempfile.TemporaryDirectory(prefix="sigsentry-bench-") as tmp,
            started_emulator(Path(tmp), quota=n + 10) as emulator,
        ):
            stack, records = deployed(Bench(Path(tmp), emulator), n)
            # Expected: one walk in all, vs for the i-th source (0-based) ceil((i+1)/PAGE) pages.
            rows = [
                ("pulumi refresh", real_refresh(emulator, stack, n), math.ceil(n / PAGE)),
                ("shared", shared_walk_in_process(emulator, records), math.ceil(n / PAGE)),
                (
                    "walk per source",
                    walk_per_source(emulator, records),
                    sum(math.ceil((i + 1) / PAGE) for i in range(n)),
                ),
            ]
            for name, (count, seconds), expected in rows:
                print(f"{n:>5}  {name:<16} {count:>13} {expected:>9} {seconds:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
