"""The lifecycle scenarios through the real Pulumi CLI (Automation API) against the emulator.

Each test drives one stack through the real engine and the real `python -m pulumi.dynamic`
plugin, and checks what a user would see (the result summary, the CLI's output, the error) and
what the API received: the emulator's request log for methods and paths, and a recording proxy
on loopback (`lifecycle_support.RecordingProxy`) for the bodies, which the log never holds.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cli.lifecycle_support import (
    SOURCES,
    UNKNOWN,
    EventLog,
    RecordingProxy,
    changed_keys,
    exported_deployment,
    exported_log_sources,
    log_source_program,
    op_name,
    recorded_writes,
)
from cli.stacks import (
    CREDENTIAL_A,
    CREDENTIAL_B,
    PROJECT,
    WRITE_METHODS,
    assert_no_plaintext,
    backend_files,
    changes,
    op_counts,
    writes,
)
from raw_api import LOG_SOURCES, connect, list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

CREDENTIAL_C = "cli-test-credential-" + secrets.token_hex(8)


def set_config(stack: Any, key: str, value: str, *, secret: bool = False) -> None:
    from pulumi import automation as auto

    stack.set_config(f"{PROJECT}:{key}", auto.ConfigValue(value, secret=secret))


def source_path(source_id: str) -> str:
    return f"{LOG_SOURCES}/{source_id}"


def assert_no_secret_leaked(
    emulator: Any, pulumi_env: PulumiEnvironment, *extra: str, **texts: str
) -> None:
    assert_no_plaintext(
        {**texts, **backend_files(pulumi_env)},
        emulator.api_key,
        CREDENTIAL_A,
        CREDENTIAL_B,
        *extra,
    )


@pytest.fixture
def proxy(emulator: Any) -> Iterator[RecordingProxy]:
    with RecordingProxy(emulator.url) as recording:
        yield recording


@pytest.fixture
def stack(make_stack: Callable[..., Any], proxy: RecordingProxy) -> Any:
    return make_stack(log_source_program(), config={"sigsentry:apiUrl": proxy.url})


@pytest.fixture
def deployed(stack: Any, emulator: Any) -> Any:
    result = stack.up(show_secrets=False)
    assert changes(result) == {"create": 2}  # the stack resource and the log source
    assert [m for m, _ in writes(emulator, 0)] == ["POST"]  # a new source: nothing to confirm
    return stack


def test_preview_sends_no_request_up_creates_once_and_a_rerun_changes_nothing(
    stack: Any, emulator: Any, api: httpx.Client, proxy: RecordingProxy, pulumi_env: Any
) -> None:
    preview = stack.preview()
    assert op_counts(preview.change_summary) == {"create": 2}
    assert emulator.requests() == []  # check and diff run offline: not even a list

    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": 2}
    (post,) = recorded_writes(proxy)
    assert set(post.body) == {"type", "name", "credentials", "sources"}
    (source,) = list_sources(api)
    assert writes(emulator, 0) == [("POST", LOG_SOURCES)]
    assert up.outputs["log_source_id"].value == source["id"]
    assert (source["name"], source["type"], source["sources"]) == (
        "cli-source",
        "cloudwatch",
        SOURCES,
    )
    assert source["isActive"] is True
    assert up.outputs["credentials"].secret is True

    mark = len(emulator.requests())
    again = stack.preview(expect_no_changes=True)
    assert op_counts(again.change_summary) == {"same": 2}
    rerun = stack.up(expect_no_changes=True, show_secrets=False)
    assert changes(rerun) == {"same": 2}
    assert emulator.requests()[mark:] == []  # no write, and no read either
    assert_no_secret_leaked(
        emulator,
        pulumi_env,
        preview=preview.stdout + preview.stderr,
        up=up.stdout + up.stderr,
        rerun=again.stdout + rerun.stdout,
    )


def test_in_place_changes_send_one_put_with_only_the_changed_field(
    deployed: Any, emulator: Any, api: httpx.Client, proxy: RecordingProxy, pulumi_env: Any
) -> None:
    (created,) = list_sources(api)
    path = source_path(created["id"])

    set_config(deployed, "displayName", "renamed-by-pulumi")
    mark, proxied = len(emulator.requests()), len(proxy.recorded())
    renamed = deployed.up(show_secrets=False)
    assert changes(renamed) == {"update": 1, "same": 1}
    assert writes(emulator, mark) == [("PUT", path)]
    assert [r.body for r in recorded_writes(proxy, proxied)] == [{"name": "renamed-by-pulumi"}]
    (source,) = list_sources(api)
    assert (source["id"], source["name"]) == (created["id"], "renamed-by-pulumi")

    set_config(deployed, "secretA", CREDENTIAL_C, secret=True)
    mark, proxied = len(emulator.requests()), len(proxy.recorded())
    rotated = deployed.up(show_secrets=False)
    assert changes(rotated) == {"update": 1, "same": 1}
    assert writes(emulator, mark) == [("PUT", path)]
    rotation = {"credentials": {"accessKeyId": CREDENTIAL_C, "secretAccessKey": CREDENTIAL_B}}
    assert [r.body for r in recorded_writes(proxy, proxied)] == [rotation]
    assert rotated.outputs["credentials"].secret is True

    set_config(deployed, "active", "false")
    mark, proxied = len(emulator.requests()), len(proxy.recorded())
    paused = deployed.up(show_secrets=False)
    assert changes(paused) == {"update": 1, "same": 1}
    assert writes(emulator, mark) == [("PUT", path)]
    assert [r.body for r in recorded_writes(proxy, proxied)] == [{"isActive": False}]
    (source,) = list_sources(api)
    assert (source["id"], source["isActive"]) == (created["id"], False)

    assert_no_secret_leaked(
        emulator,
        pulumi_env,
        CREDENTIAL_C,
        renamed=renamed.stdout + renamed.stderr,
        rotated=rotated.stdout + rotated.stderr,
        paused=paused.stdout + paused.stderr,
    )


def test_type_change_creates_the_new_source_before_deleting_the_old_one(
    deployed: Any, emulator: Any, api: httpx.Client, pulumi_env: Any
) -> None:
    (before,) = list_sources(api)
    set_config(deployed, "kind", "datadog")
    mark = len(emulator.requests())
    result = deployed.up(show_secrets=False)
    assert changes(result) == {"replace": 1, "same": 1}
    (after,) = list_sources(api)
    assert after["type"] == "datadog" and after["id"] != before["id"]
    assert writes(emulator, mark) == [
        ("POST", LOG_SOURCES),
        ("DELETE", source_path(before["id"])),
    ]
    assert result.outputs["log_source_id"].value == after["id"]
    (recorded,) = exported_log_sources(pulumi_env, deployed)
    assert (recorded["id"], recorded["outputs"]["type"]) == (after["id"], "datadog")


@pytest.fixture
def tenant_key(emulator: Any) -> Iterator[tuple[Any, httpx.Client]]:
    """A tenant-scoped key (it may act on any project of the tenant) and a client using it."""
    key = emulator.create_key(project_id=None)
    with connect(emulator.url, key.api_key) as client:
        yield key, client


def test_project_change_replaces_the_source_into_the_other_project(
    make_stack: Callable[..., Any],
    emulator: Any,
    proxy: RecordingProxy,
    pulumi_env: PulumiEnvironment,
    tenant_key: tuple[Any, httpx.Client],
) -> None:
    key, tenant_api = tenant_key
    first, second = emulator.project_id, emulator.create_project()
    stack = make_stack(
        log_source_program(),
        config={
            "sigsentry:apiUrl": proxy.url,
            "sigsentry:projectId": first,  # the provider's project
            "projectId": first,  # the program's project_id
        },
        secrets={"sigsentry:apiKey": key.api_key},
    )

    def sources_in(project: str) -> list[dict[str, Any]]:
        response = tenant_api.get(LOG_SOURCES, headers={"X-Project-Id": project})
        response.raise_for_status()
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    assert changes(stack.up(show_secrets=False)) == {"create": 2}
    (before,) = sources_in(first)

    set_config(stack, "projectId", second)
    mark, proxied = len(emulator.requests()), len(proxy.recorded())
    result = stack.up(show_secrets=False)
    assert changes(result) == {"replace": 1, "same": 1}
    assert sources_in(first) == []
    (after,) = sources_in(second)
    assert writes(emulator, mark) == [
        ("POST", LOG_SOURCES),
        ("DELETE", source_path(before["id"])),
    ]
    assert [(r.method, r.project) for r in recorded_writes(proxy, proxied)] == [
        ("POST", second),
        ("DELETE", first),
    ]
    (recorded,) = exported_log_sources(pulumi_env, stack)
    assert (recorded["id"], recorded["outputs"]["projectId"]) == (after["id"], second)

    # a project other than the provider's is the program's own input: a refresh keeps it, and
    # a rename made outside is the only drift it shows
    renamed = tenant_api.put(
        source_path(after["id"]), json={"name": "renamed-outside"}, headers={"X-Project-Id": second}
    )
    renamed.raise_for_status()
    events = EventLog()
    refresh = stack.refresh(on_event=events, show_secrets=False)
    assert changes(refresh) == {"update": 1, "same": 1}
    (step,) = events.outputs()
    assert changed_keys(step) == {"name"}
    (recorded,) = exported_log_sources(pulumi_env, stack)
    assert (recorded["inputs"]["projectId"], recorded["inputs"]["name"]) == (
        second,
        "renamed-outside",
    )
    assert_no_plaintext(
        {
            "up": result.stdout + result.stderr,
            "refresh": refresh.stdout,
            **backend_files(pulumi_env),
        },
        key.api_key,
    )


@pytest.mark.parametrize(
    ("kind", "bad", "good", "problem"),
    [
        (
            "cloudwatch",
            "invalid",
            CREDENTIAL_A,
            "Amazon CloudWatch Logs rejected the credentials: authentication failed "
            "(credentials.accessKeyId is not valid)",
        ),
        (
            "loki",
            "https://logs.example.invalid",
            "https://logs.example.com",
            "could not connect to Grafana Loki: credentials.host does not resolve",
        ),
    ],
    ids=["rejected-credential", "unresolvable-host"],
)
def test_failed_verification_leaves_nothing_behind_and_a_fixed_up_succeeds(
    make_stack: Callable[..., Any],
    emulator: Any,
    api: httpx.Client,
    pulumi_env: PulumiEnvironment,
    kind: str,
    bad: str,
    good: str,
    problem: str,
) -> None:
    from pulumi import automation as auto

    stack = make_stack(
        log_source_program(), config={"kind": kind, "verify": "true"}, secrets={"secretA": bad}
    )
    with pytest.raises(auto.errors.CommandError) as failed:
        stack.up(show_secrets=False)
    message = str(failed.value)
    assert problem in message  # what went wrong
    assert "Fix the credentials or sources, or set verify=False" in message  # what to do
    (post, test, delete) = writes(emulator, 0)
    assert post == ("POST", LOG_SOURCES)
    source_id = test[1].removeprefix(f"{LOG_SOURCES}/").removesuffix("/test")
    assert test == ("POST", f"{source_path(source_id)}/test")
    assert delete == ("DELETE", source_path(source_id))
    assert f"could not verify log source {source_id}" in message
    assert list_sources(api) == []
    deployment = exported_deployment(pulumi_env, stack)
    assert not deployment.get("pending_operations")  # nothing for the next run to clean up
    assert exported_log_sources(pulumi_env, stack) == []

    set_config(stack, "secretA", good, secret=True)
    mark = len(emulator.requests())
    fixed = stack.up(show_secrets=False)
    assert op_counts(fixed.summary.resource_changes).get("create") == 1
    (source,) = list_sources(api)
    assert writes(emulator, mark) == [
        ("POST", LOG_SOURCES),
        ("POST", f"{source_path(source['id'])}/test"),
    ]
    (recorded,) = exported_log_sources(pulumi_env, stack)
    assert recorded["id"] == source["id"]
    assert_no_secret_leaked(emulator, pulumi_env, error=message, fixed=fixed.stdout + fixed.stderr)


def _drift_outside(api: httpx.Client, source_id: str, drift: str) -> None:
    path = source_path(source_id)
    if drift == "rename":
        api.put(path, json={"name": "renamed-outside"}).raise_for_status()
    elif drift == "deactivate":
        api.put(path, json={"isActive": False}).raise_for_status()
    else:
        api.delete(path).raise_for_status()


@pytest.mark.parametrize(
    ("drift", "changed", "restore"),
    [
        ("rename", "name", {"name": "cli-source"}),
        ("deactivate", "isActive", {"isActive": True}),
        ("delete", None, None),
    ],
)
def test_refresh_shows_drift_made_outside_and_up_restores_it(
    deployed: Any,
    emulator: Any,
    api: httpx.Client,
    proxy: RecordingProxy,
    pulumi_env: PulumiEnvironment,
    drift: str,
    changed: str | None,
    restore: dict[str, Any] | None,
) -> None:
    (source,) = list_sources(api)
    _drift_outside(api, source["id"], drift)

    mark = len(emulator.requests())
    events = EventLog()
    refresh = deployed.refresh(on_event=events, show_secrets=False)
    assert writes(emulator, mark) == []  # a refresh only reads
    if changed is None:
        assert changes(refresh) == {"delete": 1, "same": 1}
        assert [op_name(step) for step in events.outputs()] == ["delete"]
        assert exported_log_sources(pulumi_env, deployed) == []
    else:
        assert changes(refresh) == {"update": 1, "same": 1}
        (step,) = events.outputs()
        assert changed_keys(step) == {changed}  # projectId, which the program never set, too
        assert f"[diff: ~{changed}]" in refresh.stdout
        (recorded,) = exported_log_sources(pulumi_env, deployed)
        assert recorded["id"] == source["id"]
        assert {k: recorded["outputs"][k] for k in ("name", "isActive")} == {
            "name": "renamed-outside" if drift == "rename" else "cli-source",
            "isActive": drift != "deactivate",
        }

    mark, proxied = len(emulator.requests()), len(proxy.recorded())
    events = EventLog()
    result = deployed.up(on_event=events, show_secrets=False)
    (restored,) = list_sources(api)
    if restore is None:
        assert changes(result) == {"create": 1, "same": 1}
        assert [op_name(step) for step in events.planned()] == ["create"]
        # Within the idempotency window the create's derived key first replays the original
        # POST; the provider's empty PUT finds that source gone (404, asked twice) and it
        # creates afresh under the next key: a new source, which needs no PUT.
        posts = [r for r in emulator.requests()[mark:] if r["method"] in WRITE_METHODS]
        gone = source_path(source["id"])
        assert [(r["method"], r["path"], r["status"], r["replayed"]) for r in posts] == [
            ("POST", LOG_SOURCES, 201, True),
            ("PUT", gone, 404, False),
            ("PUT", gone, 404, False),
            ("POST", LOG_SOURCES, 201, False),
        ]
        assert restored["id"] != source["id"]
    else:
        assert changes(result) == {"update": 1, "same": 1}
        (step,) = events.planned()
        assert changed_keys(step) == {changed}
        assert writes(emulator, mark) == [("PUT", source_path(source["id"]))]
        assert [r.body for r in recorded_writes(proxy, proxied)] == [restore]
        assert restored["id"] == source["id"]
    assert (restored["name"], restored["isActive"]) == ("cli-source", True)

    mark = len(emulator.requests())
    deployed.preview(expect_no_changes=True)
    assert writes(emulator, mark) == []
    assert_no_secret_leaked(emulator, pulumi_env, refresh=refresh.stdout, up=result.stdout)


def two_linked_sources() -> None:
    """Source `follower` is named after source `leader`'s id, known only once leader exists."""
    import pulumi

    from sigsentry_pulumi import CloudWatchCredentials, LogSource

    config = pulumi.Config()
    credentials: CloudWatchCredentials = {
        "accessKeyId": config.require_secret("secretA"),
        "secretAccessKey": config.require_secret("secretB"),
    }
    leader = LogSource("leader", type="cloudwatch", credentials=credentials, sources=SOURCES)
    follower = LogSource(
        "follower",
        type="cloudwatch",
        name=leader.id.apply(lambda id_: f"follows-{id_}"),
        credentials=credentials,
        sources=SOURCES,
    )
    pulumi.export("leader_id", leader.id)
    pulumi.export("follower_name", follower.name)


