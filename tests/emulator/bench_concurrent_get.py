"""How long a GET takes while another client floods the emulator with large bad bodies.

Run by hand (not collected by pytest): `.venv/bin/python -m tests.emulator.bench_concurrent_get`.
The flooding client is a separate process, so the GETs measured here compete with the server's
work only, not with the flood's own client. Prints median, 90th percentile and maximum per body.
`test_hostile_input.test_a_concurrent_get_is_not_held_up_by_large_bad_bodies` keeps a generous
bound as a regression test; this gives the figures.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

import httpx

from emulator.helpers import CLOUDWATCH
from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.testing import EmulatorProcess

GETS = 100
PAUSE_SECONDS = 0.01
SENDER_START_TIMEOUT_SECONDS = 30

FLOODS: dict[str, bytes] = {
    "5 MB of duplicate sources (413)": json.dumps(
        {**CLOUDWATCH, "sources": ["a"] * 1_000_000}
    ).encode(),
    "1 MB of duplicate sources (400)": json.dumps(
        {**CLOUDWATCH, "sources": ["a"] * 200_000}
    ).encode(),
    "1 MB of unknown fields (400)": json.dumps(
        {**CLOUDWATCH, **{f"f{i}": 1 for i in range(70_000)}}
    ).encode(),
    "1 MB of nested sources (400)": json.dumps({**CLOUDWATCH, "sources": [[0]] * 200_000}).encode(),
}

# posts the body on stdin in a loop until killed
_SENDER = """
import sys, httpx
url, key = sys.argv[1:3]
body = sys.stdin.buffer.read()
with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
    print("ready", flush=True)
    while True:
        c.post("/v1/config/log-sources", content=body)
"""


def measure(client: httpx.Client) -> list[float]:
    latencies = []
    for _ in range(GETS):
        started = time.perf_counter()
        client.get(LOG_SOURCES).raise_for_status()
        latencies.append(time.perf_counter() - started)
        time.sleep(PAUSE_SECONDS)  # paced GETs: the latency measured is one request's alone
    return sorted(latencies)


def flooded(emulator: EmulatorProcess, client: httpx.Client, body: bytes) -> list[float]:
    sender = subprocess.Popen(
        [sys.executable, "-c", _SENDER, emulator.url, emulator.api_key],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert sender.stdin is not None and sender.stdout is not None
        sender.stdin.write(body)
        sender.stdin.close()
        sender.stdout.readline()  # "ready"
        time.sleep(0.3)  # the sender's flood is under way in its own process before measuring
        return measure(client)
    finally:
        sender.kill()
        sender.wait(timeout=SENDER_START_TIMEOUT_SECONDS)


def row(name: str, latencies: list[float]) -> str:
    median = statistics.median(latencies) * 1000
    p90 = latencies[int(0.9 * len(latencies))] * 1000
    return f"{name:<36} {median:7.1f} {p90:7.1f} {latencies[-1] * 1000:7.1f}"


def main() -> None:
    with (
        EmulatorProcess(rate_limit=0) as emulator,
        httpx.Client(base_url=emulator.url, headers=auth(emulator.api_key), timeout=30) as client,
    ):
        client.post(LOG_SOURCES, json=CLOUDWATCH).raise_for_status()
        print(f"{'GET /v1/config/log-sources while':<36} {'median':>7} {'p90':>7} {'max':>7} ms")
        print(row("nothing else runs", measure(client)))
        for name, body in FLOODS.items():
            print(row(name, flooded(emulator, client, body)))


if __name__ == "__main__":
    main()
