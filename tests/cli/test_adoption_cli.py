"""Adopting log sources made outside Pulumi (`LogSource(adopt_id=...)`), through the real CLI.

Each test makes sources with raw API calls, as a user did by hand, then drives an inline stack
through the real engine and the real `python -m pulumi.dynamic` plugin, and checks what the
user sees (the preview, the summary, the error) and what the emulator received.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest
from pulumi import automation as auto

from cli.stacks import (
    CREDENTIAL_A,
    CREDENTIAL_B,
    assert_no_plaintext,
    backend_files,
    changes,
    log_source_states,
    op_counts,
    writes,
)
from raw_api import LOG_SOURCES, connect, list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

HAND_MADE = "hand-made-credential"


def make_by_hand(api: httpx.Client, kind: str = "datadog", name: str = "by-hand") -> str:
    """A source created through the API, outside Pulumi; returns its id."""
    credentials = {"apiKey": HAND_MADE, "appKey": HAND_MADE}
    if kind == "loki":
        credentials = {"host": "https://loki.example.com"}
    response = api.post(
        LOG_SOURCES,
        json={"type": kind, "name": name, "credentials": credentials, "sources": ["old:one"]},
    )
    response.raise_for_status()
    source_id: str = response.json()["data"]["id"]
    return source_id


def adopting(
    adopt_ids: Sequence[str | None], *, verify: bool = False, retain: bool = False
) -> Callable[[], None]:
    """One datadog LogSource per entry, `adopted-<n>`, adopting that id (None: no adopt_id)."""

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        config = pulumi.Config()
        for n, adopt_id in enumerate(adopt_ids):
            LogSource(
                f"adopted-{n}",
                type="datadog",
                name=f"managed-{n}",
                credentials={
                    "apiKey": config.require_secret("secretA"),
                    "appKey": config.require_secret("secretB"),
                },
                sources=["service:checkout"],
                is_active=False,
                verify=verify,
                adopt_id=adopt_id,
                opts=pulumi.ResourceOptions(retain_on_delete=retain),
            )

    return program


def error_text(error: BaseException) -> str:
    return str(error)


def test_adoption_takes_over_the_source_with_one_put_and_keeps_its_id(
    make_stack: Callable[..., Any], api: httpx.Client, emulator: Any, pulumi_env: PulumiEnvironment
) -> None:
    source_id = make_by_hand(api)
    stack = make_stack(adopting([source_id], verify=True))

    preview = stack.preview()
    assert op_counts(preview.change_summary) == {"create": 2}  # the stack and the source

    before = len(emulator.requests())
    up = stack.up()
    assert changes(up) == {"create": 2}
    assert writes(emulator, before) == [
        ("PUT", f"{LOG_SOURCES}/{source_id}"),
        ("POST", f"{LOG_SOURCES}/{source_id}/test"),
    ]
    [live] = list_sources(api)
    assert live["id"] == source_id
    assert (live["name"], live["sources"], live["isActive"]) == (
        "managed-0",
        ["service:checkout"],
        False,
    )
    [state] = log_source_states(pulumi_env, stack)
    assert state["id"] == source_id
    assert state["outputs"]["adoptId"] == source_id

    # Adopted, the id can stay in the program or leave it: either way nothing changes.
    assert op_counts(stack.preview().change_summary) == {"same": 2}
    stack.workspace.program = adopting([None], verify=True)
    before = len(emulator.requests())
    assert changes(stack.up()) == {"same": 2}
    assert writes(emulator, before) == []
    assert op_counts(stack.refresh().summary.resource_changes) == {"same": 2}
    assert op_counts(stack.preview().change_summary) == {"same": 2}

    before = len(emulator.requests())
    destroy = stack.destroy()
    assert changes(destroy) == {"delete": 2}
    assert writes(emulator, before) == [("DELETE", f"{LOG_SOURCES}/{source_id}")]
    assert list_sources(api) == []
    assert_no_plaintext(
        {"up": up.stdout, "destroy": destroy.stdout, **backend_files(pulumi_env)},
        emulator.api_key,
        CREDENTIAL_A,
        CREDENTIAL_B,
    )


def test_changing_adopt_id_replaces_and_retain_on_delete_keeps_the_source(
    make_stack: Callable[..., Any], api: httpx.Client, emulator: Any
) -> None:
    first, second = make_by_hand(api, name="first"), make_by_hand(api, name="second")
    stack = make_stack(adopting([first]))
    stack.up()

    stack.workspace.program = adopting([second])
    before = len(emulator.requests())
    up = stack.up()
    assert changes(up) == {"replace": 1, "same": 1}
    assert writes(emulator, before) == [
        ("PUT", f"{LOG_SOURCES}/{second}"),
        ("DELETE", f"{LOG_SOURCES}/{first}"),
    ]
    assert [s["id"] for s in list_sources(api)] == [second]

    stack.workspace.program = adopting([second], retain=True)
    stack.up()
    before = len(emulator.requests())
    stack.destroy()
    assert writes(emulator, before) == []
    assert [s["id"] for s in list_sources(api)] == [second]


@pytest.mark.parametrize("problem", ["missing", "other type"])
def test_adopting_a_missing_id_or_one_of_another_type_fails_before_any_write(
    problem: str, make_stack: Callable[..., Any], api: httpx.Client, emulator: Any
) -> None:
    if problem == "missing":
        source_id = "ls_doesnotexist000"
        expected = [f"Cannot adopt log source {source_id}: it does not exist"]
    else:
        source_id = make_by_hand(api, kind="loki")
        expected = [
            f"Cannot adopt log source {source_id}: its type is 'loki', the program declares "
            "'datadog'",
            "Declare type='loki'",
        ]
    stack = make_stack(adopting([source_id]))
    before_sources = list_sources(api)
    before = len(emulator.requests())
    with pytest.raises(auto.errors.CommandError) as raised:
        stack.up()
    text = error_text(raised.value)
    for fragment in [*expected, f"remove adopt_id='{source_id}'"]:
        assert fragment in text
    assert writes(emulator, before) == []
    assert list_sources(api) == before_sources
    assert_no_plaintext({"error": text}, emulator.api_key, CREDENTIAL_A, CREDENTIAL_B)


def test_adopting_one_id_twice_in_a_stack_fails_at_preview(
    make_stack: Callable[..., Any], api: httpx.Client, emulator: Any
) -> None:
    source_id = make_by_hand(api)
    stack = make_stack(adopting([source_id, source_id]))
    before = len(emulator.requests())
    with pytest.raises(auto.errors.CommandError) as raised:
        stack.preview()
    text = error_text(raised.value)
    assert f"log source {source_id} is already adopted by the resource 'adopted-" in text
    assert f"remove adopt_id='{source_id}' from 'adopted-1' or from 'adopted-0'" in text
    assert writes(emulator, before) == []
    [live] = list_sources(api)
    assert live["name"] == "by-hand"

    # Without a preview first (the Automation API's `up`, `pulumi up --skip-preview`) the engine
    # already steps the first resource while the program goes on, so that one may be taken
    # over; the run still fails, and nothing is created.
    with pytest.raises(auto.errors.CommandError) as raised:
        stack.up()
    assert "is already adopted by the resource" in error_text(raised.value)
    assert {method for method, _ in writes(emulator, before)} <= {"PUT"}
    assert [s["id"] for s in list_sources(api)] == [source_id]


def test_get_reads_a_source_of_a_tenant_scoped_key_in_the_named_project(
    make_stack: Callable[..., Any], emulator: Any
) -> None:
    key = emulator.create_key(project_id=None)  # tenant-scoped: every request names a project
    project = emulator.create_project()
    with connect(emulator.url, key.api_key, **{"X-Project-Id": project}) as tenant:
        response = tenant.post(
            LOG_SOURCES,
            json={
                "type": "datadog",
                "name": "elsewhere",
                "credentials": {"apiKey": HAND_MADE, "appKey": HAND_MADE},
                "sources": ["service:elsewhere"],
            },
        )
        response.raise_for_status()
        source_id = response.json()["data"]["id"]

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        found = LogSource.get("found", source_id, project_id=project)
        pulumi.export("name", found.name)
        pulumi.export("project", found.project_id)
        pulumi.export("credentials", found.credentials)

    stack = make_stack(program, secrets={"sigsentry:apiKey": key.api_key})
    before = len(emulator.requests())
    up = stack.up()
    assert writes(emulator, before) == []
    assert up.outputs["name"].value == "elsewhere"
    assert up.outputs["project"].value == project
    assert "credentials" not in up.outputs  # never readable: SigSentry does not return them
    assert_no_plaintext({"up": up.stdout}, key.api_key, HAND_MADE)


def count_test_calls(emulator: Any, since: int) -> int:
    return sum(r["path"].endswith("/test") for r in emulator.requests()[since:])


@pytest.mark.parametrize("verify", [True, False])
def test_refresh_with_verify_sees_credentials_broken_behind_pulumi_and_up_restores_them(
    verify: bool,
    make_stack: Callable[..., Any],
    api: httpx.Client,
    emulator: Any,
    pulumi_env: PulumiEnvironment,
) -> None:
    stack = make_stack(adopting([None], verify=verify))
    stack.up()
    [source] = list_sources(api)
    broken = {"apiKey": "invalid", "appKey": "invalid"}  # the emulator's test call rejects it
    api.put(f"{LOG_SOURCES}/{source['id']}", json={"credentials": broken}).raise_for_status()

    before = len(emulator.requests())
    refresh = stack.refresh()
    assert count_test_calls(emulator, before) == (1 if verify else 0)
    assert writes(emulator, before) == (
        [("POST", f"{LOG_SOURCES}/{source['id']}/test")] if verify else []
    )
    refreshed = op_counts(refresh.summary.resource_changes)
    preview = stack.preview(diff=True)
    if not verify:  # as before: credentials are not readable, so nothing shows
        assert refreshed == {"same": 2}
        assert op_counts(preview.change_summary) == {"same": 2}
        return
    assert refreshed == {"update": 1, "same": 1}
    assert op_counts(preview.change_summary) == {"update": 1, "same": 1}
    assert "credentials" in preview.stdout

    before = len(emulator.requests())
    up = stack.up()
    assert changes(up) == {"update": 1, "same": 1}
    assert writes(emulator, before) == [
        ("PUT", f"{LOG_SOURCES}/{source['id']}"),
        ("POST", f"{LOG_SOURCES}/{source['id']}/test"),
    ]
    before = len(emulator.requests())
    assert op_counts(stack.refresh().summary.resource_changes) == {"same": 2}
    assert count_test_calls(emulator, before) == 1  # the restored credentials pass the test
    assert_no_plaintext(
        {"refresh": refresh.stdout, "preview": preview.stdout, "up": up.stdout},
        emulator.api_key,
        CREDENTIAL_A,
        CREDENTIAL_B,
    )
    assert all(
        state["outputs"]["credentials"].get("4dabf18193072939515e22adb298388d") is not None
        for state in log_source_states(pulumi_env, stack)
    )
