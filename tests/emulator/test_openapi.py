"""`/openapi.json` describes the contract, and a bounded schemathesis run finds no 5xx and no
response that breaks the schema."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sigsentry_emulator.testing import EmulatorProcess

from .helpers import CLOUDWATCH, SOURCES_PATH, VALID_BODIES, auth

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_openapi_lists_every_operation(anonymous: httpx.Client) -> None:
    document = anonymous.get("/openapi.json").json()
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert operations == {
        ("GET", "/healthz"),
        ("POST", SOURCES_PATH),
        ("GET", SOURCES_PATH),
        ("PUT", SOURCES_PATH + "/{id}"),
        ("DELETE", SOURCES_PATH + "/{id}"),
        ("POST", SOURCES_PATH + "/{id}/test"),
    }


def test_openapi_request_bodies_follow_the_contract(anonymous: httpx.Client) -> None:
    schemas = anonymous.get("/openapi.json").json()["components"]["schemas"]
    create = schemas["CreateLogSourceRequest"]
    assert set(create["discriminator"]["mapping"]) == {
        "cloudwatch", "datadog", "loki", "splunk", "elastic", "gcp_logging",
    }  # fmt: skip
    datadog = schemas["CreateDatadogLogSource"]
    assert set(datadog["required"]) == {"type", "name", "credentials", "sources"}
    assert datadog["additionalProperties"] is False
    assert datadog["properties"]["sources"]["minItems"] == 1
    assert datadog["properties"]["sources"]["maxItems"] == 100
    assert datadog["properties"]["sources"]["uniqueItems"] is True
    credentials = {
        name.removesuffix("Credentials"): (set(s["required"]), set(s["properties"]))
        for name, s in schemas.items()
        if name.endswith("Credentials")
    }
    assert credentials == {
        "Cloudwatch": ({"accessKeyId", "secretAccessKey"},
                       {"accessKeyId", "secretAccessKey", "sessionToken"}),
        "Datadog": ({"apiKey", "appKey"}, {"apiKey", "appKey"}),
        "Loki": ({"host"}, {"host", "apiKey", "orgId"}),
        "Splunk": ({"host", "token"}, {"host", "token"}),
        "Elastic": ({"host"}, {"host", "username", "password", "apiKey"}),
        "GcpLogging": ({"serviceAccountJson"}, {"serviceAccountJson"}),
    }  # fmt: skip
    update = schemas["UpdateLogSourceRequest"]
    assert set(update["properties"]) == {"name", "credentials", "sources", "isActive"}
    assert "required" not in update
    assert update["additionalProperties"] is False
    record = schemas["LogSourceRecord"]
    assert set(record["required"]) == {
        "id", "tenantId", "projectId", "type", "name", "sources", "isActive", "createdAt",
        "updatedAt",
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_and_responses_match_the_schema(
    emulator: EmulatorProcess, mode: GenerationMode
) -> None:
    emulator.set_quota(10_000)
    emulator.set_rate_limit(0)
    api_schema = schemathesis.openapi.from_url(f"{emulator.url}/openapi.json")
    headers = auth(emulator.api_key)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 6

    for operation in operations:
        if mode == GenerationMode.NEGATIVE and operation.path == "/healthz":
            continue  # takes no input, so there is nothing invalid to send

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Case) -> None:
            case.call_and_validate(base_url=emulator.url, headers=dict(headers), checks=CHECKS)

        check()

    served = emulator.requests()
    assert len(served) >= 5 * 5
    assert all(entry["status"] < 500 for entry in served)


def test_success_responses_of_every_operation_match_the_schema(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    # Generated cases rarely name an existing id, so PUT, DELETE and test would otherwise only ever
    # be checked on their error answers: here each operation answers a valid request.
    api_schema = schemathesis.openapi.from_url(f"{emulator.url}/openapi.json")
    source_id = api.post(SOURCES_PATH, json=CLOUDWATCH).json()["data"]["id"]
    item = SOURCES_PATH + "/{id}"
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("/healthz", "GET", {}),
        (SOURCES_PATH, "POST", {"body": VALID_BODIES["datadog"]}),
        (SOURCES_PATH, "GET", {"query": {"limit": 1}}),
        (item, "PUT", {"path_parameters": {"id": source_id}, "body": {"isActive": False}}),
        (item + "/test", "POST", {"path_parameters": {"id": source_id}}),
        (item, "DELETE", {"path_parameters": {"id": source_id}}),
    ]

    statuses = []
    for path, method, parts in requests:
        case = api_schema[path][method].Case(**parts)
        response = case.call_and_validate(
            base_url=emulator.url, headers=auth(emulator.api_key), checks=CHECKS
        )
        statuses.append(response.status_code)

    assert statuses == [200, 201, 200, 200, 200, 200]
