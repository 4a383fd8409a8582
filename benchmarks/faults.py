"""Fault tolerance through the real Pulumi CLI: lifecycles under injected faults, a killed `up`,
and ten stacks at once on one rate-limited key. Prints the figures benchmarks/README.md records.

    .venv/bin/python benchmarks/faults.py lifecycle --count 150 --rates 0 0.3 0.6
    .venv/bin/python benchmarks/faults.py kill --count 40
    .venv/bin/python benchmarks/faults.py concurrent --stacks 10 --count 10 --rate-limit 20

Every Pulumi command runs in a driver subprocess of its own (this file, `drive`), in a new
session, under a time limit: past it the driver's process group and the stack's dynamic-provider
plugin (which runs in a process group of its own) are SIGKILLed. The emulator is a real
subprocess on loopback; faults come from its seeded fault injection (tools/fault_plans.py):
the rate is split evenly over 429 (Retry-After 1), 500, 503 and `drop` (the write commits, the
answer is lost). After each command the faults are lifted to count what SigSentry holds:
duplicates (a name held by two sources), orphans (a source the state does not hold), and whether
the state's ids equal SigSentry's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sigsentry_emulator.testing import EmulatorProcess  # noqa: E402
from tools.fault_plans import (  # noqa: E402
    duplicates,
    fault_spec,
    faults_injected,
    many_sources_program,
    orphans,
)
from tools.pulumi_cli import PulumiEnvironment, config_values, find_cli  # noqa: E402

PROJECT = "sigsentry-faults"
LOG_SOURCES = "/v1/config/log-sources"
COMMAND_TIMEOUT = 900.0
"""Seconds one Pulumi command may take before its driver and plugin are killed."""
MAX_RERUNS = 5
"""Re-runs of a failed command (at 60% faults) before the benchmark gives up on converging."""
PROGRESS_MARKS = ("retrying in", "before retrying")


# --- the driver: one Pulumi command for one stack, in its own process --------------------------


def stack_for(base: Path, stack_name: str, count: int) -> Any:
    """The Automation API stack `stack_name` of the benchmark's project, its program `count`
    sources. The passphrase comes from PULUMI_CONFIG_PASSPHRASE, as for the CLI."""
    env = PulumiEnvironment(base, passphrase=os.environ["PULUMI_CONFIG_PASSPHRASE"])
    return env.inline_stack(
        many_sources_program(count),
        project=PROJECT,
        stack=stack_name,
        work_dir=base / "work" / stack_name,
    )


def drive(base: Path, stack_name: str, count: int, command: str) -> int:
    from pulumi import automation as auto

    stack = stack_for(base, stack_name, count)

    def show(line: str) -> None:
        print(line, flush=True)

    try:
        if command == "up":
            stack.up(show_secrets=False, on_output=show)
        elif command == "refresh":
            stack.refresh(on_output=show)
        elif command == "destroy":
            stack.destroy(on_output=show)
        elif command == "cancel":
            stack.cancel()
        elif command == "clear-pending":
            stack.refresh(clear_pending_creates=True, on_output=show)
        else:
            raise SystemExit(f"unknown command {command}")
    except auto.CommandError as error:
        print(f"COMMAND FAILED: {error}", flush=True)
        return 1
    return 0


# --- the benchmark side ------------------------------------------------------------------------


@dataclass
class Bench:
    base: Path
    emulator: EmulatorProcess
    env: PulumiEnvironment = field(init=False)

    def __post_init__(self) -> None:
        self.env = PulumiEnvironment(self.base / "pulumi", cli=find_cli())

    def configure(self, stack_name: str, count: int, extra: Mapping[str, str] = {}) -> Any:
        stack = stack_for_parent(self, stack_name, count)
        plain = {"sigsentry:apiUrl": self.emulator.url, **extra}
        secret = {
            "sigsentry:apiKey": self.emulator.api_key,
            "secretA": "bench-credential-a",
            "secretB": "bench-credential-b",
        }
        stack.set_all_config(config_values(PROJECT, plain, secret))
        return stack

    def driver(self, stack_name: str, count: int, command: str) -> subprocess.Popen[str]:
        env = self.env.env
        return subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "drive",
                str(self.env.base),
                stack_name,
                str(count),
                command,
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def run(self, stack_name: str, count: int, command: str) -> tuple[int, str, float]:
        """Run one command to its end (or the time limit); (exit code, output, seconds)."""
        started = time.monotonic()
        process = self.driver(stack_name, count, command)
        try:
            output, _ = process.communicate(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill(process)
            output, _ = process.communicate(timeout=30)
            return -9, output + "\nTIMED OUT", time.monotonic() - started
        return process.returncode, output, time.monotonic() - started

    def kill(self, process: subprocess.Popen[str]) -> int:
        """SIGKILL the driver's process group (driver, CLI) and this environment's plugins."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        return self.env.kill_plugins()

    def sources(self) -> list[dict[str, Any]]:
        with httpx.Client(
            base_url=self.emulator.url,
            headers={"Authorization": f"Bearer {self.emulator.api_key}"},
            timeout=30,
        ) as client:
            found: list[dict[str, Any]] = []
            cursor: str | None = None
            for _ in range(100):
                params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
                page = client.get(LOG_SOURCES, params=params)
                page.raise_for_status()
                body = page.json()
                found += body["data"]
                cursor = body.get("nextCursor")
                if not cursor:
                    break
            return found

    def state(self, stack_name: str) -> dict[str, Any]:
        exported = self.env.run(
            "stack", "export", "--stack", stack_name, cwd=self.base / "pulumi" / "work" / stack_name
        )
        deployment: dict[str, Any] = json.loads(exported.stdout)["deployment"]
        return deployment

    def state_ids(self, stack_name: str) -> set[str]:
        return {
            r["id"]
            for r in self.state(stack_name).get("resources", [])
            if r["type"].endswith("sigsentry:LogSource")
        }


