"""`Bench`: Automation API stacks whose dynamic-provider plugin records every call it serves,
and the one-resource program the engine-notes tests change through stack config (`labelled`,
`deployed`, `set_config`).

Like conftest's `make_stack`, but the CLI (and so the plugin it starts) gets extra environment:
the recording file (`recording_provider.RECORD_ENV`), the folder `recording_provider` imports
from on PYTHONPATH, and whatever a test adds. Stack config holds a fake API key and two fake
credentials as secrets, so a test can look for them in the output and the state.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator, Mapping
from concurrent import futures
from typing import Any

from cli.recording_provider import (
    PROBE_ENV,
    RECORD_ENV,
    Recorded,
    RecordingProvider,
    import_root,
    read_calls,
)
from tools.pulumi_cli import PulumiEnvironment, config_values

PROJECT = "engine-notes"
STACK = "dev"
FAKE_API_KEY = "ss_secret_notes_" + secrets.token_hex(8)
FAKE_CREDENTIAL = "notes-credential-" + secrets.token_hex(8)
PROBE_VALUE = "probe-" + secrets.token_hex(4)
# The mark `pulumi stack export` leaves on a value encrypted in state.
SECRET_SIG = "4dabf18193072939515e22adb298388d"


class Bench:
    """One test's stacks, recording file and extra plugin path."""

    def __init__(self, pulumi_env: PulumiEnvironment) -> None:
        self.pulumi_env = pulumi_env
        self.record = pulumi_env.base / "calls.jsonl"
        self.python_path = [str(import_root())]

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = self.pulumi_env.env
        inherited = env.get("PYTHONPATH")
        env["PYTHONPATH"] = os.pathsep.join(
            [*self.python_path, *([inherited] if inherited else [])]
        )
        env[RECORD_ENV] = str(self.record)
        env[PROBE_ENV] = PROBE_VALUE
        env.update(extra or {})
        return env

    def stack(
        self,
        program: Callable[[], object],
        *,
        project: str = PROJECT,
        stack_name: str = STACK,
        config: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Any:
        stack = self.pulumi_env.inline_stack(
            program, project=project, stack=stack_name, env=self.env(env)
        )
        plain = {"sigsentry:apiUrl": "http://127.0.0.1:9", "plain": "plain-value", **(config or {})}
        secret = {"sigsentry:apiKey": FAKE_API_KEY, "secretA": FAKE_CREDENTIAL, **(secrets or {})}
        stack.set_all_config(config_values(project, plain, secret))
        return stack

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        return read_calls(self.record, method)

    def methods(self) -> list[str]:
        return [c["method"] for c in self.calls() if c["method"] != "configure"]

    def clear(self) -> None:
        self.record.unlink(missing_ok=True)

    def cli(
        self, stack: Any, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """The CLI itself, in the stack's folder, with the recording environment."""
        return subprocess.run(
            [str(self.pulumi_env.cli), *args, "--stack", stack.name],
            cwd=stack.workspace.work_dir,
            stdin=subprocess.DEVNULL,
            env=self.env(),
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    @contextlib.contextmanager
    def serving(self, program: Callable[[], None]) -> Iterator[str]:
        """The inline program served as the Automation API serves it; yields ``--client``'s
        address, so the CLI binary itself can run the program (``pulumi up`` with its preview)."""
        import grpc
        from pulumi.automation._server import LanguageServer
        from pulumi.runtime.proto import language_pb2_grpc

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        try:
            yield f"127.0.0.1:{port}"
        finally:
            server.stop(0)

    def cli_program(
        self, stack: Any, program: Callable[[], None], *args: str, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """``pulumi <args>`` run by the CLI binary on the inline `program` (exit code unchecked)."""
        with self.serving(program) as address:
            return self.cli(
                stack,
                *args,
                f"--client={address}",
                "--exec-kind=inline",
                check=False,
                timeout=timeout,
            )

    def export(self, stack: Any, *, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "export", *(["--show-secrets"] if show_secrets else [])]
        deployment: dict[str, Any] = json.loads(self.cli(stack, *args).stdout)["deployment"]
        return deployment

    def resource(self, stack: Any, name: str, *, show_secrets: bool = False) -> dict[str, Any]:
        """The state of the resource called `name` (URN ends with ``::name``)."""
        for resource in self.export(stack, show_secrets=show_secrets).get("resources", []):
            if resource["urn"].endswith(f"::{name}"):
                found: dict[str, Any] = resource
                return found
        raise AssertionError(f"no resource {name} in the state")


def is_secret(value: Any) -> bool:
    """True for a value `pulumi stack export` (without --show-secrets) shows encrypted."""
    return (
        isinstance(value, Mapping) and value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270"
    )


def labelled(**behaviour: Any) -> Callable[[], None]:
    """One resource whose `label` and `kind` come from stack config."""

    def program() -> None:
        import pulumi

        config = pulumi.Config()
        Recorded(
            "res",
            {"label": config.get("label") or "one", "kind": config.get("kind") or "a"},
            RecordingProvider(**behaviour),
        )

    return program


def deployed(bench: Bench, **behaviour: Any) -> Any:
    stack = bench.stack(labelled(**behaviour))
    stack.up()
    bench.clear()
    return stack


def set_config(stack: Any, **values: str) -> None:
    from pulumi import automation as auto

    for key, value in values.items():
        stack.set_config(
            f"{stack.workspace.project_settings().name}:{key}", auto.ConfigValue(value)
        )
