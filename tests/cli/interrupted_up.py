"""An Automation API `up` killed while a create is in flight, as the engine-notes and the
forced-replacement tests run it: `killed_mid_create`, then `unlock` to release the stack."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from cli import engine_notes_driver
from cli.engine_notes_support import Bench

WAIT_SECONDS = 60.0
DRIVER = engine_notes_driver.__name__


def wait_for(
    condition: Callable[[], object], what: str, driver: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll `condition` for up to a minute; give up early when `driver` has exited (the up
    failed before the point the test waits for: its output is in the driver log)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline or (driver is not None and driver.poll() is not None):
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)  # polling real processes (the CLI, its plugin): no hook reports them


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