def stack_for_parent(bench: Bench, stack_name: str, count: int) -> Any:
    os.environ["PULUMI_CONFIG_PASSPHRASE"] = bench.env.passphrase
    return stack_for(bench.env.base, stack_name, count)


def progress_lines(output: str) -> int:
    """Retry and wait lines, counted once (the CLI repeats them under Diagnostics)."""
    live = output.split("Diagnostics:", 1)[0]
    return sum(1 for line in live.splitlines() if any(m in line for m in PROGRESS_MARKS))


@contextlib.contextmanager
def emulator_in(base: Path, *, quota: int, rate_limit: float = 0) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(db_path=base / "emulator.db", quota=quota, rate_limit=rate_limit) as emu:
        yield emu


def invariants(bench: Bench, stack_name: str, expected: int) -> dict[str, Any]:
    faults = bench.emulator.requests()
    spec = bench.emulator  # faults are lifted to count, then put back by the caller
    spec.clear_faults()
    live = bench.sources()
    ids = bench.state_ids(stack_name)
    return {
        "sources": len(live),
        "expected": expected,
        "duplicates": duplicates(live),
        "orphans": orphans(live, ids),
        "state_equals_sigsentry": ids == {s["id"] for s in live},
        "requests": len(faults),
    }


def lifecycle(count: int, rate: float, seed: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="faults-") as tmp,
        emulator_in(Path(tmp), quota=count * 3) as emulator,
    ):
        bench = Bench(Path(tmp), emulator)
        bench.configure("dev", count)
        steps: list[dict[str, Any]] = []
        started = time.monotonic()
        plan = [("up", {}), ("up", {"suffix": "-renamed"}), ("refresh", {}), ("destroy", {})]
        for index, (command, config) in enumerate(plan):
            if config:
                bench.configure("dev", count, config)
            name = "rename" if config else command
            runs: list[tuple[int, float, int]] = []
            for attempt in range(1 + MAX_RERUNS):
                emulator.set_faults(fault_spec(rate, seed=seed + 10 * index + attempt))
                code, output, seconds = bench.run("dev", count, command)
                runs.append((code, seconds, progress_lines(output)))
                if code == 0:
                    break
            expected = 0 if command == "destroy" else count
            check = invariants(bench, "dev", expected)
            steps.append(
                {
                    "step": name,
                    "exit codes": [r[0] for r in runs],
                    "seconds": round(sum(r[1] for r in runs), 1),
                    "progress lines": sum(r[2] for r in runs),
                    **check,
                }
            )
        injected = faults_injected(emulator.requests())
        return {
            "count": count,
            "rate": rate,
            "wall seconds": round(time.monotonic() - started, 1),
            "requests": len(emulator.requests()),
            "faults injected": dict(injected),
            "faults total": sum(injected.values()),
            "steps": steps,
        }


