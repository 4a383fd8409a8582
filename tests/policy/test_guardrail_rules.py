"""Each guardrail policy on its own: a resource that passes, one that fails, and the message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from sigsentry_pulumi import policies as guardrails

# The conftest fixtures `run_policy` and `current_stack`.
RunPolicy = Callable[..., list[tuple[str, str | None]]]
SetStack = Callable[[str], None]

SECRET_MARKERS = ("AKIA-SECRET-1", "wJalr-SECRET-2", "hunter2-SECRET-3", "tok-SECRET-4")


def loki(host: str = "https://loki.example.com", **extra: Any) -> dict[str, Any]:
    return {
        "type": "loki",
        "name": "prod-loki",
        "credentials": {"host": host, "apiKey": "hunter2-SECRET-3"},
        "sources": ['{app="checkout-api"}'],
        **extra,
    }


def cloudwatch(**credentials: str) -> dict[str, Any]:
    return {
        "type": "cloudwatch",
        "name": "prod-cloudwatch",
        "credentials": {
            "accessKeyId": "AKIA-SECRET-1",
            "secretAccessKey": "wJalr-SECRET-2",
            **credentials,
        },
        "sources": ["/aws/lambda/checkout-api"],
    }


def messages(violations: list[tuple[str, str | None]]) -> list[str]:
    return [message for message, _urn in violations]


# --- https-hosts ---


@pytest.mark.parametrize("source_type", ["loki", "splunk", "elastic"])
def test_https_host_passes(run_policy: RunPolicy, source_type: str) -> None:
    props = {**loki(), "type": source_type}
    assert run_policy(guardrails.https_hosts, {"src": props}) == []


@pytest.mark.parametrize("source_type", ["loki", "splunk", "elastic"])
def test_plain_http_host_is_reported_without_quoting_the_host(
    run_policy: RunPolicy, source_type: str
) -> None:
    props = {**loki(host="http://user:hunter2-SECRET-3@logs.example.com"), "type": source_type}
    [message] = messages(run_policy(guardrails.https_hosts, {"src": props}))
    assert f"log source 'prod-loki' (type {source_type})" in message
    assert "credentials.host uses plain http://" in message
    assert "Set credentials.host to an https:// URL" in message
    assert "hunter2" not in message and "logs.example.com" not in message


def test_host_without_scheme_is_reported(run_policy: RunPolicy) -> None:
    [message] = messages(run_policy(guardrails.https_hosts, {"src": loki(host="loki.internal")}))
    assert "is not an https URL" in message and "loki.internal" not in message


def test_https_hosts_ignores_types_without_a_host(run_policy: RunPolicy) -> None:
    assert run_policy(guardrails.https_hosts, {"src": cloudwatch()}) == []


# --- cloudwatch-session-token ---


def test_short_lived_cloudwatch_credentials_pass(run_policy: RunPolicy) -> None:
    props = cloudwatch(sessionToken="tok-SECRET-4")
    assert run_policy(guardrails.cloudwatch_session_token, {"src": props}) == []


def test_cloudwatch_without_session_token_is_reported(run_policy: RunPolicy) -> None:
    [message] = messages(run_policy(guardrails.cloudwatch_session_token, {"src": cloudwatch()}))
    assert "log source 'prod-cloudwatch' (type cloudwatch)" in message
    assert "no sessionToken" in message and "aws sts assume-role" in message
    assert not any(marker in message for marker in SECRET_MARKERS)


def test_session_token_policy_is_advisory_by_default() -> None:
    assert guardrails.cloudwatch_session_token.enforcement_level is EnforcementLevel.ADVISORY


def test_session_token_policy_ignores_other_types(run_policy: RunPolicy) -> None:
    assert run_policy(guardrails.cloudwatch_session_token, {"src": loki()}) == []


# --- verify-enabled ---


def test_verify_is_not_required_when_no_stack_is_listed(
    run_policy: RunPolicy, current_stack: SetStack
) -> None:
    current_stack("prod")
    assert run_policy(guardrails.verify_enabled, {"src": loki(verify=False)}) == []


def test_verify_true_passes_on_a_listed_stack(
    run_policy: RunPolicy, current_stack: SetStack
) -> None:
    current_stack("prod-eu")
    config = {"stacks": ["prod-*"]}
    assert run_policy(guardrails.verify_enabled, {"src": loki(verify=True)}, config=config) == []


@pytest.mark.parametrize("verify", [{"verify": False}, {}], ids=["false", "missing"])
def test_verify_false_or_missing_is_reported_on_a_listed_stack(
    run_policy: RunPolicy, current_stack: SetStack, verify: dict[str, bool]
) -> None:
    current_stack("prod-eu")
    props = {**loki(), **verify}
    config = {"stacks": ["staging", "prod-*"]}
    [message] = messages(run_policy(guardrails.verify_enabled, {"src": props}, config=config))
    assert "verify is not true on stack 'prod-eu'" in message and "Set verify=True" in message


def test_verify_is_not_required_on_an_unlisted_stack(
    run_policy: RunPolicy, current_stack: SetStack
) -> None:
    current_stack("dev")
    config = {"stacks": ["prod"]}
    assert run_policy(guardrails.verify_enabled, {"src": loki(verify=False)}, config=config) == []


# --- name-pattern ---


def test_default_name_pattern_accepts_kebab_case(run_policy: RunPolicy) -> None:
    assert run_policy(guardrails.name_pattern, {"src": loki()}) == []


def test_name_outside_the_default_pattern_is_reported(run_policy: RunPolicy) -> None:
    props = {**loki(), "name": "Prod Loki!"}
    [message] = messages(run_policy(guardrails.name_pattern, {"src": props}))
    assert "log source 'Prod Loki!'" in message
    assert guardrails.DEFAULT_NAME_PATTERN in message and "Rename the source" in message


def test_configured_pattern_is_used_and_the_resource_name_stands_in_for_a_missing_name(
    run_policy: RunPolicy,
) -> None:
    config = {"pattern": r"^team-[a-z]+-.+$"}
    props = {key: value for key, value in loki().items() if key != "name"}
    good = run_policy(guardrails.name_pattern, {"team-obs-loki": props}, config=config)
    bad = run_policy(guardrails.name_pattern, {"obs-loki": props}, config=config)
    assert good == []
    [message] = messages(bad)
    assert "log source 'obs-loki'" in message and r"^team-[a-z]+-.+$" in message


def test_invalid_pattern_in_config_is_reported_as_a_config_problem(run_policy: RunPolicy) -> None:
    [message] = messages(
        run_policy(guardrails.name_pattern, {"src": loki()}, config={"pattern": "("})
    )
    assert "name-pattern policy's config is invalid" in message and "Fix `pattern`" in message


# --- no-catch-all-sources ---


def test_explicit_selectors_pass(run_policy: RunPolicy) -> None:
    props = {**loki(), "sources": ['{app="checkout-api"}', "logs-checkout-*", "/aws/lambda/x"]}
    assert run_policy(guardrails.no_catch_all_sources, {"src": props}) == []


@pytest.mark.parametrize("selector", ["*", ".*", "{}", " { } ", "**", ".+", "*:*"])
def test_catch_all_selector_is_reported(run_policy: RunPolicy, selector: str) -> None:
    props = {**loki(), "sources": ["main", selector]}
    [message] = messages(run_policy(guardrails.no_catch_all_sources, {"src": props}))
    assert repr(selector) in message and "catch-all selector" in message
    assert "List the log groups, indexes or label selectors" in message


# --- max-sources ---


def test_source_count_at_the_default_limit_passes(run_policy: RunPolicy) -> None:
    props = {**loki(), "sources": [f"index-{i}" for i in range(guardrails.DEFAULT_MAX_SOURCES)]}
    assert run_policy(guardrails.max_sources, {"src": props}) == []


def test_source_count_over_the_default_limit_is_reported(run_policy: RunPolicy) -> None:
    count = guardrails.DEFAULT_MAX_SOURCES + 1
    props = {**loki(), "sources": [f"index-{i}" for i in range(count)]}
    [message] = messages(run_policy(guardrails.max_sources, {"src": props}))
    assert f"lists {count} sources, more than the allowed 20" in message
    assert "raise maxSources" in message


def test_configured_limit_arrives_as_a_float_and_still_applies(run_policy: RunPolicy) -> None:
    props = {**loki(), "sources": ["a", "b", "c"]}
    [message] = messages(
        run_policy(guardrails.max_sources, {"src": props}, config={"maxSources": 2.0})
    )
    assert "lists 3 sources, more than the allowed 2" in message


# --- unique-type-and-name (stack policy) ---


def test_distinct_type_and_name_pairs_pass(run_policy: RunPolicy) -> None:
    resources = {
        "a": loki(),
        "b": {**loki(), "name": "prod-loki-2"},
        "c": {**loki(), "type": "splunk"},  # same name, other type
    }
    assert run_policy(guardrails.unique_type_and_name, resources) == []


def test_duplicate_type_and_name_is_reported_once_against_the_second_resource(
    run_policy: RunPolicy, urn_of: Callable[..., str]
) -> None:
    resources = {"first": loki(), "second": loki(), "other": cloudwatch()}
    [(message, urn)] = run_policy(guardrails.unique_type_and_name, resources)
    assert urn == urn_of("second")
    assert urn_of("first") in message and "type 'loki' and name 'prod-loki'" in message
    assert "Rename one of them" in message
    assert not any(marker in message for marker in SECRET_MARKERS)


def test_resource_name_counts_as_the_name_when_none_is_given(run_policy: RunPolicy) -> None:
    unnamed = {key: value for key, value in loki().items() if key != "name"}
    resources = {"prod-loki": unnamed, "explicit": loki()}
    assert len(run_policy(guardrails.unique_type_and_name, resources)) == 1


# --- across policies ---


@pytest.mark.parametrize("policy", guardrails.RESOURCE_POLICIES, ids=lambda p: p.name)
def test_other_resource_types_are_ignored(
    run_policy: RunPolicy, current_stack: SetStack, policy: ResourceValidationPolicy
) -> None:
    current_stack("prod")
    props = {**loki(host="http://x"), "sources": ["*"] * 30, "name": "BAD NAME"}
    assert (
        run_policy(policy, {"src": props}, config={"stacks": ["*"]}, type_="aws:s3/bucket:Bucket")
        == []
    )


@pytest.mark.parametrize("policy", guardrails.RESOURCE_POLICIES, ids=lambda p: p.name)
def test_no_message_quotes_a_credential(
    run_policy: RunPolicy, current_stack: SetStack, policy: ResourceValidationPolicy
) -> None:
    current_stack("prod")
    worst = {
        **cloudwatch(),
        "credentials": {
            "host": "http://hunter2-SECRET-3@h",
            "accessKeyId": "AKIA-SECRET-1",
            "secretAccessKey": "wJalr-SECRET-2",
        },
        "sources": ["*"] * 30,
        "name": "BAD NAME",
    }
    config = {"stacks": ["*"]} if policy is guardrails.verify_enabled else {}
    found = [
        message
        for source_type in ("cloudwatch", "loki")
        for message in messages(
            run_policy(policy, {"src": {**worst, "type": source_type}}, config=config)
        )
    ]
    assert found, "the worst resource should break every policy for one of the two types"
    assert not any(marker in message for message in found for marker in SECRET_MARKERS)


def test_the_duplicate_reported_does_not_depend_on_the_order_of_resources(
    run_policy: RunPolicy, urn_of: Callable[..., str]
) -> None:
    forward = run_policy(guardrails.unique_type_and_name, {"a-first": loki(), "b-second": loki()})
    backward = run_policy(guardrails.unique_type_and_name, {"b-second": loki(), "a-first": loki()})
    assert [urn for _, urn in forward] == [urn for _, urn in backward] == [urn_of("b-second")]
