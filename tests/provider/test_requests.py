"""What the provider sends, request by request: the provider called in-process against the emulator.

A request hook on the process's shared HTTP client records each request's method, path, headers
and body; the gRPC tests cannot see bodies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from provider.cases import (
    CREDENTIALS,
    ROTATED,
    checked,
    inputs,
    provider_for,
    secret_values,
    without_provider,
)
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import LogSourceGoneError, __version__, _runtime


@pytest.fixture
def sent() -> Iterator[list[httpx.Request]]:
    recorded: list[httpx.Request] = []
    client = _runtime.shared_http_client()
    hooks = client.event_hooks
    client.event_hooks = {**hooks, "request": [*hooks.get("request", []), recorded.append]}
    yield recorded
    client.event_hooks = hooks


def body(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def test_create_posts_exactly_the_four_fields_with_an_idempotency_key(
    emulator: EmulatorProcess, sent: list[httpx.Request]
) -> None:
    provider = provider_for(emulator)
    provider.create(checked(provider, inputs("loki", verify=False, isActive=True)))
    (post,) = sent
    assert (post.method, post.url.path) == ("POST", "/v1/config/log-sources")
    assert body(post) == {
        "type": "loki",
        "name": "test-loki",
        "credentials": CREDENTIALS["loki"],
        "sources": ['{app="checkout"}'],
    }
    assert post.headers["Idempotency-Key"]
    assert post.headers["User-Agent"] == f"sigsentry-pulumi/{__version__}"
    assert post.headers["Authorization"] == f"Bearer {emulator.api_key}"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "renamed"}, {"name": "renamed"}),
        ({"sources": ["/aws/new"]}, {"sources": ["/aws/new"]}),
        ({"isActive": False}, {"isActive": False}),
        ({"credentials": ROTATED["cloudwatch"]}, {"credentials": ROTATED["cloudwatch"]}),
        (
            {"name": "n2", "credentials": {**CREDENTIALS["cloudwatch"], "sessionToken": "tok"}},
            {"name": "n2", "credentials": {**CREDENTIALS["cloudwatch"], "sessionToken": "tok"}},
        ),
    ],
)
def test_update_puts_only_what_changed(
    emulator: EmulatorProcess,
    sent: list[httpx.Request],
    change: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    provider = provider_for(emulator)
    created = provider.create(checked(provider, inputs("cloudwatch")))
    assert created.outs is not None
    sent.clear()
    provider.update(created.id, created.outs, checked(provider, inputs("cloudwatch", **change)))
    (put,) = sent
    assert (put.method, put.url.path) == ("PUT", f"/v1/config/log-sources/{created.id}")
    assert body(put) == expected
    assert "type" not in body(put)


def test_update_never_sends_type(emulator: EmulatorProcess, sent: list[httpx.Request]) -> None:
    provider = provider_for(emulator)
    created = provider.create(checked(provider, inputs("datadog")))
    assert created.outs is not None
    sent.clear()
    news = {**created.outs, "type": "splunk", "name": "other"}
    provider.update(created.id, created.outs, news)
    assert body(sent[0]) == {"name": "other"}


def test_update_of_a_vanished_source_raises_gone(emulator: EmulatorProcess) -> None:
    provider = provider_for(emulator)
    created = provider.create(checked(provider, inputs("datadog")))
    assert created.outs is not None
    provider.delete(created.id, created.outs)
    with pytest.raises(LogSourceGoneError, match=r"pulumi refresh"):
        provider.update(created.id, created.outs, inputs("datadog", name="x"))


def test_the_configured_project_goes_in_every_request(
    emulator: EmulatorProcess, sent: list[httpx.Request]
) -> None:
    provider = provider_for(emulator, **{"sigsentry:projectId": emulator.project_id})
    created = provider.create(checked(provider, inputs("splunk", verify=True)))
    assert created.outs is not None
    provider.read(created.id, created.outs)  # with verify: the list walk, then the test call
    provider.delete(created.id, created.outs)
    assert [r.method for r in sent] == ["POST", "POST", "GET", "POST", "DELETE"]
    assert {r.headers.get("X-Project-Id") for r in sent} == {emulator.project_id}


def test_outputs_echo_every_input_plus_computed_fields(emulator: EmulatorProcess) -> None:
    provider = provider_for(emulator)
    news = checked(provider, inputs("elastic", projectId=emulator.project_id))
    created = provider.create(news)
    assert created.outs is not None
    echoed = {k: created.outs[k] for k in without_provider(news)}
    assert echoed == without_provider(news)
    assert set(created.outs) - set(news) == {"tenantId", "createdAt"}


def test_no_log_line_carries_a_secret(
    emulator: EmulatorProcess, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.set_faults({"rules": [{"method": "PUT", "fault": "503", "retryAfter": 0, "times": 1}]})
    provider = provider_for(emulator)
    created = provider.create(checked(provider, inputs("datadog", isActive=False, verify=True)))
    assert created.outs is not None
    provider.update(created.id, created.outs, inputs("datadog", credentials=ROTATED["datadog"]))
    provider.read(created.id, created.outs)
    provider.delete(created.id, created.outs)
    # the 503 was announced on stderr (which the CLI shows), and retried
    progress = capsys.readouterr().err
    assert "SigSentry answered 503 to PUT ls_" in progress
    for secret in [*secret_values(), emulator.api_key]:
        assert secret not in caplog.text
        assert secret not in progress
