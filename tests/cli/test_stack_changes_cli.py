"""How a stack of log sources changes under the real Pulumi CLI, beyond one source's lifecycle
(tests/cli/test_lifecycle_cli.py): every type updated in place, a dependent following its
replaced source, sources and reads dropped from the program, an update of a source deleted
outside Pulumi, replacements interrupted half-way by the API, and failed ups, updates and
destroys that keep what they did in the state and no secret in the backend; and what a user
meets with a missing credential key or the `import_` option.

Programs are closures over a `spec` dict the test edits between runs, as a user edits a program.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cli.lifecycle_support import (
    EventLog,
    RecordingProxy,
    exported_deployment,
    exported_log_sources,
    op_name,
    recorded_writes,
)
from cli.stacks import assert_no_plaintext, backend_files, changes, op_counts, writes
from raw_api import LOG_SOURCES, list_sources
from samples import CREDENTIALS, ROTATED, SECRET_VALUES, SOURCES, TYPES
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

Spec = dict[str, Any]
DATADOG: Any = CREDENTIALS["datadog"]  # plain data: the provider's check judges it, not mypy


def source_path(source_id: str) -> str:
    return f"{LOG_SOURCES}/{source_id}"


def one_source(spec: Spec) -> Callable[[], None]:
    """LogSource `main` of `spec["type"]`, with `spec["credentials"]` and `spec["sources"]`."""

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        source = LogSource(
            "main",
            type=spec["type"],
            name=spec.get("name", "main-source"),
            credentials=spec["credentials"],
            sources=spec["sources"],
        )
        pulumi.export("main_id", source.id)
        pulumi.export("credentials", source.credentials)

    return program


def leader_and_follower(spec: Spec) -> Callable[[], None]:
    """`leader` of `spec["type"]`, and `follower` (datadog) named after leader's id."""

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        kind = spec["type"]
        leader = LogSource(
            "leader", type=kind, credentials=CREDENTIALS[kind], sources=SOURCES[kind]
        )
        follower = LogSource(
            "follower",
            type="datadog",
            name=leader.id.apply(lambda id_: f"follows-{id_}"),
            credentials=DATADOG,
            sources=SOURCES["datadog"],
        )
        pulumi.export("leader_id", leader.id)
        pulumi.export("follower_id", follower.id)

    return program


@pytest.fixture
def proxy(emulator: Any) -> Iterator[RecordingProxy]:
    with RecordingProxy(emulator.url) as recording:
        yield recording


@pytest.mark.parametrize("kind", TYPES)
def test_every_type_changes_sources_and_rotates_credentials_with_one_put_each(
    kind: str,
    make_stack: Callable[..., Any],
    emulator: Any,
    api: httpx.Client,
    proxy: RecordingProxy,
    pulumi_env: PulumiEnvironment,
) -> None:
    spec: Spec = {"type": kind, "credentials": CREDENTIALS[kind], "sources": SOURCES[kind]}
    stack = make_stack(one_source(spec), config={"sigsentry:apiUrl": proxy.url})
    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": 2}
    main_id = up.outputs["main_id"].value
    assert up.outputs["credentials"].secret is True
    (post,) = recorded_writes(proxy)  # a new source: no PUT confirming its id
    assert (post.method, post.body["type"], post.body["credentials"]) == (
        "POST",
        kind,
        CREDENTIALS[kind],
    )
    seen = {"create": up.stdout + up.stderr}

    for key, change in (
        ("sources", {"sources": [*SOURCES[kind], "extra-source"]}),
        ("credentials", {"credentials": ROTATED[kind]}),
    ):
        spec.update(change)
        mark, proxied = len(emulator.requests()), len(proxy.recorded())
        result = stack.up(show_secrets=False)
        assert changes(result) == {"update": 1, "same": 1}, key
        if key == "sources":
            # (The CLI names no changed property for a change of secret credentials.)
            assert "[diff: ~sources]" in result.stdout
        assert writes(emulator, mark) == [("PUT", source_path(main_id))], key
        assert [r.body for r in recorded_writes(proxy, proxied)] == [change], key
        seen[key] = result.stdout + result.stderr

    (source,) = list_sources(api)
    assert (source["id"], source["type"], source["sources"]) == (
        main_id,
        kind,
        [*SOURCES[kind], "extra-source"],
    )
    # The API tests what the provider stored: the rotated credentials work.
    tested = api.post(f"{source_path(main_id)}/test").json()["data"]
    assert tested["ok"] is True

    mark = len(emulator.requests())
    stack.preview(expect_no_changes=True)
    assert writes(emulator, mark) == []
    assert_no_plaintext(
        {**seen, **backend_files(pulumi_env)}, emulator.api_key, *sorted(SECRET_VALUES)
    )


