"""Idempotency-Key on POST: replay, conflict, tenant scope, and concurrent duplicates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from emulator.helpers import CLOUDWATCH, VALID_BODIES
from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.testing import EmulatorProcess


def test_same_key_same_body_replays_the_first_response(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    headers = {"Idempotency-Key": "replay-me"}
    first = api.post(LOG_SOURCES, json=CLOUDWATCH, headers=headers)
    second = api.post(LOG_SOURCES, json=CLOUDWATCH, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(api.get(LOG_SOURCES).json()["data"]) == 1
    assert [e["replayed"] for e in emulator.requests() if e["method"] == "POST"] == [False, True]


def test_replay_returns_the_record_as_first_created(api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "then-renamed"}
    first = api.post(LOG_SOURCES, json=CLOUDWATCH, headers=headers).json()
    api.put(f"{LOG_SOURCES}/{first['data']['id']}", json={"name": "renamed"})

    replay = api.post(LOG_SOURCES, json=CLOUDWATCH, headers=headers)

    assert replay.json() == first


def test_body_equality_ignores_key_order_and_whitespace(api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "reordered", "Content-Type": "application/json"}
    api.post(LOG_SOURCES, json=CLOUDWATCH, headers=headers)
    reordered = (
        "{\n "
        + ", ".join(
            f'"{k}": {__import__("json").dumps(v)}' for k, v in reversed(CLOUDWATCH.items())
        )
        + "}"
    )
    replay = api.post(LOG_SOURCES, content=reordered.encode(), headers=headers)
    assert replay.status_code == 201
    assert replay.headers.get("Idempotent-Replayed") == "true"


def test_different_keys_create_different_sources(api: httpx.Client) -> None:
    a = api.post(LOG_SOURCES, json=CLOUDWATCH, headers={"Idempotency-Key": "a"})
    b = api.post(LOG_SOURCES, json=CLOUDWATCH, headers={"Idempotency-Key": "b"})
    assert a.json()["data"]["id"] != b.json()["data"]["id"]


def test_a_failed_create_is_not_remembered(api: httpx.Client, emulator: EmulatorProcess) -> None:
    emulator.set_quota(0)
    headers = {"Idempotency-Key": "retry-after-quota"}
    assert api.post(LOG_SOURCES, json=CLOUDWATCH, headers=headers).status_code == 403
    emulator.set_quota(5)
    retry = api.post(LOG_SOURCES, json=CLOUDWATCH, headers=headers)
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers


def test_keys_are_scoped_per_tenant(api: httpx.Client, emulator: EmulatorProcess) -> None:
    stranger = emulator.create_key(permissions=["config:read", "config:write"], new_tenant=True)
    headers = {"Idempotency-Key": "shared-key-text"}
    mine = api.post(LOG_SOURCES, json=CLOUDWATCH, headers=headers)

    theirs = httpx.post(
        f"{emulator.url}{LOG_SOURCES}",
        json=VALID_BODIES["datadog"],
        headers=auth(stranger.api_key, **headers),
    )

    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["data"]["id"] != mine.json()["data"]["id"]


def test_same_key_in_another_project_of_the_tenant_conflicts(emulator: EmulatorProcess) -> None:
    key = emulator.create_key(permissions=["config:read", "config:write"], project_id=None)
    other = emulator.create_project()
    headers = {"Idempotency-Key": "one-per-tenant"}
    url = f"{emulator.url}{LOG_SOURCES}"
    first = httpx.post(
        url,
        json=CLOUDWATCH,
        headers=auth(key.api_key, **headers, **{"X-Project-Id": emulator.project_id}),
    )
    second = httpx.post(
        url, json=CLOUDWATCH, headers=auth(key.api_key, **headers, **{"X-Project-Id": other})
    )
    assert first.status_code == 201
    assert second.status_code == 409


def test_twenty_parallel_duplicates_create_exactly_one_source(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    url = f"{emulator.url}{LOG_SOURCES}"
    headers = auth(emulator.api_key, **{"Idempotency-Key": "parallel-duplicates"})

    def post(_: int) -> httpx.Response:
        with httpx.Client(timeout=30) as client:
            return client.post(url, json=CLOUDWATCH, headers=headers)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(post, range(20)))

    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["data"]["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 19
    assert len(api.get(LOG_SOURCES).json()["data"]) == 1
