"""Each Pulumi command of a walk, run through the Automation API in a child process of its own.

``python -m cli.lifecycle_model.operations REQUEST.json`` runs one command on an existing stack:
the inline program is `model.program(load(REQUEST["model"]))`, so it declares exactly what the
walk holds. The child runs in a new session, so a kill -9 of its process group kills the CLI
with it, as a user's terminal closing would; the dynamic-provider plugin leads a process group
of its own and outlives it (docs/engine-notes-checked.md), so `run` kills it by its pid too.
Every command has a time limit: a command that hangs is reported, not waited for.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.pulumi_cli import PulumiEnvironment

TESTS = Path(__file__).resolve().parents[2]
ROOT = TESTS.parent
COMMAND_TIMEOUT_SECONDS = 240.0
RESULT_MARK = "LIFECYCLE-RESULT "
DRIVER = "cli.lifecycle_model.operations"


@dataclass
class Command:
    """One Pulumi command: `op` is up, refresh, destroy, preview or cancel."""

    op: str
    replace: list[str] = field(default_factory=list)
    target: list[str] = field(default_factory=list)
    clear_pending_creates: bool = False
    expect_no_changes: bool = False

    def __str__(self) -> str:
        words = [self.op]
        words += [f"--replace {urn.rsplit('::', 1)[-1]}" for urn in self.replace]
        words += [f"--target {urn.rsplit('::', 1)[-1]}" for urn in self.target]
        if self.clear_pending_creates:
            words.append("--clear-pending-creates")
        if self.expect_no_changes:
            words.append("--expect-no-changes")
        return " ".join(words)


@dataclass
class Outcome:
    ok: bool
    output: str
    error: str
    seconds: float
    killed: bool = False
    timed_out: bool = False
    changes: dict[str, int] = field(default_factory=dict)


def run(
    env: PulumiEnvironment,
    stack: Any,
    model_path: Path,
    command: Command,
    *,
    kill_after: float | None = None,
    timeout: float = COMMAND_TIMEOUT_SECONDS,
) -> Outcome:
    """Run `command` to its end, or kill -9 it (CLI and plugin) `kill_after` seconds in."""
    request = {
        "work_dir": stack.workspace.work_dir,
        "stack": stack.name,
        "model": str(model_path),
        "command": command.__dict__,
        "cli": str(env.cli),
    }
    request_path = model_path.with_suffix(".request.json")
    request_path.write_text(json.dumps(request))
    child_env = env.env
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(TESTS), *filter(None, [child_env.get("PYTHONPATH")])]
    )
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", DRIVER, str(request_path)],
        cwd=stack.workspace.work_dir,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    killing = kill_after is not None and kill_after < timeout
    killed = timed_out = False
    try:
        output, _ = child.communicate(timeout=kill_after if killing else timeout)
    except subprocess.TimeoutExpired:
        _kill(child, env)
        killed, timed_out = killing, not killing
        output, _ = child.communicate(timeout=30)
    result = _result(output)
    return Outcome(
        ok=child.returncode == 0 and bool(result.get("ok")),
        output=output,
        error=str(result.get("error", "")),
        seconds=time.monotonic() - started,
        killed=killed,
        timed_out=timed_out,
        changes=dict(result.get("changes") or {}),
    )


def _kill(child: subprocess.Popen[str], env: PulumiEnvironment) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=30)
    env.kill_plugins()


def _result(output: str) -> dict[str, Any]:
    for line in reversed(output.splitlines()):
        if line.startswith(RESULT_MARK):
            found: dict[str, Any] = json.loads(line[len(RESULT_MARK) :])
            return found
    return {}


# --- the child ----------------------------------------------------------------------------------


def _changes(result: Any) -> dict[str, int]:
    summary = getattr(result, "summary", None)
    found = getattr(summary, "resource_changes", None) or {}
    return {str(getattr(op, "value", op)): int(n) for op, n in found.items()}


def main(request_path: str) -> int:
    from pulumi import automation as auto

    from cli.lifecycle_model.model import load, program

    request = json.loads(Path(request_path).read_text())
    command = Command(**request["command"])
    cli = Path(request["cli"])
    workspace = auto.LocalWorkspace(
        work_dir=request["work_dir"],
        program=program(load(Path(request["model"]))),
        pulumi_home=os.environ["PULUMI_HOME"],
        pulumi_command=auto.PulumiCommand(root=str(cli.parent.parent), skip_version_check=True),
        env_vars=dict(os.environ),
    )
    stack = auto.Stack.select(request["stack"], workspace)

    def show(line: str) -> None:
        print(line, flush=True)

    outcome: dict[str, Any] = {"ok": True}
    try:
        if command.op == "up":
            result: Any = stack.up(
                show_secrets=False,
                on_output=show,
                replace=command.replace or None,
                target=command.target or None,
            )
        elif command.op == "preview":
            result = stack.preview(on_output=show, expect_no_changes=command.expect_no_changes)
        elif command.op == "refresh":
            result = stack.refresh(
                on_output=show, clear_pending_creates=command.clear_pending_creates or None
            )
        elif command.op == "destroy":
            result = stack.destroy(on_output=show)
        elif command.op == "cancel":
            stack.cancel()
            result = None
        else:
            raise SystemExit(f"unknown command {command.op}")
        outcome["changes"] = _changes(result)
    except auto.CommandError as error:
        outcome = {"ok": False, "error": str(error)}
    print(RESULT_MARK + json.dumps(outcome), flush=True)
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
