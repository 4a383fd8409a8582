"""Refresh cost: list requests and wall time to read N sources, shared walk vs one walk per source.

The API has no GET by id, so reading a source means walking `GET /v1/config/log-sources`
(at most 500 per page). For N = 100, 300, 1000 sources in one project:

* `shared, plugin`: what `pulumi refresh` costs with this provider. The real `python -m
  pulumi.dynamic` plugin is started and configured, and every source is read through its gRPC
  Read, four at a time (the engine's concurrency), as a refresh does; concurrent Reads share one
  walk (single flight) and later Reads reuse it.
* `shared`: the same shared walk (`SharedListing`) called in-process from four threads, to compare
  with the next row on equal terms (no gRPC).
* `walk per source`: the naive provider. Each Read walks the list from the first page until it
  finds its source (`SigSentryClient.find_log_source`), four at a time.

Requests are counted from the emulator's own request log (only `GET /v1/config/log-sources`).
Each N gets a fresh emulator (real subprocess, loopback, rate limit off).

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

import httpx
from pulumi.dynamic.dynamic import serialize_provider

from sigsentry_pulumi import LogSourceProvider, SigSentryClient
from sigsentry_pulumi._listing import SharedListing
from sigsentry_pulumi.testing import ProviderPlugin

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _emulator import started_emulator

LOG_SOURCES = "/v1/config/log-sources"
PAGE = 500
ENGINE_CONCURRENCY = 4  # the plugin's gRPC server runs at most 4 calls at once
TYPE = "pulumi-python:dynamic/sigsentry:LogSource"


def seed_sources(emulator: Any, count: int) -> list[dict[str, Any]]:
    """Create `count` sources over HTTP (8 at a time); return what a create would have stored."""
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    with (
        httpx.Client(base_url=emulator.url, headers=headers, timeout=30) as client,
        ThreadPoolExecutor(8) as pool,
    ):

        def create(i: int) -> dict[str, Any]:
            body = {
                "type": "cloudwatch",
                "name": f"refresh-{i}",
                "credentials": {"accessKeyId": f"AKIAREFRESH{i:06d}", "secretAccessKey": "x" * 40},
                "sources": [f"/aws/lambda/fn-{i}"],
            }
            response = client.post(LOG_SOURCES, json=body)
            response.raise_for_status()
            return {**body, **response.json()["data"]}

        return list(pool.map(create, range(count)))


def list_requests(emulator: Any) -> int:
    return sum(1 for r in emulator.requests() if r["method"] == "GET" and r["path"] == LOG_SOURCES)


def shared_walk(emulator: Any, records: list[dict[str, Any]]) -> tuple[int, float]:
    provider = serialize_provider(LogSourceProvider())
    with ProviderPlugin(cwd=Path.cwd()) as plugin:
        plugin.configure({"sigsentry:apiUrl": emulator.url, "sigsentry:apiKey": emulator.api_key})
        emulator.clear_requests()

        def read(record: dict[str, Any]) -> bool:
            state = {
                "__provider": provider,
                "type": record["type"],
                "name": record["name"],
                "credentials": record["credentials"],
                "sources": record["sources"],
                "isActive": True,
                "verify": False,
            }
            urn = f"urn:pulumi:bench::refresh::{TYPE}::{record['name']}"
            found: str = plugin.read(record["id"], urn, state, state).id
            return found == str(record["id"])

        started = time.perf_counter()
        with ThreadPoolExecutor(ENGINE_CONCURRENCY) as pool:
            found = list(pool.map(read, records))
        elapsed = time.perf_counter() - started
    assert all(found), "a Read did not find its source"
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
            records = seed_sources(emulator, n)
            # Expected: one walk in all, vs for the i-th source (0-based) ceil((i+1)/PAGE) pages.
            rows = [
                ("shared, plugin", shared_walk(emulator, records), math.ceil(n / PAGE)),
                ("shared", shared_walk_in_process(emulator, records), math.ceil(n / PAGE)),
                (
                    "walk per source",
                    walk_per_source(emulator, records),
                    sum(math.ceil((i + 1) / PAGE) for i in range(n)),
                ),
            ]
            for name, (count, seconds), expected in rows:
                print(f"{n:>5}  {name:<16} {count:>13} {expected:>9} {seconds:>7.2f}")


if __name__ == "__main__":
    main()
