"""The lifecycle scenarios through the real Pulumi CLI (Automation API) against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tools.pulumi_cli import PulumiEnvironment

from .conftest import (
    CREDENTIAL_A,
    CREDENTIAL_B,
    PROJECT,
    assert_no_plaintext,
    backend_files,
    changes,
    list_sources,
    log_source_states,
    op_counts,
    writes,
)

pytestmark = pytest.mark.slow


def program() -> None:
    """One log source whose type and display name come from stack config, so tests can change
    them between runs the way a user edits a program."""
    import pulumi

    from sigsentry_pulumi import LogSource

    config = pulumi.Config()
    kind = config.get("kind") or "cloudwatch"
    first, second = config.require_secret("secretA"), config.require_secret("secretB")
    credentials = {
        "cloudwatch": {"accessKeyId": first, "secretAccessKey": second},
        "datadog": {"apiKey": first, "appKey": second},
    }[kind]
    source = LogSource(
        "cli-source",
        type=kind,
        name=config.get("displayName") or "cli-source",
        credentials=credentials,
        sources=["/aws/lambda/checkout-api"],
    )
    pulumi.export("log_source_id", source.id)
    pulumi.export("credentials", source.credentials)


def assert_no_secret_leaked(emulator: Any, pulumi_env: PulumiEnvironment, **texts: str) -> None:
    assert_no_plaintext(
        {**texts, **backend_files(pulumi_env)}, emulator.api_key, CREDENTIAL_A, CREDENTIAL_B
    )


@pytest.fixture
def stack(make_stack: Callable[..., Any]) -> Any:
    return make_stack(program)


@pytest.fixture
def deployed(stack: Any) -> Any:
    result = stack.up(show_secrets=False)
    assert changes(result) == {"create": 2}  # the stack resource and the log source
    return stack


def test_preview_writes_nothing_and_up_creates_one_source(
    stack: Any, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    preview = stack.preview()
    assert op_counts(preview.change_summary) == {"create": 2}
    assert list_sources(api) == []

    mark = len(emulator.requests())
    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": 2}
    assert [m for m, _ in writes(emulator, mark)] == ["POST"]
    (source,) = list_sources(api)
    assert up.outputs["log_source_id"].value == source["id"]
    assert source["name"] == "cli-source" and source["type"] == "cloudwatch"
    assert up.outputs["credentials"].secret is True
    assert_no_secret_leaked(emulator, pulumi_env, stdout=up.stdout, stderr=up.stderr)


def test_second_up_changes_nothing_and_writes_nothing(deployed: Any, emulator: Any) -> None:
    mark = len(emulator.requests())
    again = deployed.up(expect_no_changes=True, show_secrets=False)
    assert changes(again) == {"same": 2}
    assert writes(emulator, mark) == []


def test_rename_is_one_update_with_one_put(deployed: Any, emulator: Any, api: httpx.Client) -> None:
    from pulumi import automation as auto

    (before,) = list_sources(api)
    deployed.set_config(f"{PROJECT}:displayName", auto.ConfigValue("renamed-by-pulumi"))
    mark = len(emulator.requests())
    result = deployed.up(show_secrets=False)
    assert changes(result) == {"update": 1, "same": 1}
    assert writes(emulator, mark) == [("PUT", f"/v1/config/log-sources/{before['id']}")]
    (after,) = list_sources(api)
    assert (after["id"], after["name"]) == (before["id"], "renamed-by-pulumi")


def test_type_change_replaces_the_source(deployed: Any, api: httpx.Client) -> None:
    from pulumi import automation as auto

    (before,) = list_sources(api)
    deployed.set_config(f"{PROJECT}:kind", auto.ConfigValue("datadog"))
    result = deployed.up(show_secrets=False)
    assert changes(result) == {"replace": 1, "same": 1}
    (after,) = list_sources(api)  # the old one was deleted
    assert after["type"] == "datadog"
    assert after["id"] != before["id"]
    assert result.outputs["log_source_id"].value == after["id"]


def test_refresh_records_drift_and_next_up_restores_it(
    deployed: Any, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    (source,) = list_sources(api)
    api.put(f"/v1/config/log-sources/{source['id']}", json={"name": "renamed-outside"})

    refresh = deployed.refresh(show_secrets=False)
    assert changes(refresh).get("update") == 1
    (recorded,) = log_source_states(pulumi_env, deployed)
    assert recorded["outputs"]["name"] == "renamed-outside"

    result = deployed.up(show_secrets=False)
    assert changes(result) == {"update": 1, "same": 1}
    assert list_sources(api)[0]["name"] == "cli-source"
    assert_no_secret_leaked(emulator, pulumi_env, refresh=refresh.stdout, up=result.stdout)


def test_refresh_drops_a_source_deleted_outside_and_up_recreates_it(
    deployed: Any, api: httpx.Client
) -> None:
    (source,) = list_sources(api)
    api.delete(f"/v1/config/log-sources/{source['id']}")
    refresh = deployed.refresh(show_secrets=False)
    assert changes(refresh).get("delete") == 1
    result = deployed.up(show_secrets=False)
    assert changes(result) == {"create": 1, "same": 1}
    (recreated,) = list_sources(api)
    assert recreated["id"] != source["id"]


def test_destroy_leaves_the_emulator_empty(deployed: Any, api: httpx.Client) -> None:
    result = deployed.destroy(show_secrets=False)
    assert changes(result) == {"delete": 2}
    assert list_sources(api) == []
