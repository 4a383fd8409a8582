"""Every endpoint's success path over raw HTTP: shapes, statuses and headers the contract fixes."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from emulator.helpers import CLOUDWATCH, VALID_BODIES, credential_values
from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.testing import EmulatorProcess

ID_SHAPE = re.compile(r"^ls_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
RECORD_FIELDS = {
    "id",
    "tenantId",
    "projectId",
    "type",
    "name",
    "sources",
    "isActive",
    "createdAt",
    "updatedAt",
}


def create(api: httpx.Client, body: dict[str, Any] = CLOUDWATCH) -> dict[str, Any]:
    response = api.post(LOG_SOURCES, json=body)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()["data"]
    return record


def listed(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get(LOG_SOURCES, params={"limit": 500})
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["data"]
    return records


@pytest.mark.parametrize("source_type", sorted(VALID_BODIES))
def test_create_returns_the_record_without_credentials(
    api: httpx.Client, emulator: EmulatorProcess, source_type: str
) -> None:
    body = VALID_BODIES[source_type]
    response = api.post(LOG_SOURCES, json=body)

    assert response.status_code == 201
    envelope = response.json()
    assert envelope["success"] is True
    record = envelope["data"]
    assert set(record) == RECORD_FIELDS
    assert ID_SHAPE.match(record["id"])
    assert record["tenantId"] == emulator.tenant_id
    assert record["projectId"] == emulator.project_id
    assert (record["type"], record["name"], record["sources"]) == (
        body["type"],
        body["name"],
        body["sources"],
    )
    assert record["isActive"] is True
    assert TIMESTAMP.match(record["createdAt"])
    assert record["updatedAt"] == record["createdAt"]
    for value in credential_values(body):
        assert value not in response.text


def test_list_is_oldest_first_and_matches_created_records(api: httpx.Client) -> None:
    created = [create(api, {**CLOUDWATCH, "name": f"source-{i}"}) for i in range(3)]

    response = api.get(LOG_SOURCES)

    assert response.status_code == 200
    body = response.json()
    assert body == {"success": True, "data": created, "nextCursor": None}


def test_pagination_walks_every_source_once_with_opaque_cursors(api: httpx.Client) -> None:
    created_ids = [create(api, {**CLOUDWATCH, "name": f"s{i}"})["id"] for i in range(7)]

    seen: list[str] = []
    cursors: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = api.get(LOG_SOURCES, params=params).json()
        assert len(page["data"]) <= 3
        seen += [r["id"] for r in page["data"]]
        if page["nextCursor"] is None:
            break
        cursors.append(page["nextCursor"])
        params = {"limit": 3, "cursor": page["nextCursor"]}

    assert seen == created_ids
    assert len(cursors) == 2
    assert not any(source_id in cursor for cursor in cursors for source_id in created_ids)


def test_cursor_is_stable_when_earlier_sources_are_deleted(api: httpx.Client) -> None:
    ids = [create(api, {**CLOUDWATCH, "name": f"s{i}"})["id"] for i in range(4)]
    first = api.get(LOG_SOURCES, params={"limit": 2}).json()
    assert [r["id"] for r in first["data"]] == ids[:2]

    assert api.delete(f"{LOG_SOURCES}/{ids[0]}").status_code == 200
    rest = api.get(LOG_SOURCES, params={"limit": 2, "cursor": first["nextCursor"]}).json()

    assert [r["id"] for r in rest["data"]] == ids[2:]
    assert rest["nextCursor"] is None


def test_list_limit_defaults_to_100(api: httpx.Client, emulator: EmulatorProcess) -> None:
    emulator.set_quota(105)
    for i in range(101):
        create(api, {**CLOUDWATCH, "name": f"s{i}"})

    page = api.get(LOG_SOURCES).json()

    assert len(page["data"]) == 100
    assert page["nextCursor"] is not None
    last = api.get(LOG_SOURCES, params={"cursor": page["nextCursor"]}).json()
    assert len(last["data"]) == 1 and last["nextCursor"] is None


def test_put_partial_update_changes_only_given_fields(api: httpx.Client) -> None:
    record = create(api)
    update = {
        "name": "prod-cloudwatch-renamed",
        "sources": ["/aws/lambda/checkout-api", "/aws/ecs/api-gateway"],
    }

    response = api.put(f"{LOG_SOURCES}/{record['id']}", json=update)

    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"updated": True}}
    [after] = listed(api)
    assert after["name"] == update["name"]
    assert after["sources"] == update["sources"]
    assert after["isActive"] is True
    assert after["type"] == record["type"] and after["createdAt"] == record["createdAt"]


def test_put_is_active_pauses_and_resumes(api: httpx.Client) -> None:
    record = create(api)
    api.put(f"{LOG_SOURCES}/{record['id']}", json={"isActive": False})
    assert listed(api)[0]["isActive"] is False
    api.put(f"{LOG_SOURCES}/{record['id']}", json={"isActive": True})
    assert listed(api)[0]["isActive"] is True


def test_put_empty_body_is_a_valid_no_op(api: httpx.Client) -> None:
    record = create(api)
    response = api.put(f"{LOG_SOURCES}/{record['id']}", json={})
    assert response.status_code == 200
    [after] = listed(api)
    assert {k: after[k] for k in after if k != "updatedAt"} == {
        k: record[k] for k in record if k != "updatedAt"
    }


def test_put_credentials_replaces_them_wholesale(api: httpx.Client) -> None:
    record = create(api)
    rotated = {"accessKeyId": "AKIAROTATED0000001", "secretAccessKey": "invalid"}

    response = api.put(f"{LOG_SOURCES}/{record['id']}", json={"credentials": rotated})

    assert response.status_code == 200
    result = api.post(f"{LOG_SOURCES}/{record['id']}/test").json()["data"]
    assert result["ok"] is False  # the stored set is the new one: its secret is "invalid"
    assert "credentials.secretAccessKey" in result["message"]


def test_delete_removes_the_source(api: httpx.Client) -> None:
    keep, gone = create(api), create(api)

    response = api.delete(f"{LOG_SOURCES}/{gone['id']}")

    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"deleted": True}}
    assert [r["id"] for r in listed(api)] == [keep["id"]]
    again = api.delete(f"{LOG_SOURCES}/{gone['id']}")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("source_type", sorted(VALID_BODIES))
def test_test_endpoint_previews_platform_shaped_lines(api: httpx.Client, source_type: str) -> None:
    body = VALID_BODIES[source_type]
    record = create(api, body)

    first = api.post(f"{LOG_SOURCES}/{record['id']}/test")
    second = api.post(f"{LOG_SOURCES}/{record['id']}/test")

    assert first.status_code == 200
    result = first.json()["data"]
    assert result["ok"] is True
    assert result["message"]
    assert len(result["sample"]) == 3
    assert all(body["sources"][0] in line for line in result["sample"])
    assert second.json() == first.json()  # deterministic
    for value in credential_values(body):
        assert value not in first.text


@pytest.mark.parametrize(
    ("source_type", "credentials", "named"),
    [
        ("datadog", {"apiKey": "invalid", "appKey": "dd-app"}, "credentials.apiKey"),
        ("loki", {"host": "https://loki.example.invalid"}, "credentials.host"),
        ("splunk", {"host": "http://splunk.invalid:8089", "token": "t0k3n"}, "credentials.host"),
        ("elastic", {"host": "https://es.example.com", "apiKey": "invalid"}, "credentials.apiKey"),
    ],
)
def test_test_endpoint_reports_simulated_failures(
    api: httpx.Client, source_type: str, credentials: dict[str, str], named: str
) -> None:
    record = create(
        api, {"type": source_type, "name": "x", "credentials": credentials, "sources": ["a"]}
    )

    response = api.post(f"{LOG_SOURCES}/{record['id']}/test")

    assert response.status_code == 200
    result = response.json()["data"]
    assert result["ok"] is False
    assert named in result["message"]
    assert "sample" not in result or result["sample"] is None
    assert "example.invalid" not in response.text and "splunk.invalid" not in response.text


def test_every_response_echoes_the_request_id(api: httpx.Client) -> None:
    record = create(api)
    calls = [
        ("GET", LOG_SOURCES, None),
        ("POST", LOG_SOURCES, CLOUDWATCH),
        ("PUT", f"{LOG_SOURCES}/{record['id']}", {"name": "n"}),
        ("POST", f"{LOG_SOURCES}/{record['id']}/test", None),
        ("DELETE", f"{LOG_SOURCES}/{record['id']}", None),
        ("DELETE", f"{LOG_SOURCES}/{record['id']}", None),  # 404
        ("PUT", f"{LOG_SOURCES}/ls_a1b2c3", {}),  # 400
    ]
    for method, path, body in calls:
        response = api.request(method, path, json=body, headers={"X-Request-Id": f"trace-{method}"})
        assert response.headers["X-Request-Id"] == f"trace-{method}", (method, path)


def test_a_request_id_is_generated_when_absent(emulator: EmulatorProcess) -> None:
    first = httpx.get(f"{emulator.url}{LOG_SOURCES}")  # 401, still gets one
    second = httpx.get(f"{emulator.url}{LOG_SOURCES}", headers=auth(emulator.api_key))
    assert first.headers["X-Request-Id"] and second.headers["X-Request-Id"]
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_healthz(emulator: EmulatorProcess) -> None:
    response = httpx.get(f"{emulator.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_request_log_records_calls_without_bodies_or_keys(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    record = create(api)
    api.get(LOG_SOURCES, params={"limit": 5}, headers={"X-Request-Id": "look-for-me"})

    log = emulator.requests()

    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", LOG_SOURCES, 201),
        ("GET", LOG_SOURCES, 200),
    ]
    assert log[1]["query"] == "limit=5"
    assert log[1]["requestId"] == "look-for-me"
    assert log[0]["replayed"] is False and log[0]["fault"] is None
    text = repr(log)
    assert emulator.api_key not in text
    assert record["name"] not in text
    for value in credential_values(CLOUDWATCH):
        assert value not in text
    emulator.clear_requests()
    assert emulator.requests() == []
