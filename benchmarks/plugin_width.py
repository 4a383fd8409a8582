"""Creates through one real plugin at each `sigsentry:parallelism`: how wide is worth it.

One `python -m pulumi.dynamic` plugin per width (`tools/plugin_driver.py`, no engine), N creates
(Check then Create) sent 64 at a time, against the emulator with every request delayed
(`--delay`, the `slow` fault); the wall time of the N creates and the most requests in flight
(`tools.in_flight`) per width, for `--repeat` rounds of all widths.

    .venv/bin/python benchmarks/plugin_width.py [--count 128] [--delay 0.1] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCHMARKS))

from _cli import CREDENTIALS  # noqa: E402
from _emulator import started_emulator  # noqa: E402
from pulumi.dynamic.dynamic import serialize_provider  # noqa: E402

from sigsentry_pulumi import LogSourceProvider  # noqa: E402
from tools.in_flight import most_in_flight  # noqa: E402
from tools.plugin_driver import ProviderPlugin  # noqa: E402

WIDTHS = (4, 8, 16, 32, 64)
CALLERS = 64
"""Calls the driver keeps going at once: more than any width, as a wide engine would."""
TYPE_TOKEN = "pulumi-python:dynamic/sigsentry:LogSource"


def props(provider: str, name: str) -> dict[str, Any]:
    return {
        "__provider": provider,
        "type": "datadog",
        "name": name,
        "credentials": {"apiKey": CREDENTIALS["secretA"], "appKey": CREDENTIALS["secretB"]},
        "sources": [f"service:{name}"],
    }


def create_many(plugin: ProviderPlugin, provider: str, prefix: str, count: int) -> float:
    """Wall seconds of `count` creates (each a Check then a Create), `CALLERS` at a time."""

    def create(index: int) -> None:
        name = f"{prefix}-{index:03d}"
        urn = f"urn:pulumi:b::p::{TYPE_TOKEN}::{name}"
        checked = plugin.check(urn, {}, props(provider, name))
        plugin.create(urn, checked.inputs)

    started = time.perf_counter()
    with ThreadPoolExecutor(CALLERS) as pool:
        list(pool.map(create, range(count)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=128)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    provider = serialize_provider(LogSourceProvider())
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with (
        tempfile.TemporaryDirectory(prefix="sigsentry-width-") as tmp,
        started_emulator(Path(tmp), quota=args.count * len(WIDTHS) * args.repeat + 10) as emulator,
    ):
        if args.delay > 0:
            emulator.set_faults({"rules": [{"fault": "slow", "delaySeconds": args.delay}]})
        for rep in range(args.repeat):
            for width in WIDTHS:
                config = {
                    "sigsentry:apiUrl": emulator.url,
                    "sigsentry:apiKey": emulator.api_key,
                    "sigsentry:parallelism": str(width),
                }
                with ProviderPlugin(cwd=Path(tmp)) as plugin:
                    plugin.configure(config)
                    plugin.check(f"urn:pulumi:b::p::{TYPE_TOKEN}::warm", {}, props(provider, "w"))
                    emulator.clear_requests()

                    seconds = create_many(plugin, provider, f"w{width}r{rep}", args.count)
                posts = [r for r in emulator.requests() if r["method"] == "POST"]
                flight = most_in_flight(posts, delay=args.delay) if args.delay > 0 else "n/a"
                print(
                    f"round {rep + 1} width {width:>2}: {args.count} creates {seconds:.2f} s, "
                    f"most in flight {flight}",
                    flush=True,
                )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
