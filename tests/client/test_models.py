"""The offline validation `check` runs: each type's valid body and each way inputs can be wrong."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown

from samples import CREDENTIALS, ROTATED, SERVICE_ACCOUNT, SOURCES, TYPES
from sigsentry_pulumi._models import LogSourceRecord
from sigsentry_pulumi._rules import Problem, validate_inputs
from sigsentry_pulumi.provider import LogSourceProvider


def inputs(source_type: str = "cloudwatch", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": source_type,
        "name": f"prod-{source_type}",
        "credentials": dict(CREDENTIALS[source_type]),
        "sources": list(SOURCES[source_type]),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def unknown() -> Any:
    """A value a preview does not know yet (pulumi's `Unknown` is untyped)."""
    return Unknown()  # type: ignore[no-untyped-call]


def fields(problems: list[Problem]) -> list[str]:
    return [p.field for p in problems]


@pytest.mark.parametrize("source_type", TYPES)
def test_each_types_valid_body_passes(source_type: str) -> None:
    assert validate_inputs(inputs(source_type)) == []


@pytest.mark.parametrize(
    ("source_type", "credentials"),
    [
        ("cloudwatch", {**CREDENTIALS["cloudwatch"], "sessionToken": "tok"}),
        ("loki", {"host": "http://loki.internal:3100"}),
        ("loki", {"host": "https://loki.example.com", "apiKey": "k", "orgId": "o"}),
        ("elastic", {"host": "https://es.example.com", "username": "u", "password": "p"}),
        ("elastic", ROTATED["elastic"]),
    ],
)
def test_optional_credential_keys_and_auth_forms_pass(
    source_type: str, credentials: dict[str, str]
) -> None:
    assert validate_inputs(inputs(source_type, credentials=credentials)) == []


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"type": None}, "type", "required"),
        ({"type": "kafka"}, "type", "cloudwatch, datadog"),
        ({"name": None}, "name", "required"),
        ({"name": "   "}, "name", "empty"),
        ({"name": "x" * 256}, "name", "255"),
        ({"name": 7}, "name", "string"),
        ({"sources": None}, "sources", "required"),
        ({"sources": []}, "sources", "at least one"),
        ({"sources": "one"}, "sources", "list"),
        ({"sources": [f"s{i}" for i in range(101)]}, "sources", "100"),
        ({"sources": ["a", ""]}, "sources[1]", "non-empty"),
        ({"sources": ["a", "x" * 1025]}, "sources[1]", "1024"),
        ({"sources": ["a", "b", "a"]}, "sources[2]", "twice"),
        ({"credentials": None}, "credentials", "accessKeyId, secretAccessKey"),
        ({"credentials": "AKIA:secret"}, "credentials", "map"),
        ({"isActive": "yes"}, "isActive", "true or false"),
        ({"verify": 1}, "verify", "true or false"),
        ({"projectId": ""}, "projectId", "prj_"),
        ({"region": "us-east-1"}, "region", "unknown property"),
    ],
)
def test_each_invalid_field_gives_one_failure_naming_it(
    overrides: dict[str, Any], field: str, words: str
) -> None:
    body = inputs(**{k: v for k, v in overrides.items() if v is not None})
    for key, value in overrides.items():
        if value is None:
            body.pop(key)
    problems = validate_inputs(body)
    assert fields(problems) == [field]
    assert words in problems[0].reason


