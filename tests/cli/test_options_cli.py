"""Resource options on a LogSource, as the real Pulumi engine applies them.

`protect`, `ignore_changes`, `retain_on_delete` and `delete_before_replace` are the engine's, not
the provider's: these tests check that a LogSource honours each one the way Pulumi documents it,
by what the CLI reports and what the emulator received.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cli.lifecycle_support import exported_log_sources, log_source_program
from cli.stacks import (
    CREDENTIAL_A,
    CREDENTIAL_B,
    PROJECT,
    assert_no_plaintext,
    backend_files,
    changes,
    op_counts,
    writes,
)
from raw_api import LOG_SOURCES, list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow


def deploy(make_stack: Callable[..., Any], emulator: Any, **options: Any) -> Any:
    stack = make_stack(log_source_program(**options))
    assert changes(stack.up(show_secrets=False)) == {"create": 2}
    assert [m for m, _ in writes(emulator, 0)] == ["POST"]  # a new source: nothing to confirm
    return stack


def set_config(stack: Any, key: str, value: str) -> None:
    from pulumi import automation as auto

    stack.set_config(f"{PROJECT}:{key}", auto.ConfigValue(value))


def assert_no_secret_leaked(emulator: Any, pulumi_env: PulumiEnvironment, **texts: str) -> None:
    assert_no_plaintext(
        {**texts, **backend_files(pulumi_env)}, emulator.api_key, CREDENTIAL_A, CREDENTIAL_B
    )


def test_protect_makes_destroy_fail_and_deletes_nothing(
    make_stack: Callable[..., Any],
    emulator: Any,
    api: httpx.Client,
    pulumi_env: PulumiEnvironment,
) -> None:
    from pulumi import automation as auto

    stack = deploy(make_stack, emulator, protect=True)
    (source,) = list_sources(api)
    mark = len(emulator.requests())
    with pytest.raises(auto.errors.CommandError) as failed:
        stack.destroy(show_secrets=False)
    message = str(failed.value)
    assert 'LogSource::cli-source" cannot be deleted' in message
    assert "because it is protected" in message
    assert "pulumi state unprotect" in message  # the engine says how to lift it
    assert writes(emulator, mark) == []
    assert list_sources(api) == [source]
    (kept,) = exported_log_sources(pulumi_env, stack)
    assert (kept["id"], kept["protect"]) == (source["id"], True)
    assert_no_secret_leaked(emulator, pulumi_env, error=message)


def test_ignore_changes_on_name_makes_a_rename_no_change_and_no_put(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client
) -> None:
    stack = deploy(make_stack, emulator, ignore_changes=["name"])
    (source,) = list_sources(api)
    set_config(stack, "displayName", "renamed-by-pulumi")
    mark = len(emulator.requests())
    preview = stack.preview(expect_no_changes=True)
    assert op_counts(preview.change_summary) == {"same": 2}
    result = stack.up(expect_no_changes=True, show_secrets=False)
    assert changes(result) == {"same": 2}
    assert writes(emulator, mark) == []
    assert list_sources(api) == [source]  # still named cli-source

    # ignoring `name` does not ignore the rest: a pause still goes through
    set_config(stack, "active", "false")
    mark = len(emulator.requests())
    assert changes(stack.up(show_secrets=False)) == {"update": 1, "same": 1}
    assert writes(emulator, mark) == [("PUT", f"{LOG_SOURCES}/{source['id']}")]
    (paused,) = list_sources(api)
    assert (paused["name"], paused["isActive"]) == ("cli-source", False)


def test_retain_on_delete_drops_the_source_from_state_without_a_delete(
    make_stack: Callable[..., Any],
    emulator: Any,
    api: httpx.Client,
    pulumi_env: PulumiEnvironment,
) -> None:
    stack = deploy(make_stack, emulator, retain_on_delete=True)
    (source,) = list_sources(api)
    mark = len(emulator.requests())
    result = stack.destroy(show_secrets=False)
    assert changes(result) == {"delete": 2}
    assert writes(emulator, mark) == []
    assert list_sources(api) == [source]
    assert exported_log_sources(pulumi_env, stack) == []


def test_delete_before_replace_deletes_the_old_source_before_creating_the_new_one(
    make_stack: Callable[..., Any],
    emulator: Any,
    api: httpx.Client,
    pulumi_env: PulumiEnvironment,
) -> None:
    stack = deploy(make_stack, emulator, delete_before_replace=True)
    (before,) = list_sources(api)
    set_config(stack, "kind", "datadog")
    mark = len(emulator.requests())
    result = stack.up(show_secrets=False)
    assert changes(result) == {"replace": 1, "same": 1}
    (after,) = list_sources(api)
    assert writes(emulator, mark) == [
        ("DELETE", f"{LOG_SOURCES}/{before['id']}"),
        ("POST", LOG_SOURCES),
    ]
    assert after["type"] == "datadog" and after["id"] != before["id"]
    (recorded,) = exported_log_sources(pulumi_env, stack)
    assert recorded["id"] == after["id"]
    assert_no_secret_leaked(emulator, pulumi_env, up=result.stdout + result.stderr)
