"""The engine notes' forced replacements (`up --replace URN`, `up --target-replace URN`), checked
against the real CLI: what the provider sees, and what it cannot tell apart."""

from __future__ import annotations

from typing import Any

import pytest

from cli.engine_notes_support import Bench
from cli.recording_provider import Recorded
from cli.stacks import changes
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow


@pytest.fixture
def bench(pulumi_env: PulumiEnvironment) -> Bench:
    return Bench(pulumi_env)


def program() -> None:
    Recorded("res", {"label": "one"})


def deployed(bench: Bench) -> tuple[Any, str, str]:
    """The stack after its first `up`, the resource's URN and its id; the recording cleared."""
    stack = bench.stack(program)
    stack.up()
    (create,) = bench.calls("create")
    state = bench.resource(stack, "res")
    bench.clear()
    return stack, state["urn"], create["id"]


def assert_created_then_deleted_without_diff(bench: Bench, old_id: str) -> None:
    assert bench.methods() == ["check", "create", "delete"]
    check, create, delete = (c for c in bench.calls() if c["method"] != "configure")
    # a check with no olds, as for a brand-new resource or a create repeated after a crash
    assert check["olds"] == {}
    assert delete["id"] == old_id != create["id"]
    assert check["pid"] == create["pid"] == delete["pid"]  # one plugin process


def test_up_replace_checks_with_no_olds_creates_then_deletes_without_a_diff(
    bench: Bench,
) -> None:
    stack, urn, old_id = deployed(bench)
    result = stack.up(replace=[urn])
    assert changes(result) == {"replace": 1, "same": 1}
    assert_created_then_deleted_without_diff(bench, old_id)

    # a plain up of the same program checks with the old inputs and diffs
    bench.clear()
    stack.up()
    assert bench.methods() == ["check", "diff"]
    assert bench.calls("check")[0]["olds"] != {}


def test_target_replace_does_the_same(bench: Bench) -> None:
    stack, urn, old_id = deployed(bench)
    done = bench.cli_program(
        stack, program, "up", "--yes", "--skip-preview", "--target-replace", urn
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "1 replaced" in done.stdout
    assert_created_then_deleted_without_diff(bench, old_id)
