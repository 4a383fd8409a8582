"""`pulumi up` and `destroy` of large stacks against a far API: ours against two floors, one run.

For each number of sources (`--counts`, default 200), each delay per request (`--delays`, the
emulator's `slow` fault: an API that many seconds away; default 0 and 0.1) and each checkpoint
mode (state written after every step, the default; and `PULUMI_SKIP_CHECKPOINTS=true`, written
once at the end), one repetition measures, in this order, the wall time of `up` and of
`destroy` for:

* `ours`: `LogSource` at its default `sigsentry:parallelism` (16), the engine at its default
  `--parallel` (4 per CPU core);
* `ours, 4 at once`: `sigsentry:parallelism=4`, the SDK plugin's own width (the provider before
  the setting existed);
* `noop, sleeping`: `_noop_provider.NoopProvider` sleeping the delay in each create and delete,
  served by the SDK's plugin as it is (4 calls at once): what a provider doing nothing but
  waiting on that API costs. At delay 0 it is the engine's floor;
* `API`: the requests `ours` made in that phase, from one keep-alive `httpx.Client`, as many at
  once as ours runs calls (the lesser of the engine's `--parallel` and `sigsentry:parallelism`;
  `engine_cost.run_api_floor`).

`--parallel N` runs ours (both rows) at the engine's `--parallel N`; the noop keeps the
engine's default, which its 4 workers never reach.

With a delay, the most requests `ours` had in flight at once is read from the emulator's request
log (`tools.in_flight`). Each repetition uses fresh stacks; medians of `--repeat`, and the load
average before and after, are printed.

    .venv/bin/python benchmarks/large_stacks.py [--counts 200 1000] [--delays 0 0.1 0.3]
        [--repeat 3] [--checkpoints both|on|off] [--parallel 16]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCHMARKS))

import httpx  # noqa: E402
from _cli import Bench, changed, timed  # noqa: E402
from _emulator import started_emulator  # noqa: E402
from engine_cost import all_sources, run_api_floor  # noqa: E402

from sigsentry_pulumi._constants import DEFAULT_PARALLELISM, SDK_PLUGIN_WORKERS  # noqa: E402
from tools.in_flight import most_in_flight  # noqa: E402

PHASES = ("up", "destroy")
DEFAULT_ENGINE_PARALLEL = 4 * (os.cpu_count() or 1)
"""The engine's default `--parallel` (4 per CPU core, pulumi/pulumi#15016)."""
SKIP_CHECKPOINTS = "PULUMI_SKIP_CHECKPOINTS"
ROWS = ("ours", "ours, 4 at once", "noop, sleeping", "API")

Samples = dict[str, dict[str, list[float]]]


def run_stack(
    bench: Bench,
    make: Callable[[], Any],
    count: int,
    delay: float,
    key: str,
    parallel: int | None = None,
) -> tuple[dict[str, float], dict[str, Any]]:
    """up then destroy of one fresh stack: wall seconds, and what the emulator logged."""
    emulator = bench.emulator
    assert emulator is not None
    stack = make()
    seconds: dict[str, float] = {}
    logged: dict[str, Any] = {}
    emulator.clear_requests()
    result, seconds["up"] = timed(lambda: stack.up(show_secrets=False, parallel=parallel))
    assert changed(result, "create") == count + 1, (key, result.summary.resource_changes)
    logged["up"] = emulator.requests()
    with httpx.Client(
        base_url=emulator.url, headers={"Authorization": f"Bearer {emulator.api_key}"}
    ) as client:
        emulator.clear_faults()  # the names are looked up at once, not 100 ms away
        logged["names"] = {s["id"]: s["name"] for s in all_sources(client)}
        slow(bench, delay)
    emulator.clear_requests()
    result, seconds["destroy"] = timed(lambda: stack.destroy(parallel=parallel))
    assert changed(result, "delete") == count + 1, (key, result.summary.resource_changes)
    logged["destroy"] = emulator.requests()
    emulator.clear_requests()
    return seconds, logged


def slow(bench: Bench, delay: float) -> None:
    assert bench.emulator is not None
    if delay > 0:
        bench.emulator.set_faults({"rules": [{"fault": "slow", "delaySeconds": delay}]})
    else:
        bench.emulator.clear_faults()


def in_flight(logged: dict[str, Any], phase: str, delay: float) -> int | None:
    if delay <= 0:
        return None  # the request log's times alone cannot tell
    wanted = {"up": "POST", "destroy": "DELETE"}[phase]
    requests = [r for r in logged[phase] if r["method"] == wanted]
    return most_in_flight(requests, delay=delay)