def test_a_dependent_follows_its_replaced_source_and_destroy_deletes_it_first(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client
) -> None:
    spec: Spec = {"type": "cloudwatch"}
    stack = make_stack(leader_and_follower(spec))
    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": 3}
    old_leader, follower = up.outputs["leader_id"].value, up.outputs["follower_id"].value

    spec["type"] = "splunk"
    mark = len(emulator.requests())
    events = EventLog()
    replaced = stack.up(show_secrets=False, on_event=events)
    assert changes(replaced) == {"replace": 1, "update": 1, "same": 1}
    new_leader = replaced.outputs["leader_id"].value
    assert new_leader != old_leader
    assert replaced.outputs["follower_id"].value == follower  # updated in place, same id
    # The new leader first, then the follower renamed after it, the old leader deleted last.
    assert writes(emulator, mark) == [
        ("POST", LOG_SOURCES),
        ("PUT", source_path(follower)),
        ("DELETE", source_path(old_leader)),
    ]
    names = {s["id"]: (s["type"], s["name"]) for s in list_sources(api)}
    assert names == {
        new_leader: ("splunk", "leader"),
        follower: ("datadog", f"follows-{new_leader}"),
    }

    mark = len(emulator.requests())
    destroyed = stack.destroy(show_secrets=False)
    assert changes(destroyed) == {"delete": 3}
    assert writes(emulator, mark) == [
        ("DELETE", source_path(follower)),
        ("DELETE", source_path(new_leader)),
    ]
    assert list_sources(api) == []


