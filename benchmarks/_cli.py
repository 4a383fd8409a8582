"""Stacks of N log sources run through the real Pulumi CLI, for the benchmarks.

Two programs of the same shape: `tools.fault_plans.many_sources_program` (N `LogSource`s, Datadog,
secret credentials from stack config) and `noop_program` (N `_noop_provider.NoopSource`s with the
same inputs, over a provider that returns at once). Stacks run inline through the Automation API
(tools/pulumi_cli.py), privately and offline. benchmarks/ is put on the plugin's PYTHONPATH so it
can import `_noop_provider` when it unpickles that provider; both programs get the same
environment, so the comparison stays fair.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sigsentry_emulator.testing import EmulatorProcess
from tools.fault_plans import many_sources_program
from tools.pulumi_cli import PulumiEnvironment, config_values, find_cli

BENCHMARKS = Path(__file__).resolve().parent
CREDENTIALS = {"secretA": "bench-credential-a", "secretB": "bench-credential-b"}


def noop_program(count: int, *, sleep: float = 0.0) -> Callable[[], None]:
    """`count` NoopSources `src-000`... with the inputs `many_sources_program` gives LogSource;
    `sleep` seconds per create and delete (`_noop_provider`'s `sleepSeconds`)."""

    def program() -> None:
        import pulumi
        from _noop_provider import NoopSource

        config = pulumi.Config()
        project, stack = pulumi.get_project(), pulumi.get_stack()
        credentials = {
            "apiKey": config.require_secret("secretA"),
            "appKey": config.require_secret("secretB"),
        }
        for index in range(count):
            name = f"src-{index:03d}"
            props: dict[str, Any] = {
                "type": "datadog",
                "name": name,
                "credentials": credentials,
                "sources": [f"service:app-{index}"],
                "resourceIdentity": f"{project}/{stack}/sigsentry:LogSource/{name}",
            }
            if sleep:
                props["sleepSeconds"] = sleep
            NoopSource(name, props)

    return program


class Bench:
    """A private Pulumi environment whose stacks talk to `emulator`.

    Without an emulator, the stacks point at a closed port with a made-up key: enough for a
    preview, whose check and diff send no request.
    """

    def __init__(
        self,
        base: Path,
        emulator: EmulatorProcess | None,
        *,
        cli: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.emulator = emulator
        self.api_url = emulator.url if emulator else "http://127.0.0.1:9"
        self.api_key = emulator.api_key if emulator else "ss_secret_bench_not_a_real_key_000000"
        self.pulumi = PulumiEnvironment(base / "pulumi", cli=cli or find_cli())
        env = self.pulumi.env
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(BENCHMARKS), env.get("PYTHONPATH", "")) if p
        )
        env.update(extra_env or {})
        self.env = env

    def stack(
        self,
        program: Callable[[], None],
        *,
        project: str,
        stack: str,
        config: dict[str, str] | None = None,
    ) -> Any:
        created = self.pulumi.inline_stack(program, project=project, stack=stack, env=self.env)
        plain = {"sigsentry:apiUrl": self.api_url, **(config or {})}
        secret = {"sigsentry:apiKey": self.api_key, **CREDENTIALS}
        created.set_all_config(config_values(project, plain, secret))
        return created

    def ours(self, count: int, stack: str, *, config: dict[str, str] | None = None) -> Any:
        program = many_sources_program(count)
        return self.stack(program, project="bench-ours", stack=stack, config=config)

    def noop(self, count: int, stack: str, *, sleep: float = 0.0) -> Any:
        return self.stack(noop_program(count, sleep=sleep), project="bench-noop", stack=stack)


def timed(command: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = command()
    return result, time.perf_counter() - started


def changed(result: Any, op: str) -> int:
    """How many resources the command's summary counts under `op` (create, same, delete...);
    the stack itself counts as one."""
    counts = result.summary.resource_changes or {}
    return int(sum(n for key, n in counts.items() if getattr(key, "value", key) == op))
