"""`/openapi.json` describes the contract, and bounded, derandomized schemathesis runs find no 5xx
and no response that breaks the schema (a larger run is marked slow)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from emulator.helpers import CLOUDWATCH, VALID_BODIES
from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.errors import MAX_BODY_BYTES
from sigsentry_emulator.testing import EmulatorProcess

MAX_EXAMPLES = 25  # per operation, in every run
MAX_EXAMPLES_AT_LENGTH = 200  # per operation, under the slow marker
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
        ("POST", LOG_SOURCES),
        ("GET", LOG_SOURCES),
        ("PUT", LOG_SOURCES + "/{id}"),
        ("DELETE", LOG_SOURCES + "/{id}"),
        ("POST", LOG_SOURCES + "/{id}/test"),
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


def schemathesis_run(
    emulator: EmulatorProcess, mode: GenerationMode, max_examples: int
) -> list[tuple[str, str, str, int]]:
    """Every operation, `max_examples` generated cases each; what the emulator answered.

    Derandomized: the same cases in the same order on every run, so a finding reproduces and a
    pass is not luck. Each finding of these runs is kept as a named test in test_hostile_input.
    """
    emulator.set_quota(10_000)
    emulator.set_rate_limit(0)
    api_schema = schemathesis.openapi.from_url(f"{emulator.url}/openapi.json")
    headers = auth(emulator.api_key)
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) == 6

    for operation in operations:
        if mode == GenerationMode.NEGATIVE and operation.path == "/healthz":
            continue  # takes no input, so there is nothing invalid to send

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=max_examples,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Case[Any]) -> None:
            case.call_and_validate(base_url=emulator.url, headers=dict(headers), checks=CHECKS)

        check()

    served = emulator.requests()
    assert all(entry["status"] < 500 for entry in served)
    return [(e["method"], e["path"], e["query"], e["status"]) for e in served]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_and_responses_match_the_schema(
    emulator: EmulatorProcess, mode: GenerationMode
) -> None:
    served = schemathesis_run(emulator, mode, MAX_EXAMPLES)
    assert len(served) >= 5 * MAX_EXAMPLES // 2


def test_the_generated_run_is_the_same_every_time(emulator: EmulatorProcess) -> None:
    first = schemathesis_run(emulator, GenerationMode.NEGATIVE, 10)
    emulator.restore_defaults()
    assert schemathesis_run(emulator, GenerationMode.NEGATIVE, 10) == first


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_at_length(emulator: EmulatorProcess, mode: GenerationMode) -> None:
    served = schemathesis_run(emulator, mode, MAX_EXAMPLES_AT_LENGTH)
    assert len(served) >= 5 * MAX_EXAMPLES_AT_LENGTH // 2


def test_success_responses_of_every_operation_match_the_schema(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    # Generated cases rarely name an existing id, so PUT, DELETE and test would otherwise only ever
    # be checked on their error answers: here each operation answers a valid request.
    api_schema = schemathesis.openapi.from_url(f"{emulator.url}/openapi.json")
    source_id = api.post(LOG_SOURCES, json=CLOUDWATCH).json()["data"]["id"]
    item = LOG_SOURCES + "/{id}"
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("/healthz", "GET", {}),
        (LOG_SOURCES, "POST", {"body": VALID_BODIES["datadog"]}),
        (LOG_SOURCES, "GET", {"query": {"limit": 1}}),
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


def test_refusals_of_hostile_bodies_match_the_schema(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    # 413 is the emulator's own status (the contract has none): documented, in the error envelope
    api_schema = schemathesis.openapi.from_url(f"{emulator.url}/openapi.json")
    source_id = api.post(LOG_SOURCES, json=CLOUDWATCH).json()["data"]["id"]
    item = LOG_SOURCES + "/{id}"
    oversized = {**CLOUDWATCH, "name": "x" * MAX_BODY_BYTES}
    requests: list[tuple[str, str, dict[str, Any]]] = [
        (LOG_SOURCES, "POST", {"body": oversized}),
        (
            item,
            "PUT",
            {"path_parameters": {"id": source_id}, "body": {"name": "x" * MAX_BODY_BYTES}},
        ),
        (LOG_SOURCES, "POST", {"body": {**CLOUDWATCH, "sources": ["a"] * 5_000}}),
        (LOG_SOURCES, "POST", {"body": {**CLOUDWATCH, "type": []}}),
        (item, "PUT", {"path_parameters": {"id": source_id}, "body": {"name": "\ud800"}}),
    ]

    statuses = []
    for path, method, parts in requests:
        case = api_schema[path][method].Case(**parts)
        response = case.call_and_validate(
            base_url=emulator.url, headers=auth(emulator.api_key), checks=CHECKS
        )
        statuses.append(response.status_code)

    assert statuses == [413, 413, 400, 400, 400]
    operations = api_schema.raw_schema["paths"]
    assert "413" in operations[LOG_SOURCES]["post"]["responses"]
    assert "413" in operations[item]["put"]["responses"]
