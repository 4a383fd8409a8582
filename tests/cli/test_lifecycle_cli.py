"""The lifecycle scenarios through the real Pulumi CLI (Automation API) against the emulator.

Runs whenever a `pulumi` binary is on PATH; otherwise the whole module is skipped with the reason
(shown by `pytest -ra`). The same scenarios run without the CLI through the engine stand-in in
tests/engine/.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import CREDENTIAL_A, CREDENTIAL_B, PROJECT, list_sources

if shutil.which("pulumi") is None:
    pytest.skip(
        "the Pulumi CLI (`pulumi`) is not on PATH: real-CLI tests skipped; the same scenarios "
        "run through the engine stand-in in tests/engine/",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow

WRITE_METHODS = {"POST", "PUT", "DELETE"}


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


def writes(emulator: Any, since: int) -> list[tuple[str, str]]:
    """(method, path) of every write the emulator received after the first `since` requests."""
    return [
        (r["method"], r["path"])
        for r in emulator.requests()[since:]
        if r["method"] in WRITE_METHODS
    ]


def op_counts(op_map: Any) -> dict[str, int]:
    """An OpMap as plain strings: keys may be `OpType` members (str enums) or plain strings."""
    return {getattr(op, "value", op): n for op, n in (op_map or {}).items()}


def changes(result: Any) -> dict[str, int]:
    return op_counts(result.summary.resource_changes)


def assert_no_secret_leaked(emulator: Any, state_dir: Path, *texts: str) -> None:
    for text in texts:
        for secret in (emulator.api_key, CREDENTIAL_A, CREDENTIAL_B):
            assert secret not in text
    for path in state_dir.rglob("*"):
        if path.is_file():
            content = path.read_text(errors="replace")
            for secret in (emulator.api_key, CREDENTIAL_A, CREDENTIAL_B):
                assert secret not in content, f"plaintext secret in {path}"


@pytest.fixture
def stack(make_stack: Callable[[Callable[[], None]], Any]) -> Any:
    return make_stack(program)


@pytest.fixture
def deployed(stack: Any) -> Any:
    result = stack.up(show_secrets=False)
    assert changes(result) == {"create": 2}  # the stack resource and the log source
    return stack


def test_preview_writes_nothing_and_up_creates_one_source(
    stack: Any, emulator: Any, api: httpx.Client, tmp_path: Path
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
    assert_no_secret_leaked(emulator, tmp_path / "state", up.stdout, up.stderr)


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
    deployed: Any, emulator: Any, api: httpx.Client, tmp_path: Path
) -> None:
    (source,) = list_sources(api)
    api.put(f"/v1/config/log-sources/{source['id']}", json={"name": "renamed-outside"})

    refresh = deployed.refresh(show_secrets=False)
    assert changes(refresh).get("update") == 1
    state = deployed.export_stack().deployment
    (recorded,) = [r for r in state["resources"] if r["type"].endswith("sigsentry:LogSource")]
    assert recorded["outputs"]["name"] == "renamed-outside"

    result = deployed.up(show_secrets=False)
    assert changes(result) == {"update": 1, "same": 1}
    assert list_sources(api)[0]["name"] == "cli-source"
    assert_no_secret_leaked(
        emulator, tmp_path / "state", json.dumps(state), refresh.stdout, result.stdout
    )


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
