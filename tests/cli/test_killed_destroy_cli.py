"""A `pulumi destroy` killed mid-way (kill -9 of the CLI and of its plugin), then the recovery
steps docs/provider.md and README.md give, run exactly as written, through the real CLI.

The killed destroy leaves one source deleted and gone from the stack, and the others in the
stack as pending deletes while their `DELETE`s, held by the emulator, still complete. Either
documented recovery must end with the stack and SigSentry agreeing: every declared source
live and in the stack after the `up`, or nothing left after the destroy.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.engine_notes_support import Bench
from cli.stacks import ROOT, StackFactory, changes, log_source_states
from raw_api import LOG_SOURCES, list_sources
from tools.fault_plans import many_sources_program
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

COUNT = 4
HELD_SECONDS = 4.0
"""How long the emulator holds each DELETE after the first: the kill comes in between."""
DOCS = {"README.md": "After a `pulumi destroy` killed mid-way", "docs/provider.md": "### A killed"}


def documented_recoveries(document: str, marker: str) -> list[list[str]]:
    """The two `sh` blocks after `marker` in `document`: finish the destroy, keep the sources."""
    text = (ROOT / document).read_text()
    after = text[text.index(marker) :]
    blocks = re.findall(r"```sh\n(.*?)```", after, flags=re.DOTALL)[:2]
    return [[line.strip() for line in block.splitlines() if line.strip()] for block in blocks]


RECOVERIES = documented_recoveries("docs/provider.md", DOCS["docs/provider.md"])


def test_readme_and_provider_docs_give_the_same_recovery_steps() -> None:
    assert RECOVERIES[0][-1] == "pulumi destroy --yes" and RECOVERIES[1][-1] == "pulumi up --yes"
    assert documented_recoveries("README.md", DOCS["README.md"]) == RECOVERIES


def kill_destroy_midway(pulumi_env: PulumiEnvironment, stack: Any, emulator: Any) -> None:
    """Run `pulumi destroy`, SIGKILL the CLI's process group and the plugin once the first
    DELETE has been answered while the others are held, then let the held ones complete."""
    emulator.set_faults(
        {
            "rules": [
                {"method": "DELETE", "path": f"{LOG_SOURCES}/*", "sequence": ["ok"]},
                {
                    "method": "DELETE",
                    "path": f"{LOG_SOURCES}/*",
                    "fault": "slow",
                    "delaySeconds": HELD_SECONDS,
                },
            ]
        }
    )
    destroy = subprocess.Popen(
        [str(pulumi_env.cli), "destroy", "--yes", "--skip-preview", "--stack", stack.name],
        cwd=stack.workspace.work_dir,
        env=pulumi_env.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(r["method"] == "DELETE" for r in emulator.requests()):
            assert destroy.poll() is None and time.monotonic() < deadline, "no DELETE answered"
            time.sleep(0.05)  # polling the real CLI's first DELETE
        time.sleep(1.0)  # the engine records the answered delete; the others are held
    finally:
        os.killpg(destroy.pid, signal.SIGKILL)
        destroy.wait(timeout=30)
        assert pulumi_env.kill_plugins() == 1
    time.sleep(HELD_SECONDS + 1)  # the held DELETEs complete, as a real API would
    emulator.clear_faults()


def run_step(
    pulumi_env: PulumiEnvironment, stack: Any, program: Any, line: str
) -> subprocess.CompletedProcess[str]:
    args = shlex.split(line)
    assert args[0] == "pulumi"
    if args[1] == "up":  # an inline program: the CLI runs it through the test's language server
        return Bench(pulumi_env).cli_program(stack, program, *args[1:], timeout=300)
    return pulumi_env.run(
        *args[1:], "--stack", stack.name, cwd=Path(stack.workspace.work_dir), check=False
    )


@pytest.mark.parametrize("recovery", RECOVERIES, ids=["finish-the-destroy", "keep-the-sources"])
def test_the_documented_steps_after_a_killed_destroy_leave_state_and_api_agreeing(
    make_stack: StackFactory,
    emulator: Any,
    api: httpx.Client,
    pulumi_env: PulumiEnvironment,
    recovery: list[str],
) -> None:
    program = many_sources_program(COUNT)
    stack = make_stack(program)
    assert changes(stack.up(show_secrets=False)) == {"create": COUNT + 1}
    kill_destroy_midway(pulumi_env, stack, emulator)
    # what the killed destroy left: fewer sources in SigSentry than the stack lists
    in_state = {r["id"] for r in log_source_states(pulumi_env, stack)}
    assert 0 < len(in_state) < COUNT
    assert len(list_sources(api)) < len(in_state)

    for line in recovery:
        done = run_step(pulumi_env, stack, program, line)
        assert done.returncode == 0, f"{line}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"

    live = list_sources(api)
    states = log_source_states(pulumi_env, stack)
    assert {r["id"] for r in states} == {s["id"] for s in live}
    if recovery[-1].startswith("pulumi destroy"):
        assert live == []
    else:
        assert sorted(s["name"] for s in live) == [f"src-{i:03d}" for i in range(COUNT)]
        stack.preview(expect_no_changes=True)
    assert not stack.export_stack().deployment.get("pending_operations")