def measure(
    bench: Bench, count: int, delay: float, rep: int, label: str, parallel: int | None
) -> tuple[dict[str, dict[str, float]], dict[str, int | None]]:
    """One repetition of every row for one cell; the most in flight of `ours` per phase."""
    slow(bench, delay)
    tag = f"{label}{int(delay * 1000)}c{count}r{rep}"
    times: dict[str, dict[str, float]] = {}
    times["ours"], logged = run_stack(
        bench, lambda: bench.ours(count, f"o{tag}"), count, delay, "ours", parallel
    )
    flights = {phase: in_flight(logged, phase, delay) for phase in PHASES}
    times["ours, 4 at once"], narrow = run_stack(
        bench,
        lambda: bench.ours(count, f"n{tag}", config={"sigsentry:parallelism": "4"}),
        count,
        delay,
        "ours, 4 at once",
        parallel,
    )
    flights.update({f"{phase}, 4 at once": in_flight(narrow, phase, delay) for phase in PHASES})
    times["noop, sleeping"], _ = run_stack(
        bench, lambda: bench.noop(count, f"s{tag}", sleep=delay), count, delay, "noop"
    )
    width = min(parallel or DEFAULT_ENGINE_PARALLEL, DEFAULT_PARALLELISM)
    times["API"] = run_api_floor(bench, logged, width, PHASES)
    slow(bench, 0)
    return times, flights


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--counts", type=int, nargs="+", default=[200])
    parser.add_argument("--delays", type=float, nargs="+", default=[0.0, 0.1])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--checkpoints", choices=("both", "on", "off"), default="both")
    parser.add_argument(
        "--parallel", type=int, help="the engine's --parallel for ours (default: the engine's)"
    )
    args = parser.parse_args()
    modes = {"both": ("on", "off"), "on": ("on",), "off": ("off",)}[args.checkpoints]
    cells = [(c, d, m) for c in args.counts for d in args.delays for m in modes]
    samples: dict[tuple[int, float, str], Samples] = {
        cell: {row: {p: [] for p in PHASES} for row in ROWS} for cell in cells
    }
    flights: dict[tuple[int, float, str], dict[str, list[int]]] = {cell: {} for cell in cells}
    print(f"load average before: {load()}", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="sigsentry-large-") as tmp,
        started_emulator(Path(tmp), quota=max(args.counts) * 2 + 10) as emulator,
    ):
        benches = {
            "on": Bench(Path(tmp) / "on", emulator),
            "off": Bench(
                Path(tmp) / "off", emulator, extra_env={"PULUMI_SKIP_CHECKPOINTS": "true"}
            ),
        }
        for rep in range(args.repeat):
            for cell in cells:  # each repetition walks every cell: drifting load hits all alike
                count, delay, mode = cell
                times, seen = measure(benches[mode], count, delay, rep, mode, args.parallel)
                for row, phases in times.items():
                    for phase, value in phases.items():
                        samples[cell][row][phase].append(value)
                for key, most in seen.items():
                    if most is not None:
                        flights[cell].setdefault(key, []).append(most)
                rounded = {r: {p: round(v, 2) for p, v in ph.items()} for r, ph in times.items()}
                print(f"rep {rep + 1} {cell}: {json.dumps(rounded)} in flight {seen}", flush=True)
    print(f"load average after: {load()}")
    print(
        f"\nmedians of {args.repeat}; ours at sigsentry:parallelism={DEFAULT_PARALLELISM}, "
        f"the engine at --parallel {args.parallel or DEFAULT_ENGINE_PARALLEL} for ours, "
        f"noop at the SDK's {SDK_PLUGIN_WORKERS}"
    )
    print(
        "| sources | delay | checkpoints | phase | ours s | ours, 4 at once s | noop, sleeping s "
        "| API s | ours / noop | most in flight (ours; 4 at once) |"
    )
    print("|---:|---:|---|---|---:|---:|---:|---:|---:|---|")
    for cell in cells:
        count, delay, mode = cell
        for phase in PHASES:
            median = {row: statistics.median(samples[cell][row][phase]) for row in ROWS}
            wide, narrow = (
                flights[cell].get(phase, []),
                flights[cell].get(f"{phase}, 4 at once", []),
            )
            flight = f"{max(wide)}; {max(narrow)}" if wide and narrow else "n/a"
            print(
                f"| {count} | {delay * 1000:.0f} ms | {mode} | {phase} | {median['ours']:.2f} "
                f"| {median['ours, 4 at once']:.2f} | {median['noop, sleeping']:.2f} "
                f"| {median['API']:.2f} | {median['ours'] / median['noop, sleeping']:.2f} "
                f"| {flight} |"
            )
    print(json.dumps({str(cell): samples[cell] for cell in cells}))


if __name__ == "__main__":
    main()
