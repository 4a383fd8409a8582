"""The whole life of a log source of each type, through the engine stand-in, against the emulator.

Program → SDK registration → pickled provider → the real ``python -m pulumi.dynamic`` plugin →
HTTP → the emulator, and back, for preview / up / refresh / destroy, with the API writes each
step makes counted from the emulator's request log.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pulumi
import pytest
from samples import CREDENTIALS, ROTATED, SECRET_VALUES, SOURCES, TYPES

from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import CloudWatchCredentials, LogSource
from sigsentry_pulumi.testing import EngineError, OperationResult, Secret, Stack

WRITES = ("POST", "PUT", "DELETE")


def secret_values(api_key: str) -> set[str]:
    return {*SECRET_VALUES, api_key}


def suite_stack(program: Callable[[], None], emulator: EmulatorProcess, state_file: Path) -> Stack:
    """A stack of `program` whose provider talks to `emulator`, in its seeded project."""
    return Stack(
        program,
        state_file=state_file,
        project="engine-suite",
        config={
            "sigsentry:apiUrl": emulator.url,
            "sigsentry:apiKey": Secret(emulator.api_key),
            "sigsentry:projectId": emulator.project_id,
        },
        passphrase="engine-suite-passphrase",
    )


def cloudwatch_credentials(**changes: str) -> CloudWatchCredentials:
    """The sample CloudWatch credentials (`CREDENTIALS["cloudwatch"]`), typed, with `changes`."""
    sample = {**CREDENTIALS["cloudwatch"], **changes}
    return {"accessKeyId": sample["accessKeyId"], "secretAccessKey": sample["secretAccessKey"]}


def log_source_program(spec: dict[str, Any]) -> Callable[[], None]:
    """`main`, of the type under test, and `follower`, whose name is made from main's id."""

    def program() -> None:
        main = LogSource(
            "main",
            type=spec["type"],
            name=spec["name"],
            credentials=spec["credentials"],
            sources=spec["sources"],
            is_active=spec["is_active"],
        )
        follower = LogSource(
            "follower",
            type="cloudwatch",
            name=main.id.apply(lambda id_: f"follows-{id_}"),
            credentials=cloudwatch_credentials(),
            sources=SOURCES["cloudwatch"],
        )
        pulumi.export("main_id", main.id)
        pulumi.export("follower_name", follower.name)
        pulumi.export("credentials", main.credentials)

    return program


class Api:
    """Raw HTTP to the emulator, as someone changing things outside Pulumi would."""

    def __init__(self, emulator: EmulatorProcess) -> None:
        self._emulator = emulator
        self._headers = {"Authorization": f"Bearer {emulator.api_key}"}

    def records(self) -> dict[str, dict[str, Any]]:
        response = httpx.get(
            f"{self._emulator.url}/v1/config/log-sources",
            headers=self._headers,
            params={"limit": 500},
        )
        response.raise_for_status()
        return {record["id"]: record for record in response.json()["data"]}

    def rename(self, id_: str, name: str) -> None:
        response = httpx.put(
            f"{self._emulator.url}/v1/config/log-sources/{id_}",
            headers=self._headers,
            json={"name": name},
        )
        response.raise_for_status()

    def delete(self, id_: str) -> None:
        response = httpx.delete(
            f"{self._emulator.url}/v1/config/log-sources/{id_}", headers=self._headers
        )
        response.raise_for_status()


def writes(emulator: EmulatorProcess) -> list[tuple[str, str]]:
    """The API writes since the last call (method, path), then forget them."""
    seen = [(r["method"], r["path"]) for r in emulator.requests() if r["method"] in WRITES]
    emulator.clear_requests()
    return seen


def ops(result: OperationResult) -> dict[str, str]:
    return {step.name: step.op for step in result.steps}