@pytest.mark.parametrize(
    ("source_type", "credentials", "expected"),
    [
        ("cloudwatch", {"accessKeyId": "AKIA"}, ["credentials.secretAccessKey"]),
        ("cloudwatch", {**CREDENTIALS["cloudwatch"], "region": "eu"}, ["credentials.region"]),
        (
            "cloudwatch",
            {**CREDENTIALS["cloudwatch"], "sessionToken": ""},
            ["credentials.sessionToken"],
        ),
        ("datadog", {"apiKey": "k"}, ["credentials.appKey"]),
        ("datadog", {}, ["credentials.apiKey", "credentials.appKey"]),
        ("loki", {"orgId": "o"}, ["credentials.host"]),
        ("loki", {"host": "loki.example.com"}, ["credentials.host"]),
        ("loki", {"host": "ftp://loki.example.com"}, ["credentials.host"]),
        ("splunk", {"host": "https://s.example.com"}, ["credentials.token"]),
        ("splunk", {"host": "/relative", "token": "t"}, ["credentials.host"]),
        ("elastic", {"host": "https://es.example.com"}, ["credentials"]),
        ("elastic", {"host": "https://es.example.com", "username": "u"}, ["credentials.password"]),
        ("elastic", {"host": "https://es.example.com", "password": "p"}, ["credentials.username"]),
        (
            "elastic",
            {"host": "https://es.example.com", "username": "u", "password": "p", "apiKey": "k"},
            ["credentials.apiKey"],
        ),
        (
            "elastic",
            {"host": "https://es.example.com", "token": "t", "apiKey": "k"},
            ["credentials.token"],
        ),
        ("gcp_logging", {"serviceAccountJson": "not json"}, ["credentials.serviceAccountJson"]),
        ("gcp_logging", {"serviceAccountJson": "[1, 2]"}, ["credentials.serviceAccountJson"]),
        (
            "gcp_logging",
            {"serviceAccountJson": json.dumps({"type": "service_account", "project_id": "p"})},
            ["credentials.serviceAccountJson"],
        ),
        ("gcp_logging", {}, ["credentials.serviceAccountJson"]),
    ],
)
def test_each_credential_fault_is_named_by_its_key(
    source_type: str, credentials: dict[str, str], expected: list[str]
) -> None:
    problems = validate_inputs(inputs(source_type, credentials=credentials))
    assert fields(problems) == expected


def test_every_problem_is_reported_not_just_the_first() -> None:
    body = {"type": "datadog", "name": "", "sources": [], "credentials": {"apiKey": ""}}
    assert fields(validate_inputs(body)) == [
        "name",
        "sources",
        "credentials.apiKey",
        "credentials.appKey",
    ]


def test_service_account_failure_names_missing_fields_not_values() -> None:
    account = json.dumps({"type": "service_account", "private_key": "PRIVATE-KEY-MATERIAL"})
    problems = validate_inputs(inputs("gcp_logging", credentials={"serviceAccountJson": account}))
    assert "project_id, client_email" in problems[0].reason
    assert "PRIVATE-KEY-MATERIAL" not in problems[0].reason


def test_no_failure_quotes_a_credential_value() -> None:
    secret = "wJalrXUtnFEMI-do-not-print"
    body = inputs(
        "loki", credentials={"host": secret, "apiKey": secret, "bogus": secret}, type="loki"
    )
    problems = validate_inputs(body)
    assert problems
    assert all(secret not in p.reason and secret not in p.field for p in problems)


@pytest.mark.parametrize(
    "overrides",
    [
        {"type": unknown()},
        {"name": unknown()},
        {"sources": unknown()},
        {"sources": ["/a", unknown()]},
        {"credentials": unknown()},
        {"credentials": {"accessKeyId": unknown(), "secretAccessKey": unknown()}},
        {"isActive": unknown(), "verify": unknown(), "projectId": unknown()},
    ],
)
def test_values_unknown_in_preview_are_skipped(overrides: dict[str, Any]) -> None:
    assert validate_inputs(inputs(**overrides)) == []


def test_unknown_type_still_checks_what_it_can() -> None:
    problems = validate_inputs(inputs(type=unknown(), sources=[]))
    assert fields(problems) == ["sources"]


def test_record_parses_the_vendor_pages_post_response_without_project_or_updated_at() -> None:
    record = LogSourceRecord.model_validate(
        {
            "id": "ls_a1b2c3d4-0000-4000-8000-000000000000",
            "tenantId": "tnt_x1y2",
            "type": "cloudwatch",
            "name": "prod-cloudwatch",
            "sources": ["/aws/lambda/checkout-api"],
            "isActive": True,
            "createdAt": "2026-04-25T14:30:12Z",
        }
    )
    assert record.project_id is None and record.tenant_id == "tnt_x1y2"


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.text(max_size=30) | st.integers(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
# text that JSON can carry (`"\ud800"`) but that is not Unicode, so no API can store it
lone_surrogates = st.sampled_from(["\ud800", "\udfff", "ok\udc00ok"])
maybe_unknown = json_values | st.builds(Unknown) | lone_surrogates
credential_maps = st.dictionaries(
    st.sampled_from(
        [
            "accessKeyId",
            "secretAccessKey",
            "sessionToken",
            "apiKey",
            "appKey",
            "host",
            "orgId",
            "token",
            "username",
            "password",
            "serviceAccountJson",
            "other",
        ]
    ),
    st.text(max_size=40)
    | st.builds(Unknown)
    | st.integers()
    | st.just(SERVICE_ACCOUNT)
    | lone_surrogates
    | st.just("[" * 100_000),
    max_size=5,
)
any_inputs = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(TYPES) | maybe_unknown,
        "name": st.text(max_size=300) | maybe_unknown,
        "credentials": credential_maps | maybe_unknown,
        "sources": st.lists(st.text(max_size=20) | maybe_unknown, max_size=6) | maybe_unknown,
        "isActive": maybe_unknown,
        "verify": maybe_unknown,
        "projectId": maybe_unknown,
        "__provider": st.text(max_size=10),
        "extra": json_values,
    },
)


