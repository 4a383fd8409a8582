"""`pulumi up`, `refresh` and `destroy` of N log sources through the real CLI, against two floors.

For N sources (default 200), one run measures, per phase (up: create N; refresh: read N;
destroy: delete N), the wall time of:

* `ours`: the real Pulumi CLI (Automation API, inline program `tools.fault_plans.
  many_sources_program`) with `LogSource` against the emulator;
* `engine floor`: the same program shape over `_noop_provider.NoopProvider`, which answers every
  call at once with outputs shaped like ours: what the engine, the plugin and the state cost
  with no provider work and no HTTP at all;
* `API floor`: the HTTP requests `ours` made in that phase, taken from the emulator's request log
  (method, path, query; POST bodies rebuilt from the program, ids mapped by name), sent from ONE
  keep-alive `httpx.Client`, as many at a time as ours runs calls at once (the lesser of
  `sigsentry:parallelism` and the engine's `--parallel`, 4 per CPU core); `API floor, 1 at a
  time` sends them sequentially.

Each repetition uses fresh stacks (a create's Idempotency-Key is derived from the stack, so a
reused stack would replay the previous repetition's creates). The emulator is a real subprocess
on loopback with the rate limit off; medians of `--repeat` runs are printed.

    .venv/bin/python benchmarks/engine_cost.py [--count 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCHMARKS))

import httpx  # noqa: E402
from _cli import CREDENTIALS, Bench, changed, timed  # noqa: E402
from _emulator import started_emulator  # noqa: E402

from sigsentry_pulumi._constants import DEFAULT_PARALLELISM  # noqa: E402

PHASES = ("up", "refresh", "destroy")
ENGINE_CONCURRENCY = min(DEFAULT_PARALLELISM, 4 * (os.cpu_count() or 1))
LOG_SOURCES = "/v1/config/log-sources"

Request = Mapping[str, Any]


def source_body(index: int) -> dict[str, Any]:
    """What `many_sources_program` makes the provider POST for source `index`."""
    return {
        "type": "datadog",
        "name": f"src-{index:03d}",
        "credentials": {"apiKey": CREDENTIALS["secretA"], "appKey": CREDENTIALS["secretB"]},
        "sources": [f"service:app-{index}"],
    }


def all_sources(client: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        body = client.get(LOG_SOURCES, params=params).raise_for_status().json()
        found += body["data"]
        cursor = body.get("nextCursor")
        if not cursor:
            return found


def run_ours(bench: Bench, count: int, stack: str) -> tuple[dict[str, float], dict[str, Any]]:
    """Ours: up, refresh, destroy; returns wall times and each phase's requests (and names)."""
    emulator = bench.emulator
    assert emulator is not None
    pulumi_stack = bench.ours(count, stack)
    seconds: dict[str, float] = {}
    logged: dict[str, Any] = {}
    emulator.clear_requests()
    result, seconds["up"] = timed(lambda: pulumi_stack.up(show_secrets=False))
    assert changed(result, "create") == count + 1, result.summary.resource_changes
    logged["up"] = emulator.requests()
    with httpx.Client(
        base_url=emulator.url, headers={"Authorization": f"Bearer {emulator.api_key}"}
    ) as client:
        logged["names"] = {s["id"]: s["name"] for s in all_sources(client)}
    emulator.clear_requests()
    result, seconds["refresh"] = timed(lambda: pulumi_stack.refresh())
    logged["refresh"] = emulator.requests()
    emulator.clear_requests()
    result, seconds["destroy"] = timed(lambda: pulumi_stack.destroy())
    assert changed(result, "delete") == count + 1, result.summary.resource_changes
    logged["destroy"] = emulator.requests()
    emulator.clear_requests()
    return seconds, logged


def run_engine_floor(bench: Bench, count: int, stack: str) -> dict[str, float]:
    pulumi_stack = bench.noop(count, stack)
    seconds: dict[str, float] = {}
    result, seconds["up"] = timed(lambda: pulumi_stack.up(show_secrets=False))
    assert changed(result, "create") == count + 1, result.summary.resource_changes
    _, seconds["refresh"] = timed(lambda: pulumi_stack.refresh())
    result, seconds["destroy"] = timed(lambda: pulumi_stack.destroy())
    assert changed(result, "delete") == count + 1, result.summary.resource_changes
    return seconds