# About 22 plugin processes per type (each operation starts its own): the slow part of the suite.
@pytest.mark.slow
@pytest.mark.parametrize("type_", TYPES)
def test_log_source_lifecycle(type_: str, emulator: EmulatorProcess, tmp_path: Path) -> None:
    api = Api(emulator)
    spec: dict[str, Any] = {
        "type": type_,
        "name": f"{type_}-source",
        "credentials": CREDENTIALS[type_],
        "sources": SOURCES[type_],
        "is_active": True,
    }
    state_file = tmp_path / "state.json"
    stack = suite_stack(log_source_program(spec), emulator, state_file)
    main_path = "/v1/config/log-sources/{}"

    # A preview of a new stack writes nothing.
    planned = stack.preview()
    assert ops(planned) == {"main": "create", "follower": "create"}
    assert writes(emulator) == []

    # up creates both; the follower sees main's id.
    created = stack.up()
    assert ops(created) == {"main": "create", "follower": "create"}
    main_id = created.outputs["main_id"]
    assert created.outputs["follower_name"] == f"follows-{main_id}"
    assert created.outputs["credentials"] == Secret(CREDENTIALS[type_])
    assert [m for m, _ in writes(emulator)] == ["POST", "POST"]
    assert api.records()[main_id]["type"] == type_

    # A second up changes nothing and writes nothing: no perpetual diff.
    assert set(ops(stack.up()).values()) == {"same"}
    assert writes(emulator) == []

    # Rename: an update in place, one PUT.
    spec["name"] = f"{type_}-renamed"
    renamed = stack.up()
    assert ops(renamed) == {"main": "update", "follower": "same"}
    assert renamed.step("main").changed_keys == ("name",)
    assert writes(emulator) == [("PUT", main_path.format(main_id))]
    assert api.records()[main_id]["name"] == f"{type_}-renamed"

    # Sources change, credential rotation, pause: one PUT each.
    for change, key in (
        ({"sources": [*SOURCES[type_], "extra-source"]}, "sources"),
        ({"credentials": ROTATED[type_]}, "credentials"),
        ({"is_active": False}, "isActive"),
    ):
        spec.update(change)
        result = stack.up()
        assert ops(result) == {"main": "update", "follower": "same"}, key
        assert result.step("main").changed_keys == (key,)
        assert writes(emulator) == [("PUT", main_path.format(main_id))], key
    record = api.records()[main_id]
    assert record["sources"] == [*SOURCES[type_], "extra-source"]
    assert record["isActive"] is False

    # Type change: a replacement with a new id, the old one deleted, the follower renamed.
    new_type = TYPES[(TYPES.index(type_) + 1) % len(TYPES)]
    spec.update(
        type=new_type, credentials=CREDENTIALS[new_type], sources=SOURCES[new_type], is_active=True
    )
    replaced = stack.up()
    assert [(s.name, s.op) for s in replaced.steps] == [
        ("main", "replace"),
        ("follower", "update"),
        ("main", "delete-replaced"),  # the old one, at the end
    ]
    assert replaced.step("main").replace_keys == ("type",)
    new_id = replaced.outputs["main_id"]
    assert new_id != main_id
    assert replaced.outputs["follower_name"] == f"follows-{new_id}"
    methods = [m for m, _ in writes(emulator)]
    assert methods[0] == "POST" and methods[-1] == "DELETE"
    records = api.records()
    assert main_id not in records and records[new_id]["type"] == new_type

    # An out-of-band rename: refresh records the drift, the next up restores the name.
    api.rename(new_id, "renamed-by-hand")
    emulator.clear_requests()
    refreshed = stack.refresh()
    assert refreshed.step("main").op == "refresh" and "name" in refreshed.step("main").changed_keys
    assert refreshed.step("follower").op == "same"
    assert writes(emulator) == []
    restored = stack.up()
    assert ops(restored) == {"main": "update", "follower": "same"}
    assert writes(emulator) == [("PUT", main_path.format(new_id))]
    assert api.records()[new_id]["name"] == f"{type_}-renamed"

    # An out-of-band delete: refresh drops it, the next up creates it again.
    api.delete(new_id)
    assert stack.refresh().step("main").op == "delete"
    assert "main" not in {resource.name for resource in stack.resources()}
    recreated = stack.up()
    assert ops(recreated) == {"main": "create", "follower": "update"}
    assert recreated.outputs["main_id"] not in (main_id, new_id)

    # Never a plaintext secret in state or in what the plugin printed; credentials stay secret.
    state_text = state_file.read_text()
    plugin_output = stack.plugin_output
    for secret in secret_values(emulator.api_key):
        assert secret not in state_text
        assert secret not in plugin_output
    main_state = next(r for r in stack.resources() if r.name == "main")
    assert isinstance(main_state.outputs["credentials"], Secret)
    assert isinstance(main_state.inputs["credentials"], Secret)

    # Destroy leaves the emulator empty.
    destroyed = stack.destroy()
    assert ops(destroyed) == {"follower": "delete", "main": "delete"}
    assert api.records() == {}
    assert stack.resources() == []