def test_an_input_from_another_sources_output_is_unknown_in_preview_and_right_after_up(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client
) -> None:
    stack = make_stack(two_linked_sources)
    events = EventLog()
    preview = stack.preview(on_event=events)
    assert op_counts(preview.change_summary) == {"create": 3}
    planned = {step.urn.rsplit("::", 1)[1]: step for step in events.planned()}
    assert {name: op_name(step) for name, step in planned.items()} == {
        "leader": "create",
        "follower": "create",
    }
    assert planned["follower"].new.inputs["name"] == UNKNOWN
    assert planned["leader"].new.inputs["name"] == "leader"
    assert "follower_name: [unknown]" in preview.stdout
    assert emulator.requests() == []

    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": 3}
    leader_id = up.outputs["leader_id"].value
    assert up.outputs["follower_name"].value == f"follows-{leader_id}"
    names = {source["id"]: source["name"] for source in list_sources(api)}
    assert names.pop(leader_id) == "leader"
    assert list(names.values()) == [f"follows-{leader_id}"]
    assert [m for m, _ in writes(emulator, 0)] == ["POST", "POST"]


def test_get_reads_a_source_made_outside_without_managing_it(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: Any
) -> None:
    response = api.post(
        LOG_SOURCES,
        json={
            "type": "datadog",
            "name": "made-outside",
            "credentials": {"apiKey": CREDENTIAL_A, "appKey": CREDENTIAL_B},
            "sources": ["service:checkout"],
        },
    )
    response.raise_for_status()
    record = response.json()["data"]

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        existing = LogSource.get("existing", record["id"])
        pulumi.export("id", existing.id)
        for name in ("type", "name", "sources", "is_active", "project_id", "tenant_id"):
            pulumi.export(name, getattr(existing, name))
        pulumi.export("created_at", existing.created_at)

    stack = make_stack(program)
    mark = len(emulator.requests())
    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": 1}  # the stack resource; a read is not a change
    outputs = {name: output.value for name, output in up.outputs.items()}
    assert outputs == {
        "id": record["id"],
        "type": "datadog",
        "name": "made-outside",
        "sources": ["service:checkout"],
        "is_active": True,
        "project_id": record["projectId"],
        "tenant_id": record["tenantId"],
        "created_at": record["createdAt"],
    }
    assert writes(emulator, mark) == []
    (read,) = exported_log_sources(pulumi_env, stack)
    assert read["external"] is True and read["id"] == record["id"]

    mark = len(emulator.requests())
    destroyed = stack.destroy(show_secrets=False)
    assert op_counts(destroyed.summary.resource_changes).get("discard") == 1
    assert writes(emulator, mark) == []
    assert [s["id"] for s in list_sources(api)] == [record["id"]]
    assert exported_log_sources(pulumi_env, stack) == []
    assert_no_secret_leaked(emulator, pulumi_env, up=up.stdout, destroy=destroyed.stdout)


def test_destroy_deletes_the_source_once_and_empties_the_stack(
    deployed: Any, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    (source,) = list_sources(api)
    mark = len(emulator.requests())
    result = deployed.destroy(show_secrets=False)
    assert changes(result) == {"delete": 2}
    assert writes(emulator, mark) == [("DELETE", source_path(source["id"]))]
    assert list_sources(api) == []
    assert exported_log_sources(pulumi_env, deployed) == []
