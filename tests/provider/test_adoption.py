"""Adoption in the provider itself (`adoptId`): check, diff, create, read, against the emulator.

The provider runs in this process, configured as the engine configures it; the emulator is a
real HTTP server whose request log shows what was sent.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_SENTINEL

from provider.cases import emulator_config
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import (
    LogSourceProvider,
    SigSentryClient,
    SigSentryError,
    VerificationFailedError,
)

CREDENTIALS = {"apiKey": "adoption-test-key", "appKey": "adoption-test-app"}


def configured(emulator: EmulatorProcess) -> LogSourceProvider:
    provider = LogSourceProvider()
    provider.configure(ConfigureRequest(Config(emulator_config(emulator), "proj")))
    return provider


def declared(adopt_id: Any, **extra: Any) -> dict[str, Any]:
    return {
        "type": "datadog",
        "name": "adopted",
        "credentials": dict(CREDENTIALS),
        "sources": ["service:new"],
        "isActive": False,
        "verify": False,
        "adoptId": adopt_id,
        "resourceIdentity": f"proj/dev/sigsentry:LogSource/{uuid.uuid4().hex}",
        **extra,
    }


def by_hand(sigsentry: SigSentryClient, kind: str = "datadog") -> str:
    credentials = CREDENTIALS if kind == "datadog" else {"host": "https://loki.example.com"}
    record = sigsentry.create_log_source(
        type=kind, name="by-hand", credentials=credentials, sources=["service:old"]
    )
    return record.id


def writes_since(emulator: EmulatorProcess, since: int) -> list[tuple[str, str]]:
    return [
        (r["method"], r["path"].rsplit("/", 1)[-1] if r["method"] != "POST" else r["path"])
        for r in emulator.requests()[since:]
        if r["method"] in {"POST", "PUT", "DELETE"}
    ]


def test_check_refuses_what_is_not_a_source_id(emulator: EmulatorProcess) -> None:
    provider = configured(emulator)
    failures = provider.check({}, declared("checkout")).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("adoptId", "adopt_id must be a log source id such as 'ls_...', not 'checkout'")
    ]
    assert provider.check({}, declared("ls_abc")).failures == []
    assert provider.check({}, declared(UNKNOWN_SENTINEL)).failures == []


def test_check_refuses_a_second_resource_adopting_the_same_id(emulator: EmulatorProcess) -> None:
    provider = configured(emulator)
    adopt_id = f"ls_{uuid.uuid4().hex}"
    first, second = declared(adopt_id), declared(adopt_id)
    assert provider.check({}, first).failures == []
    assert provider.check({}, first).failures == []  # the same resource checked again
    [failure] = provider.check({}, second).failures
    assert failure.property == "adoptId"
    assert f"log source {adopt_id} is already adopted by the resource" in str(failure.reason)
    assert f"remove adopt_id='{adopt_id}' from one of them" in str(failure.reason)


@pytest.mark.parametrize(
    ("new_adopt", "replaces"),
    [("ls_same", []), (None, []), ("ls_other", ["adoptId"]), (UNKNOWN_SENTINEL, ["adoptId"])],
)
def test_diff_keeping_or_removing_adopt_id_is_no_change_another_replaces(
    emulator: EmulatorProcess, new_adopt: Any, replaces: list[str]
) -> None:
    provider = configured(emulator)
    olds = declared("ls_same")
    news = {**olds, "adoptId": new_adopt}
    result = provider.diff("ls_same", olds, news)
    assert result.replaces == replaces
    assert result.changes is bool(replaces)


def test_create_adopts_with_one_put_and_keeps_the_id(
    emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    source_id = by_hand(sigsentry)
    provider = configured(emulator)
    before = len(emulator.requests())
    created = provider.create(declared(source_id, verify=True))
    assert created.id == source_id
    assert writes_since(emulator, before) == [
        ("PUT", source_id),
        ("POST", f"/v1/config/log-sources/{source_id}/test"),
    ]
    live = sigsentry.find_log_source(source_id)
    assert live is not None
    assert (live.name, live.sources, live.is_active) == ("adopted", ["service:new"], False)
    outputs = created.outs or {}
    assert outputs["adoptId"] == source_id and outputs["tenantId"] == live.tenant_id

    read = provider.read(source_id, outputs)
    assert (read.outs or {})["adoptId"] == source_id
    assert (read.inputs or {})["adoptId"] == source_id


@pytest.mark.parametrize("problem", ["missing", "other type"])
def test_create_refuses_a_missing_source_or_another_type_without_writing(
    emulator: EmulatorProcess, sigsentry: SigSentryClient, problem: str
) -> None:
    source_id = "ls_missing" if problem == "missing" else by_hand(sigsentry, kind="loki")
    provider = configured(emulator)
    before = len(emulator.requests())
    with pytest.raises(SigSentryError) as raised:
        provider.create(declared(source_id))
    message = str(raised.value)
    assert message.startswith(f"Cannot adopt log source {source_id}: ")
    assert f"remove adopt_id='{source_id}'" in message
    assert writes_since(emulator, before) == []


def test_a_failed_verification_leaves_the_adopted_source_in_place(
    emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    source_id = by_hand(sigsentry)
    provider = configured(emulator)
    inputs = declared(source_id, verify=True, credentials={"apiKey": "invalid", "appKey": "x"})
    with pytest.raises(VerificationFailedError):
        provider.create(inputs)
    live = sigsentry.find_log_source(source_id)
    assert live is not None and live.name == "adopted"  # adopted, then the test call failed