def test_invalid_inputs_fail_before_any_api_call(emulator: EmulatorProcess, tmp_path: Path) -> None:
    spec: dict[str, Any] = {
        "type": "cloudwatch",
        "name": "half-configured",
        "credentials": {"accessKeyId": CREDENTIALS["cloudwatch"]["accessKeyId"]},
        "sources": SOURCES["cloudwatch"],
        "is_active": True,
    }
    stack = suite_stack(log_source_program(spec), emulator, tmp_path / "state.json")
    with pytest.raises(EngineError) as caught:
        stack.up()
    message = str(caught.value)
    assert caught.value.step == "check"
    assert "LogSource 'main'" in message and "secretAccessKey" in message
    assert "no resource was changed" in message
    assert CREDENTIALS["cloudwatch"]["accessKeyId"] not in message
    assert emulator.requests() == []
    assert stack.resources() == []


def test_get_reads_an_existing_source_and_destroy_leaves_it(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    response = httpx.post(
        f"{emulator.url}/v1/config/log-sources",
        headers={"Authorization": f"Bearer {emulator.api_key}"},
        json={
            "type": "splunk",
            "name": "made-elsewhere",
            "credentials": CREDENTIALS["splunk"],
            "sources": SOURCES["splunk"],
        },
    )
    response.raise_for_status()
    existing = response.json()["data"]["id"]

    def program() -> None:
        found = LogSource.get("found", existing)
        pulumi.export("name", found.name)
        pulumi.export("type", found.type)

    stack = suite_stack(program, emulator, tmp_path / "state.json")
    emulator.clear_requests()
    result = stack.up()
    assert [(step.op, step.id) for step in result.steps] == [("read", existing)]
    assert result.outputs == {"name": "made-elsewhere", "type": "splunk"}
    assert writes(emulator) == []
    stack.destroy()
    assert writes(emulator) == []
    assert existing in Api(emulator).records()


def test_a_create_whose_verification_fails_leaves_nothing_behind(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    credentials = cloudwatch_credentials(accessKeyId="invalid")  # SigSentry rejects it

    def program() -> None:
        LogSource(
            "verified",
            type="cloudwatch",
            credentials=credentials,
            sources=SOURCES["cloudwatch"],
            verify=True,
        )

    state_file = tmp_path / "state.json"
    stack = suite_stack(program, emulator, state_file)
    emulator.clear_requests()
    with pytest.raises(EngineError) as caught:
        stack.up()
    assert caught.value.step == "create"
    assert "authentication failed" in str(caught.value)
    # the POST, the test call, then the rollback's DELETE: no source is left in SigSentry
    assert [method for method, _ in writes(emulator)] == ["POST", "POST", "DELETE"]
    assert Api(emulator).records() == {}
    assert stack.resources() == []
    for secret in secret_values(emulator.api_key):
        assert secret not in state_file.read_text()
        assert secret not in str(caught.value)
        assert secret not in stack.plugin_output


def test_an_update_of_a_source_deleted_outside_pulumi_says_to_refresh(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    spec: dict[str, Any] = {
        "type": "datadog",
        "name": "doomed",
        "credentials": CREDENTIALS["datadog"],
        "sources": SOURCES["datadog"],
        "is_active": True,
    }
    stack = suite_stack(log_source_program(spec), emulator, tmp_path / "state.json")
    main_id = stack.up().outputs["main_id"]
    Api(emulator).delete(main_id)
    spec["name"] = "doomed-renamed"
    with pytest.raises(EngineError) as caught:
        stack.up()
    assert caught.value.step == "update"
    assert "deleted outside Pulumi" in str(caught.value) and "pulumi refresh" in str(caught.value)
    # Doing what the message says works: refresh drops it, the next up creates it again.
    assert stack.refresh().step("main").op == "delete"
    recreated = stack.up()
    assert recreated.step("main").op == "create"
    assert Api(emulator).records()[recreated.outputs["main_id"]]["name"] == "doomed-renamed"
