"""The engine notes' "Crashes and pending operations" claims: a `pulumi up` killed while a
create is in flight, checked against the real CLI."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from cli import engine_notes_driver
from cli.engine_notes_support import FAKE_CREDENTIAL, Bench
from cli.interrupted_up import killed_mid_create, unlock, wait_for
from cli.recording_provider import Recorded
from cli.stacks import assert_no_plaintext, backend_files, changes
from raw_api import LOG_SOURCES, list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow


@pytest.fixture
def bench(pulumi_env: PulumiEnvironment) -> Bench:
    return Bench(pulumi_env)


def quick_program() -> None:
    Recorded("res", {"label": "one"})


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