def run_api_floor(
    bench: Bench,
    logged: Mapping[str, Any],
    concurrency: int,
    phases: tuple[str, ...] = PHASES,
) -> dict[str, float]:
    """Ours' requests of each of `phases` again, from one keep-alive client, `concurrency` at a
    time.

    POSTs get the body ours sent for the same name and an Idempotency-Key of their own; a path
    naming one of ours' ids names the floor's source of the same name instead.
    """
    emulator = bench.emulator
    assert emulator is not None
    names: dict[str, str] = logged["names"]
    by_name: dict[str, str] = {}
    created = iter(range(len(names)))
    indices = {name: int(name.split("-")[1]) for name in names.values()}
    seconds: dict[str, float] = {}
    with (
        httpx.Client(
            base_url=emulator.url,
            headers={"Authorization": f"Bearer {emulator.api_key}"},
            timeout=60,
            limits=httpx.Limits(max_keepalive_connections=concurrency),
        ) as client,
        ThreadPoolExecutor(concurrency) as pool,
    ):

        def send(request: Request) -> None:
            method, path, query = request["method"], request["path"], request["query"]
            if method == "POST" and path == LOG_SOURCES:
                body = source_body(next(created))
                response = client.post(
                    path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
                )
                by_name[body["name"]] = response.raise_for_status().json()["data"]["id"]
                return
            for ours_id, name in names.items():
                if ours_id in path:
                    path = path.replace(ours_id, by_name[name])
            url = f"{path}?{query}" if query else path
            # A PUT in these phases is a create's empty PUT, confirming the id it returned.
            empty: dict[str, Any] | None = {} if method == "PUT" else None
            client.request(method, url, json=empty).raise_for_status()

        for phase in phases:
            requests = [r for r in logged[phase] if r["status"] and r["status"] < 400]
            # The POSTs first: a create's empty PUT names the id its POST returns.
            creates = [r for r in requests if r["method"] == "POST" and r["path"] == LOG_SOURCES]
            others = [r for r in requests if r["method"] != "POST" or r["path"] != LOG_SOURCES]
            started = time.perf_counter()
            list(pool.map(send, creates))
            list(pool.map(send, others))
            seconds[phase] = time.perf_counter() - started
    assert len(by_name) == len(indices), "the floor did not create every source"
    return seconds


def request_mix(requests: list[Request]) -> str:
    """`200 POST, 1 GET list`: what a phase sent, by method (GET of the collection: a list)."""

    def kind(request: Request) -> str:
        listing = request["method"] == "GET" and request["path"] == LOG_SOURCES
        return "GET list" if listing else str(request["method"])

    counts = collections.Counter(kind(r) for r in requests)
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the raw samples too")
    args = parser.parse_args()
    samples: dict[str, dict[str, list[float]]] = {
        row: {phase: [] for phase in PHASES}
        for row in ("ours", "engine floor", "API floor", "API floor, 1 at a time")
    }
    mixes: dict[str, str] = {}
    with (
        tempfile.TemporaryDirectory(prefix="sigsentry-bench-") as tmp,
        started_emulator(Path(tmp), quota=args.count * 2 + 10) as emulator,
    ):
        bench = Bench(Path(tmp), emulator)
        for rep in range(args.repeat):
            ours, logged = run_ours(bench, args.count, f"ours{rep}")
            mixes = {phase: request_mix(logged[phase]) for phase in PHASES}
            measured = {
                "ours": ours,
                "API floor": run_api_floor(bench, logged, ENGINE_CONCURRENCY),
                "API floor, 1 at a time": run_api_floor(bench, logged, 1),
                "engine floor": run_engine_floor(bench, args.count, f"noop{rep}"),
            }
            for row, phases in measured.items():
                for phase, value in phases.items():
                    samples[row][phase].append(value)
            print(
                f"repetition {rep + 1}: "
                + json.dumps(
                    {row: {p: round(v[-1], 2) for p, v in s.items()} for row, s in samples.items()}
                ),
                flush=True,
            )

    median = {row: {p: statistics.median(v) for p, v in s.items()} for row, s in samples.items()}
    print(f"\n{args.count} log sources, median of {args.repeat}, wall seconds per phase")
    header = f"{'phase':<8} {'requests (ours)':<22} {'ours':>6} {'engine':>7} {'API':>7}"
    print(header + f" {'API 1x':>7} {'ours/engine':>12} {'ours/API':>9}")
    for phase in PHASES:
        mine = median["ours"][phase]
        engine, api = median["engine floor"][phase], median["API floor"][phase]
        print(
            f"{phase:<8} {mixes[phase]:<22} {mine:>6.2f} {engine:>7.2f} {api:>7.3f}"
            f" {median['API floor, 1 at a time'][phase]:>7.3f}"
            f" {mine / engine:>12.2f} {mine / api:>9.0f}"
        )
    if args.json:
        print(json.dumps(samples))


if __name__ == "__main__":
    main()
