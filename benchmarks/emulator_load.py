"""Emulator throughput and latency for creates and lists under a small, bounded concurrent load.

For each concurrency level a fresh emulator starts (real subprocess, loopback, SQLite in a
temporary directory, quota and rate limit raised out of the way), then:

* `create`: REQUESTS distinct `POST /v1/config/log-sources`, at most C in flight;
* `list`:   REQUESTS `GET /v1/config/log-sources?limit=100` (first page), at most C in flight.

It prints, per phase and level: throughput (requests/s over the phase's wall time), latency
percentiles (ms, client-side, loopback) and the count of non-2xx answers, which must be zero.

    .venv/bin/python benchmarks/emulator_load.py [--requests 400] [--concurrency 1 4 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _emulator import started_emulator

LOG_SOURCES = "/v1/config/log-sources"


def create_body(i: int) -> dict[str, Any]:
    return {
        "type": "cloudwatch",
        "name": f"load-{i}",
        "credentials": {"accessKeyId": f"AKIALOAD{i:08d}", "secretAccessKey": "x" * 40},
        "sources": [f"/aws/lambda/fn-{i}"],
    }


def run_phase(client: httpx.Client, concurrency: int, calls: list[Any]) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0

    def one(call: Any) -> tuple[float, int]:
        started = time.perf_counter()
        status = call().status_code
        return time.perf_counter() - started, status

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for elapsed, status in pool.map(one, calls):
            latencies.append(elapsed * 1000)
            failures += not 200 <= status < 300
    wall = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(calls) / wall,
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "max": max(latencies),
        "errors": failures,
    }


def measure(requests: int, concurrency: int) -> dict[str, dict[str, float]]:
    with (
        tempfile.TemporaryDirectory(prefix="sigsentry-bench-") as tmp,
        started_emulator(Path(tmp), quota=requests + 10) as emulator,
        httpx.Client(
            base_url=emulator.url,
            headers={"Authorization": f"Bearer {emulator.api_key}"},
            limits=httpx.Limits(max_connections=concurrency),
            timeout=30,
        ) as client,
    ):
        creates = [
            lambda i=i: client.post(LOG_SOURCES, json=create_body(i)) for i in range(requests)
        ]
        lists = [lambda: client.get(LOG_SOURCES, params={"limit": 100})] * requests
        return {
            "create": run_phase(client, concurrency, creates),
            "list": run_phase(client, concurrency, lists),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    print(f"emulator load: {args.requests} requests per phase, loopback, one client process")
    print(
        f"{'phase':<7} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'errors':>6}"
    )
    for concurrency in args.concurrency:
        for phase, r in measure(args.requests, concurrency).items():
            print(
                f"{phase:<7} {concurrency:>4} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p95']:>8.1f} "
                f"{r['p99']:>8.1f} {r['max']:>8.1f} {r['errors']:>6.0f}"
            )


if __name__ == "__main__":
    main()