# derandomized: the same examples on every run, so a failure is never a one-off
DETERMINISTIC = settings(derandomize=True, database=None, max_examples=200)


@DETERMINISTIC
@given(any_inputs)
def test_check_never_raises_it_returns_failures_or_none(news: dict[str, Any]) -> None:
    result = LogSourceProvider().check({}, news)
    assert all(isinstance(f.property, str) and f.reason for f in result.failures)
    assert result.inputs["isActive"] is not None


@DETERMINISTIC
@given(any_inputs, any_inputs)
def test_diff_never_raises_and_unknowns_always_count_as_changes(
    olds: dict[str, Any], news: dict[str, Any]
) -> None:
    result = LogSourceProvider().diff("ls_x", olds, news)
    assert isinstance(result.changes, bool)
    assert set(result.replaces or []) <= {"type", "projectId"}
    if any(isinstance(news.get(k), Unknown) for k in ("type", "name", "sources", "credentials")):
        assert result.changes is True


@pytest.mark.parametrize("number", [1, 1.0, 7.5])
def test_a_numeric_credential_is_told_to_be_quoted_without_showing_it(number: float) -> None:
    # Pulumi sends every number as a float: `orgId=1` arrives as 1.0.
    credentials = {**CREDENTIALS["loki"], "orgId": number}
    (problem,) = validate_inputs(inputs("loki", credentials=credentials))
    assert problem.field == "credentials.orgId"
    assert "not a number: put it in quotes" in problem.reason
    assert str(number) not in problem.reason


@pytest.mark.parametrize(
    ("value", "kind"), [(1.0, "a number"), ("true", "a string"), ([True], "a list")]
)
def test_a_flag_that_is_not_a_boolean_says_what_it_got(value: object, kind: str) -> None:
    (problem,) = validate_inputs(inputs(isActive=value))
    assert problem == Problem("isActive", f"isActive must be true or false (a boolean), not {kind}")


def test_a_type_that_is_not_a_string_is_named_plainly() -> None:
    (problem,) = validate_inputs(inputs(type=3.0, credentials={}))
    assert problem.field == "type" and problem.reason.startswith(
        "type must be a string: use one of"
    )


# Each input an attacker's probe showed to crash validation: check names the field instead.
HOSTILE: list[tuple[str, dict[str, Any], str]] = [
    ("type is a list", {"type": [], "credentials": {}}, "type"),
    ("type is a map", {"type": {}, "credentials": {}}, "type"),
    (
        "serviceAccountJson is a recursion bomb",
        {"type": "gcp_logging", "credentials": {"serviceAccountJson": "[" * 100_000}},
        "credentials.serviceAccountJson",
    ),
    ("name holds a lone surrogate", {"name": "prod-\ud800"}, "name"),
    ("a source holds a lone surrogate", {"sources": ["/aws/ok", "\udfff"]}, "sources[1]"),
    (
        "a credential holds a lone surrogate",
        {"credentials": {"accessKeyId": "AKIA\udc00", "secretAccessKey": "s"}},
        "credentials.accessKeyId",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "field"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE]
)
def test_check_names_the_field_of_hostile_inputs_instead_of_raising(
    overrides: dict[str, Any], field: str
) -> None:
    result = LogSourceProvider().check({}, inputs(**overrides))
    assert [f.property for f in result.failures] == [field]
    (failure,) = result.failures
    assert "AKIA" not in failure.reason
    failure.reason.encode("utf-8")  # the message itself is text the engine can carry


def test_a_huge_list_of_duplicate_sources_is_one_failure() -> None:
    result = LogSourceProvider().check({}, inputs(sources=["/a"] * 1_000_000))
    assert [(f.property, f.reason) for f in result.failures] == [
        ("sources", "sources has 1000000 entries: split it, at most 100")
    ]
