"""A LogSource under a component parent, through the real CLI.

`LogSource` registers `resourceIdentity`, which names the parent by its URN; that value must
not make the source depend on its parent, or the SDK expands the dependency into the
component's children (the source itself among them) and fails the program with a circular
dependency.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cli.lifecycle_support import SOURCES, exported_log_sources
from cli.stacks import StackFactory, changes
from raw_api import list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow


def program_with(*, under_component: bool) -> Callable[[], None]:
    """One LogSource, `child`: under a component `team` (moved there with an alias) or not."""

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        config = pulumi.Config()
        options = pulumi.ResourceOptions()
        if under_component:
            team = pulumi.ComponentResource("sigsentry:test:Team", "team")
            options = pulumi.ResourceOptions(
                parent=team, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]
            )
        LogSource(
            "child",
            type="cloudwatch",
            credentials={
                "accessKeyId": config.require_secret("secretA"),
                "secretAccessKey": config.require_secret("secretB"),
            },
            sources=SOURCES,
            opts=options,
        )

    return program


def test_a_source_under_a_component_is_created_once_and_stays_put(
    make_stack: StackFactory, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack = make_stack(program_with(under_component=True))
    created = stack.up(show_secrets=False)
    assert changes(created) == {"create": 3}  # the stack, the component, the source
    (live,) = list_sources(api)
    (recorded,) = exported_log_sources(pulumi_env, stack)
    assert recorded["id"] == live["id"]
    assert recorded["parent"].endswith("sigsentry:test:Team::team")
    stack.preview(expect_no_changes=True)


def test_moving_a_source_under_a_component_with_an_alias_keeps_it(
    make_stack: StackFactory, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack = make_stack(program_with(under_component=False))
    stack.up(show_secrets=False)
    (before,) = list_sources(api)
    stack.workspace.program = program_with(under_component=True)
    moved: Any = stack.up(show_secrets=False)
    assert changes(moved)["create"] == 1  # the component only: the source is the same
    assert [s["id"] for s in list_sources(api)] == [before["id"]]
    assert [r["id"] for r in exported_log_sources(pulumi_env, stack)] == [before["id"]]
    stack.preview(expect_no_changes=True)
