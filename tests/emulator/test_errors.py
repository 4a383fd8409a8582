"""Every row of the contract's error table, and the validation rules behind VALIDATION_ERROR."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from emulator.helpers import CLOUDWATCH, SERVICE_ACCOUNT, VALID_BODIES
from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.testing import EmulatorProcess

UNKNOWN_ID = f"ls_{uuid.UUID(int=1)}"


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def fields(error: dict[str, Any]) -> list[str]:
    return [d["field"] for d in error.get("details", [])]


def with_credentials(source_type: str, credentials: dict[str, str]) -> dict[str, Any]:
    return {**VALID_BODIES[source_type], "credentials": credentials}


def all_calls(source_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", LOG_SOURCES, None),
        ("POST", LOG_SOURCES, CLOUDWATCH),
        ("PUT", f"{LOG_SOURCES}/{source_id}", {"name": "x"}),
        ("DELETE", f"{LOG_SOURCES}/{source_id}", None),
        ("POST", f"{LOG_SOURCES}/{source_id}/test", None),
    ]


# 400 VALIDATION_ERROR: bodies

LONG = "x" * 1025
CREATE_CASES: list[tuple[str, Any, str]] = [
    ("type missing", {k: v for k, v in CLOUDWATCH.items() if k != "type"}, "type"),
    ("type unknown", {**CLOUDWATCH, "type": "syslog"}, "type"),
    ("name missing", {k: v for k, v in CLOUDWATCH.items() if k != "name"}, "name"),
    ("name empty", {**CLOUDWATCH, "name": ""}, "name"),
    ("name only spaces", {**CLOUDWATCH, "name": "   "}, "name"),
    ("name 256 chars", {**CLOUDWATCH, "name": "n" * 256}, "name"),
    ("name not a string", {**CLOUDWATCH, "name": 42}, "name"),
    (
        "credentials missing",
        {k: v for k, v in CLOUDWATCH.items() if k != "credentials"},
        "credentials",
    ),
    ("credentials not an object", {**CLOUDWATCH, "credentials": "k=v"}, "credentials"),
    (
        "credential value empty",
        with_credentials("datadog", {"apiKey": "", "appKey": "a"}),
        "credentials.apiKey",
    ),
    (
        "credential value not a string",
        with_credentials("datadog", {"apiKey": 7, "appKey": "a"}),  # type: ignore[dict-item]
        "credentials.apiKey",
    ),
    (
        "credential key unknown",
        with_credentials("datadog", {"apiKey": "a", "appKey": "b", "site": "eu"}),
        "credentials.site",
    ),
    (
        "credential key missing",
        with_credentials("datadog", {"apiKey": "a"}),
        "credentials.appKey",
    ),
    (
        "cloudwatch secret missing",
        with_credentials("cloudwatch", {"accessKeyId": "a", "sessionToken": "t"}),
        "credentials.secretAccessKey",
    ),
    ("host not a URL", with_credentials("loki", {"host": "loki.example.com"}), "credentials.host"),
    (
        "host not http",
        with_credentials("loki", {"host": "ftp://loki.example.com"}),
        "credentials.host",
    ),
    (
        "splunk token missing",
        with_credentials("splunk", {"host": "https://splunk.example.com"}),
        "credentials.token",
    ),
    (
        "elastic without auth",
        with_credentials("elastic", {"host": "https://es.example.com"}),
        "credentials",
    ),
    (
        "elastic username without password",
        with_credentials("elastic", {"host": "https://es.example.com", "username": "u"}),
        "credentials.password",
    ),
    (
        "elastic password without username",
        with_credentials("elastic", {"host": "https://es.example.com", "password": "p"}),
        "credentials.username",
    ),
    (
        "elastic both auth forms",
        with_credentials(
            "elastic",
            {"host": "https://es.example.com", "username": "u", "password": "p", "apiKey": "k"},
        ),
        "credentials.apiKey",
    ),
    (
        "gcp json not JSON",
        with_credentials("gcp_logging", {"serviceAccountJson": "{not json"}),
        "credentials.serviceAccountJson",
    ),
    (
        "gcp json not an object",
        with_credentials("gcp_logging", {"serviceAccountJson": "[1, 2]"}),
        "credentials.serviceAccountJson",
    ),
    (
        "gcp json lacks private_key",
        with_credentials(
            "gcp_logging",
            {
                "serviceAccountJson": json.dumps(
                    {k: v for k, v in json.loads(SERVICE_ACCOUNT).items() if k != "private_key"}
                )
            },
        ),
        "credentials.serviceAccountJson",
    ),
    ("sources missing", {k: v for k, v in CLOUDWATCH.items() if k != "sources"}, "sources"),
    ("sources empty", {**CLOUDWATCH, "sources": []}, "sources"),
    ("sources not a list", {**CLOUDWATCH, "sources": "/aws/lambda/x"}, "sources"),
    ("sources 101 entries", {**CLOUDWATCH, "sources": [f"g{i}" for i in range(101)]}, "sources"),
    ("source empty", {**CLOUDWATCH, "sources": ["a", ""]}, "sources[1]"),
    ("source too long", {**CLOUDWATCH, "sources": [LONG]}, "sources[0]"),
    ("source not a string", {**CLOUDWATCH, "sources": [1]}, "sources[0]"),
    ("sources duplicated", {**CLOUDWATCH, "sources": ["a", "b", "a"]}, "sources[2]"),
    ("isActive on create", {**CLOUDWATCH, "isActive": False}, "isActive"),
    ("unknown top-level field", {**CLOUDWATCH, "region": "eu-west-1"}, "region"),
    ("body not an object", [CLOUDWATCH], "body"),
]


@pytest.mark.parametrize(
    ("body", "field"), [c[1:] for c in CREATE_CASES], ids=[c[0] for c in CREATE_CASES]
)
def test_create_validation_names_the_field(api: httpx.Client, body: Any, field: str) -> None:
    error = error_of(api.post(LOG_SOURCES, json=body), 400, "VALIDATION_ERROR")
    assert field in fields(error)
    assert all(d["issue"] for d in error["details"])
    assert api.get(LOG_SOURCES).json()["data"] == []


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    (
        "cloudwatch with sessionToken",
        with_credentials(
            "cloudwatch", {"accessKeyId": "a", "secretAccessKey": "s", "sessionToken": "t"}
        ),
    ),
    ("loki host only", with_credentials("loki", {"host": "http://loki:3100"})),
    (
        "loki all keys",
        with_credentials("loki", {"host": "https://l.example.com", "apiKey": "k", "orgId": "o"}),
    ),
    (
        "elastic apiKey",
        with_credentials("elastic", {"host": "https://es.example.com", "apiKey": "k"}),
    ),
    ("name padded to 255 after trimming", {**CLOUDWATCH, "name": "  " + "n" * 255 + "  "}),
    (
        "sources 100 entries of 1024 chars",
        {**CLOUDWATCH, "sources": [f"{i:04d}" + "x" * 1020 for i in range(100)]},
    ),
]


@pytest.mark.parametrize("body", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_create_accepts_boundary_values(api: httpx.Client, body: dict[str, Any]) -> None:
    response = api.post(LOG_SOURCES, json=body)
    assert response.status_code == 201, response.text


def test_validation_errors_never_quote_credential_values(api: httpx.Client) -> None:
    body = with_credentials(
        "datadog", {"apiKey": "very-secret-api-key", "appKey": "", "region": "secret-region"}
    )
    response = api.post(LOG_SOURCES, json=body)
    error_of(response, 400, "VALIDATION_ERROR")
    assert "very-secret-api-key" not in response.text
    assert "secret-region" not in response.text


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [(b"{not json", "application/json"), (b"", "application/json"), (b"[1,", "text/plain")],
)
def test_malformed_json_is_400(api: httpx.Client, raw: bytes, content_type: str) -> None:
    response = api.post(LOG_SOURCES, content=raw, headers={"Content-Type": content_type})
    error = error_of(response, 400, "VALIDATION_ERROR")
    assert fields(error) == ["body"]


def test_malformed_json_on_put_is_400(api: httpx.Client, source_id: str) -> None:
    response = api.put(f"{LOG_SOURCES}/{source_id}", content=b'{"name": ')
    error_of(response, 400, "VALIDATION_ERROR")


UPDATE_CASES: list[tuple[str, Any, str]] = [
    ("type present", {"type": "cloudwatch"}, "type"),
    ("unknown field", {"description": "x"}, "description"),
    ("id in body", {"id": "ls_x"}, "id"),
    ("isActive not boolean", {"isActive": "false"}, "isActive"),
    ("name empty", {"name": ""}, "name"),
    ("name null", {"name": None}, "name"),
    ("sources empty", {"sources": []}, "sources"),
    ("sources duplicated", {"sources": ["a", "a"]}, "sources[1]"),
    (
        "credentials of another type",
        {"credentials": {"apiKey": "a", "appKey": "b"}},
        "credentials.accessKeyId",
    ),
    ("credentials partial", {"credentials": {"accessKeyId": "a"}}, "credentials.secretAccessKey"),
    (
        "credential value empty",
        {"credentials": {"accessKeyId": "", "secretAccessKey": "s"}},
        "credentials.accessKeyId",
    ),
    ("body not an object", ["isActive"], "body"),
]


@pytest.mark.parametrize(
    ("body", "field"), [c[1:] for c in UPDATE_CASES], ids=[c[0] for c in UPDATE_CASES]
)
def test_update_validation_names_the_field(
    api: httpx.Client, source_id: str, body: Any, field: str
) -> None:
    before = api.get(LOG_SOURCES).json()["data"]
    error = error_of(api.put(f"{LOG_SOURCES}/{source_id}", json=body), 400, "VALIDATION_ERROR")
    assert field in fields(error)
    assert api.get(LOG_SOURCES).json()["data"] == before


# 400 VALIDATION_ERROR: ids, headers, query

BAD_IDS = [
    "ls_a1b2c3",  # the PUT page's own curl example
    "a1b2c3d4-0000-4000-8000-000000000000",  # a bare UUID
    "ls_A1B2C3D4-0000-4000-8000-000000000000",  # uppercase
    "ls_a1b2c3d4000040008000000000000000",  # no dashes
    "ls_a1b2c3d4-0000-4000-8000-0000000000001",
    "ls_a1b2c3d4-0000-4000-8000-000000000000%0A",  # a valid id and a trailing newline
]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("PUT", "", {"isActive": False}), ("DELETE", "", None), ("POST", "/test", None)],
)
def test_path_id_of_the_wrong_shape_is_400(
    api: httpx.Client, bad_id: str, method: str, suffix: str, body: Any
) -> None:
    response = api.request(method, f"{LOG_SOURCES}/{bad_id}{suffix}", json=body)
    assert fields(error_of(response, 400, "VALIDATION_ERROR")) == ["id"]


@pytest.mark.parametrize("limit", ["0", "501", "-1", "abc", "1.5", ""])
def test_list_limit_out_of_range_is_400(api: httpx.Client, limit: str) -> None:
    response = api.get(LOG_SOURCES, params={"limit": limit})
    assert fields(error_of(response, 400, "VALIDATION_ERROR")) == ["limit"]


@pytest.mark.parametrize("limit", ["1", "500"])
def test_list_limit_bounds_are_accepted(api: httpx.Client, limit: str) -> None:
    assert api.get(LOG_SOURCES, params={"limit": limit}).status_code == 200


@pytest.mark.parametrize("cursor", ["garbage", "djE6cHJqX3g6MQ", "%%%"])
def test_list_bad_cursor_is_400(api: httpx.Client, cursor: str) -> None:
    response = api.get(LOG_SOURCES, params={"cursor": cursor})
    assert fields(error_of(response, 400, "VALIDATION_ERROR")) == ["cursor"]


def test_cursor_of_another_project_is_400(api: httpx.Client, emulator: EmulatorProcess) -> None:
    other = emulator.create_key(permissions=["config:read", "config:write"], project_id=None)
    other_headers = auth(other.api_key, **{"X-Project-Id": emulator.create_project()})
    for _ in range(2):
        httpx.post(f"{emulator.url}{LOG_SOURCES}", json=CLOUDWATCH, headers=other_headers)
    cursor = httpx.get(
        f"{emulator.url}{LOG_SOURCES}", params={"limit": 1}, headers=other_headers
    ).json()["nextCursor"]

    response = api.get(LOG_SOURCES, params={"cursor": cursor})
    error_of(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("key", [b"k" * 256, "naïve".encode(), b"tab\there"])
def test_idempotency_key_must_be_1_to_255_printable_ascii(api: httpx.Client, key: bytes) -> None:
    response = api.post(LOG_SOURCES, json=CLOUDWATCH, headers={b"Idempotency-Key": key})
    assert fields(error_of(response, 400, "VALIDATION_ERROR")) == ["Idempotency-Key"]


# 401 UNAUTHORIZED


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-sigsentry-key",
        "Bearer ss_secret_unknownunknownunknown",
    ],
    ids=["missing", "empty", "no key", "basic", "malformed", "unknown"],
)
def test_missing_malformed_or_unknown_key_is_401(
    emulator: EmulatorProcess, source_id: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path, body in all_calls(source_id):
        response = httpx.request(method, emulator.url + path, json=body, headers=headers)
        error_of(response, 401, "UNAUTHORIZED")
    assert (
        len(httpx.get(emulator.url + LOG_SOURCES, headers=auth(emulator.api_key)).json()["data"])
        == 1
    )


# 403 FORBIDDEN


def test_read_only_key_gets_403_on_every_write(emulator: EmulatorProcess, source_id: str) -> None:
    reader = emulator.create_key(permissions=["config:read"])
    for method, path, body in all_calls(source_id)[1:]:
        response = httpx.request(
            method, emulator.url + path, json=body, headers=auth(reader.api_key)
        )
        error = error_of(response, 403, "FORBIDDEN")
        assert "config:write" in error["message"]
    listed = httpx.get(emulator.url + LOG_SOURCES, headers=auth(reader.api_key))
    assert [r["id"] for r in listed.json()["data"]] == [source_id]


def test_write_only_key_gets_403_on_list(emulator: EmulatorProcess) -> None:
    writer = emulator.create_key(permissions=["config:write"])
    response = httpx.get(emulator.url + LOG_SOURCES, headers=auth(writer.api_key))
    assert "config:read" in error_of(response, 403, "FORBIDDEN")["message"]
    created = httpx.post(emulator.url + LOG_SOURCES, json=CLOUDWATCH, headers=auth(writer.api_key))
    assert created.status_code == 201


def test_project_scoped_key_naming_another_project_is_403(
    emulator: EmulatorProcess, source_id: str
) -> None:
    other_project = emulator.create_project()
    headers = auth(emulator.api_key, **{"X-Project-Id": other_project})
    for method, path, body in all_calls(source_id):
        response = httpx.request(method, emulator.url + path, json=body, headers=headers)
        error_of(response, 403, "FORBIDDEN")


def test_project_scoped_key_may_name_its_own_project(emulator: EmulatorProcess) -> None:
    headers = auth(emulator.api_key, **{"X-Project-Id": emulator.project_id})
    assert httpx.get(emulator.url + LOG_SOURCES, headers=headers).status_code == 200


def test_tenant_scoped_key_without_project_header_is_400(emulator: EmulatorProcess) -> None:
    key = emulator.create_key(permissions=["config:read", "config:write"], project_id=None)
    assert key.project_id is None
    response = httpx.get(emulator.url + LOG_SOURCES, headers=auth(key.api_key))
    assert fields(error_of(response, 400, "VALIDATION_ERROR")) == ["X-Project-Id"]


def test_tenant_scoped_key_acts_on_the_named_project(emulator: EmulatorProcess) -> None:
    key = emulator.create_key(permissions=["config:read", "config:write"], project_id=None)
    second = emulator.create_project()
    in_first = auth(key.api_key, **{"X-Project-Id": emulator.project_id})
    in_second = auth(key.api_key, **{"X-Project-Id": second})

    created = httpx.post(emulator.url + LOG_SOURCES, json=CLOUDWATCH, headers=in_second)

    assert created.status_code == 201
    assert created.json()["data"]["projectId"] == second
    assert httpx.get(emulator.url + LOG_SOURCES, headers=in_first).json()["data"] == []
    assert len(httpx.get(emulator.url + LOG_SOURCES, headers=in_second).json()["data"]) == 1
    source = created.json()["data"]["id"]
    wrong_project = httpx.delete(f"{emulator.url}{LOG_SOURCES}/{source}", headers=in_first)
    error_of(wrong_project, 404, "NOT_FOUND")


@pytest.mark.parametrize("project", ["prj_doesnotexist", "not-a-project"])
def test_tenant_scoped_key_naming_an_unknown_project_is_403(
    emulator: EmulatorProcess, project: str
) -> None:
    key = emulator.create_key(permissions=["config:read"], project_id=None)
    response = httpx.get(
        emulator.url + LOG_SOURCES, headers=auth(key.api_key, **{"X-Project-Id": project})
    )
    error_of(response, 403, "FORBIDDEN")


def test_tenant_scoped_key_naming_another_tenants_project_is_403(emulator: EmulatorProcess) -> None:
    stranger = emulator.create_key(permissions=["config:read"], new_tenant=True, project_id=None)
    headers = auth(stranger.api_key, **{"X-Project-Id": emulator.project_id})
    error_of(httpx.get(emulator.url + LOG_SOURCES, headers=headers), 403, "FORBIDDEN")


# 403 QUOTA_EXCEEDED


def test_create_past_the_quota_is_403_quota_exceeded(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    emulator.set_quota(2)
    ids = [api.post(LOG_SOURCES, json=CLOUDWATCH).json()["data"]["id"] for _ in range(2)]

    error = error_of(api.post(LOG_SOURCES, json=CLOUDWATCH), 403, "QUOTA_EXCEEDED")

    assert "logSourcesPerProject" in error["message"]
    assert api.delete(f"{LOG_SOURCES}/{ids[0]}").status_code == 200
    assert api.post(LOG_SOURCES, json=CLOUDWATCH).status_code == 201


def test_quota_counts_per_project(emulator: EmulatorProcess) -> None:
    emulator.set_quota(1)
    key = emulator.create_key(permissions=["config:read", "config:write"], project_id=None)
    for project in (emulator.project_id, emulator.create_project()):
        headers = auth(key.api_key, **{"X-Project-Id": project})
        assert (
            httpx.post(emulator.url + LOG_SOURCES, json=CLOUDWATCH, headers=headers).status_code
            == 201
        )
        again = httpx.post(emulator.url + LOG_SOURCES, json=CLOUDWATCH, headers=headers)
        error_of(again, 403, "QUOTA_EXCEEDED")


def test_validation_comes_before_the_quota(api: httpx.Client, emulator: EmulatorProcess) -> None:
    emulator.set_quota(0)
    error_of(api.post(LOG_SOURCES, json={**CLOUDWATCH, "name": ""}), 400, "VALIDATION_ERROR")


# 404 NOT_FOUND


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("PUT", "", {"isActive": False}), ("DELETE", "", None), ("POST", "/test", None)],
)
def test_unknown_id_is_404(api: httpx.Client, method: str, suffix: str, body: Any) -> None:
    response = api.request(method, f"{LOG_SOURCES}/{UNKNOWN_ID}{suffix}", json=body)
    error_of(response, 404, "NOT_FOUND")


def test_unknown_route_is_404_in_the_envelope(api: httpx.Client) -> None:
    error_of(api.get("/v1/config/nothing-here"), 404, "NOT_FOUND")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_trailing_slash_is_an_unknown_path_not_a_redirect(api: httpx.Client, method: str) -> None:
    response = api.request(method, f"{LOG_SOURCES}/", json=VALID_BODIES["datadog"])
    error_of(response, 404, "NOT_FOUND")
    assert api.get(LOG_SOURCES).json()["data"] == []


def test_there_is_no_get_by_id(api: httpx.Client, source_id: str) -> None:
    response = api.get(f"{LOG_SOURCES}/{source_id}")
    assert response.status_code == 405
    assert response.json()["success"] is False


# 409 IDEMPOTENCY_CONFLICT


def test_idempotency_key_with_a_different_body_is_409(api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "create-cloudwatch-1"}
    assert api.post(LOG_SOURCES, json=CLOUDWATCH, headers=headers).status_code == 201

    response = api.post(LOG_SOURCES, json={**CLOUDWATCH, "name": "other"}, headers=headers)

    error_of(response, 409, "IDEMPOTENCY_CONFLICT")
    assert len(api.get(LOG_SOURCES).json()["data"]) == 1


# 429 RATE_LIMITED


def test_over_the_rate_limit_is_429_with_retry_after(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    emulator.set_rate_limit(0.5, burst=3)
    statuses = [api.get(LOG_SOURCES).status_code for _ in range(3)]
    response = api.get(LOG_SOURCES)

    assert statuses == [200, 200, 200]
    error_of(response, 429, "RATE_LIMITED")
    assert int(response.headers["Retry-After"]) >= 1


# 500 / 503


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [("500", 500, "INTERNAL_ERROR"), ("503", 503, "SERVICE_UNAVAILABLE")],
)
def test_server_faults_use_the_envelope(
    api: httpx.Client, emulator: EmulatorProcess, fault: str, status: int, code: str
) -> None:
    emulator.set_faults({"rules": [{"fault": fault, "times": 1}]})
    response = api.get(LOG_SOURCES, headers={"X-Request-Id": "fault-1"})
    error_of(response, status, code)
    assert response.headers["X-Request-Id"] == "fault-1"
    assert api.get(LOG_SOURCES).status_code == 200


# the order in which rules apply


def test_permission_is_checked_before_the_body_is_read(
    anonymous: httpx.Client, emulator: EmulatorProcess, source_id: str
) -> None:
    reader = auth(emulator.create_key(permissions=["config:read"]).api_key)
    for method, path in (("POST", LOG_SOURCES), ("PUT", f"{LOG_SOURCES}/{source_id}")):
        response = anonymous.request(method, path, content=b"{broken", headers=reader)
        error_of(response, 403, "FORBIDDEN")


def test_path_id_is_checked_before_the_body(api: httpx.Client) -> None:
    response = api.put(f"{LOG_SOURCES}/ls_a1b2c3", content=b"{broken")
    assert fields(error_of(response, 400, "VALIDATION_ERROR")) == ["id"]


def test_authentication_comes_before_everything(anonymous: httpx.Client) -> None:
    response = anonymous.put(f"{LOG_SOURCES}/ls_a1b2c3", content=b"{broken")
    error_of(response, 401, "UNAUTHORIZED")
