"""The engine notes' "Crashes and pending operations" claims: a `pulumi up` killed while a
create is in flight, checked against the real CLI."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cli import engine_notes_driver
from cli.engine_notes_support import FAKE_CREDENTIAL, Bench
from cli.recording_provider import Recorded
from cli.stacks import assert_no_plaintext, backend_files
from cli.test_engine_notes_operations_cli import changes
from raw_api import LOG_SOURCES, list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

WAIT_SECONDS = 60.0
DRIVER = engine_notes_driver.__name__


@pytest.fixture
def bench(pulumi_env: PulumiEnvironment) -> Bench:
    return Bench(pulumi_env)


def quick_program() -> None:
    Recorded("res", {"label": "one"})


def wait_for(
    condition: Callable[[], object], what: str, driver: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll `condition` for up to a minute; give up early when `driver` has exited (the up
    failed before the point the test waits for: its output is in the driver log)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline or (driver is not None and driver.poll() is not None):
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def killed_mid_create(
    bench: Bench,
    stack: Any,
    program: str = "recorded",
    ready: Callable[[], bool] | None = None,
    then: Callable[[], object] | None = None,
    replace: str = "",
) -> Iterator[dict[str, Any]]:
    """Run an Automation API ``up`` of a program whose create takes a minute, in a process
    group of its own (engine_notes_driver), SIGKILL that group (the driver and the CLI) once
    the create has started and `ready()`, when given, is true, and yield what the plugin
    recorded then (its pid and process group). The plugin outlives the CLI; `then()`, when
    given, runs while it still does, and the plugin is killed by its pid on the way out.
    `replace`, a URN, makes it an ``up --replace`` of that resource."""
    plugin_pid: int | None = None
    env = bench.env({"ENGINE_NOTES_CLI": str(bench.pulumi_env.cli)})
    log = bench.pulumi_env.base / "driver.log"
    with log.open("wb") as output:
        driver = subprocess.Popen(
            [sys.executable, "-m", DRIVER, stack.workspace.work_dir, stack.name, program, replace],
            cwd=stack.workspace.work_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        try:
            wait_for(lambda: bench.calls("create-started"), "the create to start", driver)
            if ready is not None:
                wait_for(ready, "the program's other creates to start", driver)
        except AssertionError as error:
            raise AssertionError(f"{error}; the up printed:\n{log.read_text()[-3000:]}") from None
        (started,) = bench.calls("create-started")
        plugin_pid = int(started["pid"])
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
        started["plugin_alive_after_kill"] = alive(plugin_pid)
        if then is not None:
            then()
        started["cli_pgid"] = driver.pid
        yield started
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait(timeout=30)
        if plugin_pid is not None and alive(plugin_pid):
            os.kill(plugin_pid, signal.SIGKILL)


def unlock(bench: Bench, stack: Any) -> None:
    """A killed CLI leaves the stack locked; `pulumi cancel` releases the lock."""
    bench.cli(stack, "cancel", "--yes")


def pending(bench: Bench, stack: Any) -> list[dict[str, Any]]:
    operations: list[dict[str, Any]] = bench.export(stack).get("pending_operations") or []
    return operations


def test_killed_up_leaves_a_pending_create_and_the_next_up_creates_again(bench: Bench) -> None:
    from pulumi import automation as auto

    stack = bench.stack(quick_program)
    with killed_mid_create(bench, stack) as started:
        # the plugin runs in its own process group: killing the CLI's group leaves it running
        assert started["pgid"] == started["pid"] != started["cli_pgid"]
        assert started["plugin_alive_after_kill"]
    # not in the notes: the killed CLI leaves the stack locked until `pulumi cancel`
    with pytest.raises(auto.ConcurrentUpdateError):
        stack.up()
    unlock(bench, stack)
    (operation,) = pending(bench, stack)
    assert operation["type"] == "creating"
    assert operation["resource"]["urn"].endswith("::res")
    assert "id" not in operation["resource"] or not operation["resource"]["id"]

    bench.clear()
    result = stack.up()
    assert "pending operations from previous deployment" in result.stdout + result.stderr
    assert changes(result) == {"create": 1, "same": 1}
    assert bench.methods() == ["check", "create"]  # created again: the first one is orphaned
    # and the pending create stays in the state, warned about at every run, until a refresh
    # clears it
    assert [p["resource"]["urn"] for p in pending(bench, stack)] == [operation["resource"]["urn"]]
    again = stack.up()
    assert "pending operations from previous deployment" in again.stdout + again.stderr


def test_refresh_clear_pending_creates_drops_them(bench: Bench) -> None:
    stack = bench.stack(quick_program)
    with killed_mid_create(bench, stack):
        pass
    unlock(bench, stack)
    assert len(pending(bench, stack)) == 1
    stack.refresh()  # not interactive: the pending create stays
    assert len(pending(bench, stack)) == 1
    stack.refresh(clear_pending_creates=True)
    assert pending(bench, stack) == []
    assert not any(r["urn"].endswith("::res") for r in bench.export(stack)["resources"])


def test_import_pending_creates_drops_the_create_without_reading_or_adopting(
    bench: Bench,
) -> None:
    stack = bench.stack(quick_program)
    with killed_mid_create(bench, stack):
        pass
    unlock(bench, stack)
    (operation,) = pending(bench, stack)
    bench.clear()
    done = bench.cli(
        stack,
        "refresh",
        "--yes",
        "--skip-preview",
        *("--import-pending-creates", operation["resource"]["urn"]),
        *("--import-pending-creates", "rec-by-hand"),
    )
    # The notes expect a Read the dynamic provider cannot serve. The refresh succeeds, never
    # calls the provider, and leaves neither the pending create nor a resource behind.
    assert "did not correspond to a pending create" not in done.stderr
    assert bench.calls() == []
    assert pending(bench, stack) == []
    assert not any(r["urn"].endswith("::res") for r in bench.export(stack)["resources"])


def test_an_interrupted_log_source_create_is_replayed_by_the_next_up(
    bench: Bench, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    stack = bench.stack(
        quick_program,
        config={"sigsentry:apiUrl": emulator.url},
        secrets={"sigsentry:apiKey": emulator.api_key},
    )
    # the POST is held for 5 s, long after the CLI is killed
    emulator.set_faults(
        {"rules": [{"method": "POST", "path": LOG_SOURCES, "fault": "slow", "delaySeconds": 5}]}
    )

    def creating() -> bool:
        """The engine has checkpointed the LogSource's create (it sends Create right after);
        then a second's grace for the plugin to send its POST, which the emulator holds."""
        for path in (pulumi_env.state / ".pulumi" / "stacks").rglob("*.json"):
            _, _, pending_part = path.read_text().partition('"pending_operations"')
            if "::interrupted" in pending_part:
                time.sleep(1.0)
                return True
        return False

    def posted() -> bool:
        return any(r["method"] == "POST" and r["status"] == 201 for r in emulator.requests())

    with killed_mid_create(
        bench,
        stack,
        "log-source",
        ready=creating,
        then=lambda: wait_for(posted, "the orphaned POST"),
    ) as started:
        assert started["plugin_alive_after_kill"]
    emulator.clear_faults()
    # the plugin, orphaned, finished the create: SigSentry has the source, the stack does not
    (first,) = list_sources(api)
    unlock(bench, stack)
    assert {p["resource"]["urn"].rsplit("::", 1)[1] for p in pending(bench, stack)} == {
        "interrupted",
        "res",
    }
    stack.set_config("engine-notes:slowSibling", auto.ConfigValue("false"))
    stack.workspace.program = engine_notes_driver.log_source_program
    mark = len(emulator.requests())
    result = stack.up()
    assert "pending operations from previous deployment" in result.stdout + result.stderr
    # the engine creates it again: one more POST, under the same derived Idempotency-Key as the
    # interrupted one, so SigSentry replays it and the stack gets the first source, not a second
    (again,) = [r for r in emulator.requests()[mark:] if r["method"] == "POST"]
    assert again["replayed"] is True
    (recorded,) = [
        r for r in bench.export(stack)["resources"] if r["urn"].endswith("::interrupted")
    ]
    assert list_sources(api) == [first]
    assert recorded["id"] == first["id"]
    assert_no_plaintext(
        {"up": result.stdout, **backend_files(pulumi_env)}, emulator.api_key, FAKE_CREDENTIAL
    )