def killed_up(count: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="faults-kill-") as tmp,
        emulator_in(Path(tmp), quota=count * 3) as emulator,
    ):
        bench = Bench(Path(tmp), emulator)
        bench.configure("dev", count)
        process = bench.driver("dev", count, "up")
        deadline = time.monotonic() + 300
        created = 0
        while time.monotonic() < deadline and process.poll() is None:
            created = sum(
                1 for r in emulator.requests() if r["method"] == "POST" and r["status"] == 201
            )
            if created >= count // 2:
                break
            time.sleep(0.05)
        before_kill = len(bench.sources())
        plugins = bench.kill(process)
        leftover = bench.env.plugin_pids()
        killed_at = len(bench.sources())
        pending = len(bench.state("dev").get("pending_operations") or [])
        in_state = len(bench.state_ids("dev"))

        cancel = bench.run("dev", count, "cancel")  # the killed CLI may have left a lock
        rerun = bench.run("dev", count, "up")
        after_rerun = bench.sources()
        state_after = bench.state_ids("dev")
        pending_after = len(bench.state("dev").get("pending_operations") or [])
        cleared = bench.run("dev", count, "clear-pending")
        pending_cleared = len(bench.state("dev").get("pending_operations") or [])
        destroyed = bench.run("dev", count, "destroy")
        replays = sum(1 for r in emulator.requests() if r.get("replayed"))
        return {
            "count": count,
            "sources when killed": before_kill,
            "sources after kill": killed_at,
            "plugins killed": plugins,
            "processes left": len(leftover),
            "in state after kill": in_state,
            "pending creates after kill": pending,
            "pulumi cancel exit": cancel[0],
            "pulumi cancel said": cancel[1].strip().splitlines()[-1:] if cancel[1].strip() else [],
            "re-run exit": rerun[0],
            "re-run warned of pending creates": "pending" in rerun[1].lower(),
            "re-run seconds": round(rerun[2], 1),
            "sources after re-run": len(after_rerun),
            "duplicates": duplicates(after_rerun),
            "state equals SigSentry": state_after == {s["id"] for s in after_rerun},
            "pending creates after re-run": pending_after,
            "refresh --clear-pending-creates exit": cleared[0],
            "pending creates after that": pending_cleared,
            "replayed POSTs": replays,
            "destroy exit": destroyed[0],
            "sources after destroy": len(bench.sources()),
        }


def concurrent(stacks: int, count: int, rate_limit: float) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="faults-many-") as tmp,
        emulator_in(Path(tmp), quota=stacks * count * 3, rate_limit=rate_limit) as emulator,
    ):
        bench = Bench(Path(tmp), emulator)
        names = [f"stack{i:02d}" for i in range(stacks)]
        for name in names:
            bench.configure(name, count)
        results: dict[str, dict[str, tuple[int, str, float]]] = {"up": {}, "destroy": {}}
        timing: dict[str, float] = {}
        for command in ("up", "destroy"):
            started = time.monotonic()
            threads = [
                threading.Thread(
                    target=lambda n=name, c=command: results[c].__setitem__(
                        n, bench.run(n, count, c)
                    )
                )
                for name in names
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(COMMAND_TIMEOUT + 60)
            timing[command] = round(time.monotonic() - started, 1)
            if command == "up":
                live = bench.sources()
                # every stack names its sources src-000...: compare ids, not names
                live_ids = {s["id"] for s in live}
                held = [bench.state_ids(n) for n in names]
                in_states: set[str] = set().union(*held)
                up_check = {
                    "sources": len(live),
                    "expected": stacks * count,
                    "every stack holds its count": all(len(ids) == count for ids in held),
                    "orphans": len(live_ids - in_states),
                    "state ids = SigSentry's": in_states == live_ids,
                }
        statuses = [r["status"] for r in emulator.requests()]
        outputs = [o for c in results.values() for (_, o, _) in c.values()]
        return {
            "stacks": stacks,
            "sources per stack": count,
            "rate limit": rate_limit,
            "up exits": sorted(code for code, _, _ in results["up"].values()),
            "destroy exits": sorted(code for code, _, _ in results["destroy"].values()),
            "up seconds": timing["up"],
            "destroy seconds": timing["destroy"],
            **up_check,
            "sources after destroy": len(bench.sources()),
            "requests": len(statuses),
            "429 answered": statuses.count(429),
            "429 errors shown to users": sum(o.count("RateLimitError") for o in outputs),
            "wait lines shown": sum(progress_lines(o) for o in outputs),
        }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    life = sub.add_parser("lifecycle")
    life.add_argument("--count", type=int, default=150)
    life.add_argument("--rates", type=float, nargs="+", default=[0.0, 0.3, 0.6])
    life.add_argument("--seed", type=int, default=7)
    kill = sub.add_parser("kill")
    kill.add_argument("--count", type=int, default=40)
    many = sub.add_parser("concurrent")
    many.add_argument("--stacks", type=int, default=10)
    many.add_argument("--count", type=int, default=10)
    many.add_argument("--rate-limit", type=float, default=20)
    drv = sub.add_parser("drive")
    drv.add_argument("base", type=Path)
    drv.add_argument("stack")
    drv.add_argument("count", type=int)
    drv.add_argument("command")
    args = parser.parse_args(argv)
    if args.what == "drive":
        return drive(args.base, args.stack, args.count, args.command)
    if args.what == "lifecycle":
        for rate in args.rates:
            print(json.dumps(lifecycle(args.count, rate, args.seed), indent=1), flush=True)
    elif args.what == "kill":
        print(json.dumps(killed_up(args.count), indent=1), flush=True)
    else:
        print(json.dumps(concurrent(args.stacks, args.count, args.rate_limit), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