def test_a_source_dropped_from_the_program_is_deleted_by_the_next_up(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    keep = {"second": True}

    def program() -> None:
        from sigsentry_pulumi import LogSource

        LogSource("first", type="datadog", credentials=DATADOG, sources=["service:a"])
        if keep["second"]:
            LogSource("second", type="datadog", credentials=DATADOG, sources=["service:b"])

    stack = make_stack(program)
    assert changes(stack.up(show_secrets=False)) == {"create": 3}
    ids = {s["name"]: s["id"] for s in list_sources(api)}

    keep["second"] = False
    mark = len(emulator.requests())
    events = EventLog()
    preview = stack.preview(on_event=events)
    assert op_counts(preview.change_summary) == {"delete": 1, "same": 2}
    assert [(s.urn.rsplit("::", 1)[1], op_name(s)) for s in events.planned()] == [
        ("first", "same"),
        ("second", "delete"),
    ]
    assert writes(emulator, mark) == []  # a preview deletes nothing

    result = stack.up(show_secrets=False)
    assert changes(result) == {"delete": 1, "same": 2}
    assert writes(emulator, mark) == [("DELETE", source_path(ids["second"]))]
    assert [s["id"] for s in list_sources(api)] == [ids["first"]]
    assert [r["id"] for r in exported_log_sources(pulumi_env, stack)] == [ids["first"]]


def test_an_update_of_a_source_deleted_outside_pulumi_says_to_refresh_and_refresh_fixes_it(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    spec: Spec = {"type": "datadog", "credentials": CREDENTIALS["datadog"], "sources": ["svc:a"]}
    stack = make_stack(one_source(spec))
    main_id = stack.up(show_secrets=False).outputs["main_id"].value
    api.delete(source_path(main_id)).raise_for_status()

    spec["name"] = "renamed"
    mark = len(emulator.requests())
    with pytest.raises(auto.CommandError) as failed:
        stack.up(show_secrets=False)
    message = str(failed.value)
    assert f"Log source {main_id} was deleted outside Pulumi" in message
    assert "pulumi refresh" in message
    assert writes(emulator, mark) == [("PUT", source_path(main_id))]  # the one that found it gone
    assert list_sources(api) == []

    # What the message says to do: refresh drops it from the state, the next up creates it.
    refresh = stack.refresh(show_secrets=False)
    assert changes(refresh) == {"delete": 1, "same": 1}
    assert exported_log_sources(pulumi_env, stack) == []
    recreated = stack.up(show_secrets=False)
    assert changes(recreated) == {"create": 1, "same": 1}
    (source,) = list_sources(api)
    assert (source["id"], source["name"]) == (recreated.outputs["main_id"].value, "renamed")
    assert source["id"] != main_id
    assert_no_plaintext({"error": message}, emulator.api_key, *sorted(SECRET_VALUES))


def test_get_of_an_id_that_does_not_exist_fails_naming_it(
    make_stack: Callable[..., Any], emulator: Any
) -> None:
    from pulumi import automation as auto

    def program() -> None:
        from sigsentry_pulumi import LogSource

        LogSource.get("ghost", "ls_doesnotexist")

    stack = make_stack(program)
    with pytest.raises(auto.CommandError) as failed:
        stack.up(show_secrets=False)
    message = str(failed.value)
    assert "Log source ls_doesnotexist does not exist in the API key's project" in message
    assert "LogSource.get reads an existing source" in message
    assert writes(emulator, 0) == []
    assert "ghost" not in json.dumps(stack.export_stack().deployment)


def test_a_read_the_program_no_longer_makes_is_forgotten_and_never_deleted(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    response = api.post(
        LOG_SOURCES,
        json={
            "type": "splunk",
            "name": "made-outside",
            "credentials": CREDENTIALS["splunk"],
            "sources": SOURCES["splunk"],
        },
    )
    response.raise_for_status()
    existing = response.json()["data"]["id"]
    lookup = {"enabled": True}

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        if lookup["enabled"]:
            pulumi.export("name", LogSource.get("found", existing).name)

    stack = make_stack(program)
    mark = len(emulator.requests())
    assert stack.up(show_secrets=False).outputs["name"].value == "made-outside"
    (read,) = exported_log_sources(pulumi_env, stack)
    assert read["external"] is True

    lookup["enabled"] = False
    result = stack.up(show_secrets=False)
    assert changes(result).get("delete") is None
    assert exported_log_sources(pulumi_env, stack) == []
    assert writes(emulator, mark) == []
    assert [s["id"] for s in list_sources(api)] == [existing]


def test_a_replacement_whose_create_fails_leaves_the_old_source_in_place(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    spec: Spec = {"type": "datadog", "credentials": CREDENTIALS["datadog"], "sources": ["svc:a"]}
    stack = make_stack(one_source(spec))
    old_id = stack.up(show_secrets=False).outputs["main_id"].value
    emulator.set_quota(1)  # the replacement is made before the old one goes: over the quota

    spec.update(type="loki", credentials=CREDENTIALS["loki"], sources=SOURCES["loki"])
    mark = len(emulator.requests())
    with pytest.raises(auto.CommandError) as failed:
        stack.up(show_secrets=False)
    assert "quota" in str(failed.value)
    assert writes(emulator, mark) == [("POST", LOG_SOURCES)]  # refused; no DELETE followed
    assert [(s["id"], s["type"]) for s in list_sources(api)] == [(old_id, "datadog")]
    (kept,) = exported_log_sources(pulumi_env, stack)
    assert (kept["id"], kept["outputs"]["type"]) == (old_id, "datadog")

    # Back to the program as it was: nothing to do, and the old source is not deleted.
    spec.update(type="datadog", credentials=CREDENTIALS["datadog"], sources=["svc:a"])
    mark = len(emulator.requests())
    again = stack.up(show_secrets=False)
    assert changes(again) == {"same": 2}
    assert writes(emulator, mark) == []
    assert [s["id"] for s in list_sources(api)] == [old_id]


def test_a_replacement_whose_delete_fails_deletes_the_old_source_on_the_next_up(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    spec: Spec = {"type": "datadog", "credentials": CREDENTIALS["datadog"], "sources": ["svc:a"]}
    # No retries: the one DELETE the fault refuses fails the update at once.
    stack = make_stack(one_source(spec), config={"sigsentry:maxRetries": "0"})
    old_id = stack.up(show_secrets=False).outputs["main_id"].value

    spec.update(type="elastic", credentials=CREDENTIALS["elastic"], sources=SOURCES["elastic"])
    emulator.set_faults({"rules": [{"method": "DELETE", "fault": "500"}]})
    mark = len(emulator.requests())
    with pytest.raises(auto.CommandError) as failed:
        stack.up(show_secrets=False)
    assert "500" in str(failed.value) or "INTERNAL_ERROR" in str(failed.value)
    by_type = {s["type"]: s["id"] for s in list_sources(api)}
    assert writes(emulator, mark) == [
        ("POST", LOG_SOURCES),
        ("DELETE", source_path(old_id)),
    ]
    assert set(by_type) == {"datadog", "elastic"}  # both exist for now
    # The state holds the new source and the old one, marked for deletion.
    recorded = {r["id"]: r.get("delete", False) for r in exported_log_sources(pulumi_env, stack)}
    assert recorded == {by_type["elastic"]: False, old_id: True}

    emulator.clear_faults()
    mark = len(emulator.requests())
    retried = stack.up(show_secrets=False)
    assert writes(emulator, mark) == [("DELETE", source_path(old_id))]
    # The CLI shows the leftover deletion; its summary counts the source as unchanged.
    assert "main deleted original" in retried.stdout
    assert changes(retried) == {"same": 2}
    assert [s["id"] for s in list_sources(api)] == [by_type["elastic"]]
    assert [r["id"] for r in exported_log_sources(pulumi_env, stack)] == [by_type["elastic"]]
    assert not exported_deployment(pulumi_env, stack).get("pending_operations")


def test_a_missing_credential_key_fails_the_preview_naming_resource_and_key(
    make_stack: Callable[..., Any], emulator: Any
) -> None:
    from pulumi import automation as auto

    def program() -> None:
        from sigsentry_pulumi import LogSource

        LogSource(  # type: ignore[call-overload]  # the typed API refuses it too
            "half-configured",
            type="cloudwatch",
            credentials={"accessKeyId": CREDENTIALS["cloudwatch"]["accessKeyId"]},
            sources=SOURCES["cloudwatch"],
        )

    stack = make_stack(program)
    with pytest.raises(auto.CommandError) as failed:
        stack.preview()
    message = str(failed.value)
    assert "half-configured" in message and "secretAccessKey" in message
    assert CREDENTIALS["cloudwatch"]["accessKeyId"] not in message
    assert emulator.requests() == []


def test_a_failed_up_keeps_the_sources_it_created_and_the_next_up_adds_only_the_rest(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    stack = make_stack(leader_and_follower({"type": "cloudwatch"}))
    emulator.set_quota(1)  # the leader fits, the follower (made after it) does not
    with pytest.raises(auto.CommandError) as failed:
        stack.up(show_secrets=False)
    assert "quota" in str(failed.value)
    (leader,) = list_sources(api)
    # Recorded in the state, so neither leaked outside the stack nor made twice.
    assert [r["id"] for r in exported_log_sources(pulumi_env, stack)] == [leader["id"]]

    emulator.set_quota(10)
    mark = len(emulator.requests())
    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": 1, "same": 2}  # the follower; the leader and the stack
    assert up.outputs["leader_id"].value == leader["id"]
    assert writes(emulator, mark) == [("POST", LOG_SOURCES)]
    names = {s["id"]: s["name"] for s in list_sources(api)}
    assert names == {
        leader["id"]: "leader",
        up.outputs["follower_id"].value: f"follows-{leader['id']}",
    }
    assert_no_plaintext(
        {"error": str(failed.value), **backend_files(pulumi_env)},
        emulator.api_key,
        *sorted(SECRET_VALUES),
    )


def test_a_failed_update_and_a_failed_destroy_keep_the_state_and_no_secret(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    spec: Spec = {"type": "splunk", "credentials": CREDENTIALS["splunk"], "sources": ["main"]}
    stack = make_stack(one_source(spec), config={"sigsentry:maxRetries": "0"})
    main_id = stack.up(show_secrets=False).outputs["main_id"].value
    texts: dict[str, str] = {}

    # A rotation the API refuses: the state keeps the old credentials, so the next up sends
    # the new ones again.
    spec["credentials"] = ROTATED["splunk"]
    emulator.set_faults({"rules": [{"method": "PUT", "fault": "500"}]})
    with pytest.raises(auto.CommandError) as failed_update:
        stack.up(show_secrets=False)
    texts["update error"] = str(failed_update.value)
    emulator.clear_faults()
    mark = len(emulator.requests())
    retried = stack.up(show_secrets=False)
    assert changes(retried) == {"update": 1, "same": 1}
    assert writes(emulator, mark) == [("PUT", source_path(main_id))]

    # A destroy the API refuses: the source stays in the stack, and a second destroy ends it.
    emulator.set_faults({"rules": [{"method": "DELETE", "fault": "500"}]})
    with pytest.raises(auto.CommandError) as failed_destroy:
        stack.destroy(show_secrets=False)
    texts["destroy error"] = str(failed_destroy.value)
    assert [r["id"] for r in exported_log_sources(pulumi_env, stack)] == [main_id]
    assert [s["id"] for s in list_sources(api)] == [main_id]
    assert_no_plaintext(
        {**texts, **backend_files(pulumi_env)}, emulator.api_key, *sorted(SECRET_VALUES)
    )
    emulator.clear_faults()
    assert changes(stack.destroy(show_secrets=False)) == {"delete": 2}
    assert list_sources(api) == []
    assert_no_plaintext(backend_files(pulumi_env), emulator.api_key, *sorted(SECRET_VALUES))


def test_the_import_option_on_a_log_source_fails_before_any_request(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    """docs/provider.md: the SDK's plugin fails on `import_` before the provider runs, so a
    source is taken over with `adopt_id` instead."""
    from pulumi import automation as auto

    response = api.post(
        LOG_SOURCES,
        json={
            "type": "datadog",
            "name": "made-outside",
            "credentials": CREDENTIALS["datadog"],
            "sources": ["service:a"],
        },
    )
    response.raise_for_status()
    existing = response.json()["data"]["id"]

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        LogSource(
            "imported",
            type="datadog",
            name="made-outside",
            credentials=DATADOG,
            sources=["service:a"],
            opts=pulumi.ResourceOptions(import_=existing),
        )

    stack = make_stack(program)
    mark = len(emulator.requests())
    with pytest.raises(auto.CommandError) as failed:
        stack.up(show_secrets=False)
    assert "KeyError: '__provider'" in str(failed.value)
    assert emulator.requests()[mark:] == []
    assert exported_log_sources(pulumi_env, stack) == []
    assert [s["id"] for s in list_sources(api)] == [existing]
