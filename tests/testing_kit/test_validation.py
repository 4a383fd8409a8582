"""`validate_log_source`: LogSource's keyword arguments checked with no Pulumi machinery, with the
problems the provider's check reports for the same resource."""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
import pytest

from sigsentry_pulumi import LogSourceProvider
from sigsentry_pulumi.testing import Problem, validate_log_source
from sigsentry_pulumi.validation import check_inputs

CLOUDWATCH: dict[str, Any] = {
    "type": "cloudwatch",
    "credentials": {"accessKeyId": "AKIAKIT", "secretAccessKey": "wJalr-validation-secret"},
    "sources": ["/aws/lambda/checkout-api"],
}


def fields(problems: list[Problem]) -> list[str]:
    return [p.field for p in problems]


def test_good_arguments_have_no_problems() -> None:
    assert validate_log_source("checkout-logs", **CLOUDWATCH) == []
    assert validate_log_source(**CLOUDWATCH, name="checkout", is_active=False, verify=True) == []


def test_a_misspelt_type_names_type_and_lists_the_valid_types() -> None:
    [problem] = validate_log_source("x", **{**CLOUDWATCH, "type": "cloudwach"})
    assert problem == Problem(
        "type",
        "type 'cloudwach' is not supported: use one of cloudwatch, datadog, loki, splunk, "
        "elastic, gcp_logging",
    )


def test_a_missing_credential_key_is_named_without_showing_a_value() -> None:
    problems = validate_log_source(
        "x", type="cloudwatch", credentials={"accessKeyId": "AKIAKIT"}, sources=["a"]
    )
    assert problems == [
        Problem("credentials.secretAccessKey", "required for type cloudwatch: add it")
    ]
    problems = validate_log_source(
        "x",
        type="datadog",
        credentials={"apiKey": "dd-secret-1", "appkey": "dd-secret-2"},
        sources=["a"],
    )
    assert fields(problems) == ["credentials.appkey", "credentials.appKey"]
    assert not any("dd-secret" in p.reason for p in problems)


def test_python_names_map_to_the_fields_the_provider_reports() -> None:
    problems = validate_log_source(
        **CLOUDWATCH,
        name="",
        is_active="yes",
        project_id=" ",
        account="sigsentry",
        adopt_id="src-1",
    )
    assert fields(problems) == ["name", "isActive", "projectId", "adoptId", "account"]


def test_outputs_count_as_not_known_yet_and_are_skipped() -> None:
    # Outputs need an event loop, as a program has: a private one, whatever ran before.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        secret = pulumi.Output.from_input("wJalr")
        problems = validate_log_source(
            "x",
            type="cloudwatch",
            credentials={"accessKeyId": "AKIAKIT", "secretAccessKey": secret},
            sources=pulumi.Output.from_input(["a", ""]),
        )
        assert problems == []
        [problem] = validate_log_source(
            "x", type="cloudwatch", credentials={"accessKeyId": secret}, sources=[secret]
        )
        assert problem.field == "credentials.secretAccessKey"
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_name_defaults_to_the_resource_name_and_is_skipped_without_one() -> None:
    assert validate_log_source(**CLOUDWATCH) == []
    assert fields(validate_log_source(" ", **CLOUDWATCH)) == ["name"]


@pytest.mark.parametrize(
    "news",
    [
        {"type": "cloudwach", "name": "x", "credentials": {}, "sources": ["a"]},
        {
            "type": "elastic",
            "name": "x",
            "credentials": {"host": "h", "username": "u"},
            "sources": [],
        },
        {
            "type": "gcp_logging",
            "name": "x",
            "credentials": {"serviceAccountJson": "{}"},
            "sources": ["a"],
            "verify": 1.0,
        },
        {**CLOUDWATCH, "name": "x", "account": "9lives", "adoptId": "ls_"},
    ],
)
def test_check_inputs_is_what_the_providers_check_reports(news: dict[str, Any]) -> None:
    inputs, problems = check_inputs(news)
    checked = LogSourceProvider().check({}, news)
    assert checked.inputs == inputs
    assert [(p.field, p.reason) for p in problems] == [
        (f.property, f.reason) for f in checked.failures
    ]
    assert problems  # each case is a bad one


def test_check_inputs_fills_the_defaults_and_drops_nones() -> None:
    inputs, problems = check_inputs({**CLOUDWATCH, "name": "x", "projectId": None})
    assert problems == []
    assert inputs == {**CLOUDWATCH, "name": "x", "isActive": True, "verify": False}


def test_check_inputs_refuses_one_source_adopted_by_two_resources() -> None:
    adopters: dict[str, str] = {}
    first = {**CLOUDWATCH, "name": "a", "adoptId": "ls_1", "resourceIdentity": "p/s/t/first"}
    second = {**first, "resourceIdentity": "p/s/t/second"}
    assert check_inputs(first, adopters=adopters)[1] == []
    assert check_inputs(first, adopters=adopters)[1] == []  # the same resource again: fine
    [problem] = check_inputs(second, adopters=adopters)[1]
    assert problem.field == "adoptId"
    assert "already adopted by the resource 'first'" in problem.reason
