"""The `sigsentry-guardrails` policy pack (policy/) in previews of the real Pulumi CLI: a compliant
program passes, every policy fires on the bad program, mandatory violations fail the preview and
advisory ones only warn, the pack config changes levels, stacks and thresholds, and no credential
reaches the policy output."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.policy_support import (
    BAD_PROGRAM,
    BAD_PROJECT,
    PACK,
    PACK_NAME,
    Program,
    Violation,
    by_policy,
    folder_program,
    log_source_program,
    violations,
    write_policy_config,
)
from cli.program_config import all_encodings, all_types_config, bad_program_config
from cli.stacks import CREDENTIAL_A, CREDENTIAL_B, changes, example_program, op_counts, project_name
from raw_api import list_sources

pytestmark = pytest.mark.slow

# Each policy of policy/sigsentry_guardrails.py: its level under the default config, the resource
# of the bad program that breaks it, and a fragment of its message.
BAD_PROGRAM_VIOLATIONS = {
    "https-hosts": ("mandatory", "insecure-loki", "credentials.host uses plain http://"),
    "verify-enabled": ("mandatory", "unverified", "verify is not true on stack 'prod'"),
    "cloudwatch-session-token": ("advisory", "static-keys", "credentials carry no sessionToken"),
    "name-pattern": ("advisory", "bad-name", "the name does not match the required pattern"),
    "no-catch-all-sources": ("mandatory", "everything", "sources contains a catch-all selector"),
    "max-sources": ("mandatory", "too-many", "lists 21 sources, more than the allowed 20"),
    "unique-type-and-name": ("mandatory", "prod-gcp-copy", "both have type 'gcp_logging'"),
}


def preview_with_pack(
    stack: Any, tmp_path: Path, config: dict[str, Any] | None = None
) -> tuple[Any, list[Violation]]:
    """A preview with the pack (and `config` as its --policy-pack-config): its result and the
    violations the engine reported."""
    events: list[Any] = []
    configs = [] if config is None else [write_policy_config(tmp_path / "policy-config", config)]
    result = stack.preview(
        policy_packs=[str(PACK)], policy_pack_configs=configs, on_event=events.append
    )
    return result, violations(events)


def failing_preview_with_pack(
    stack: Any, tmp_path: Path, config: dict[str, Any] | None = None
) -> tuple[str, list[Violation]]:
    """A preview the pack must fail: the CLI's output (CommandError) and the violations."""
    from pulumi import automation as auto

    events: list[Any] = []
    configs = [] if config is None else [write_policy_config(tmp_path / "policy-config", config)]
    with pytest.raises(auto.CommandError) as failed:
        stack.preview(policy_packs=[str(PACK)], policy_pack_configs=configs, on_event=events.append)
    text = str(failed.value)
    assert re.search(r"\bcode: [1-9]", text), "the CLI did not exit non-zero"
    return text, violations(events)


def assert_no_secret(texts: dict[str, str], *secrets: str) -> None:
    forms = all_encodings(secrets)
    assert [where for where, text in texts.items() if any(f in text for f in forms)] == []


def test_all_types_example_passes_every_policy(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, tmp_path: Path
) -> None:
    config = all_types_config()
    stack = make_stack(
        example_program("all-types"),
        project=project_name("all-types"),
        config=config.plain,
        secrets=config.secret,
    )
    preview, found = preview_with_pack(stack, tmp_path)
    assert found == []
    assert op_counts(preview.change_summary) == {"create": 7}
    # The pack did run: the engine lists it, passed, under "Policies".
    assert f"Policies:\n    \N{WHITE HEAVY CHECK MARK} {PACK_NAME}@v0.1.0" in preview.stdout
    assert list_sources(api) == []


def test_bad_program_fires_every_policy_and_mandatory_ones_fail_the_preview(
    make_stack: Callable[..., Any], emulator: Any, tmp_path: Path
) -> None:
    config = bad_program_config()
    stack = make_stack(
        folder_program(BAD_PROGRAM), project=BAD_PROJECT, stack_name="prod", secrets=config.secret
    )
    text, found = failing_preview_with_pack(
        stack, tmp_path, {"verify-enabled": {"stacks": ["prod"]}}
    )
    grouped = by_policy(found)
    assert sorted(grouped) == sorted(BAD_PROGRAM_VIOLATIONS)
    for policy, (level, resource, fragment) in BAD_PROGRAM_VIOLATIONS.items():
        (violation,) = grouped[policy]
        assert (violation.level, violation.resource) == (level, resource), policy
        assert fragment in violation.message, policy
        # The CLI prints each violation as "[level] [severity: ...]  policy  (type: resource)".
        assert f"[{level}]" in text and f"{policy}  (" in text, policy
        assert fragment in text, policy
    assert "preview failed" in text
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []
    assert_no_secret(
        {"preview output": text, "policy events": repr(found)},
        *config.secret_values(),
        emulator.api_key,
        CREDENTIAL_A,
        CREDENTIAL_B,
    )


def test_advisory_violations_warn_and_the_update_goes_ahead(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, tmp_path: Path
) -> None:
    # Long-lived AWS keys and a name with capitals: both advisory by default.
    program = log_source_program(name="Prod CloudWatch", session_token=False)
    stack = make_stack(program)
    preview, found = preview_with_pack(stack, tmp_path)
    assert {(v.policy, v.level) for v in found} == {
        ("cloudwatch-session-token", "advisory"),
        ("name-pattern", "advisory"),
    }
    assert "[advisory]" in preview.stdout and "cloudwatch-session-token" in preview.stdout

    events: list[Any] = []
    up = stack.up(policy_packs=[str(PACK)], show_secrets=False, on_event=events.append)
    assert changes(up) == {"create": 2}
    assert {v.policy for v in violations(events)} == {"cloudwatch-session-token", "name-pattern"}
    assert [s["name"] for s in list_sources(api)] == ["Prod CloudWatch"]
    assert_no_secret(
        {"preview": preview.stdout, "up": up.stdout},
        emulator.api_key,
        CREDENTIAL_A,
        CREDENTIAL_B,
    )


@pytest.mark.parametrize(("stack_name", "fires"), [("prod", True), ("dev", False)])
def test_verify_enabled_applies_only_to_the_stacks_in_its_config(
    stack_name: str, fires: bool, make_stack: Callable[..., Any], tmp_path: Path
) -> None:
    stack = make_stack(log_source_program(verify=None), stack_name=stack_name)
    config = {"verify-enabled": {"stacks": ["prod", "prod-*"]}}
    if fires:
        text, found = failing_preview_with_pack(stack, tmp_path, config)
        assert [(v.policy, v.level, v.resource) for v in found] == [
            ("verify-enabled", "mandatory", "prod-cloudwatch")
        ]
        assert "verify is not true on stack 'prod'" in text
    else:
        _, found = preview_with_pack(stack, tmp_path, config)
        assert found == []


def test_verify_true_satisfies_verify_enabled_on_prod(
    make_stack: Callable[..., Any], tmp_path: Path
) -> None:
    stack = make_stack(log_source_program(verify=True), stack_name="prod")
    _, found = preview_with_pack(stack, tmp_path, {"verify-enabled": {"stacks": ["prod"]}})
    assert found == []


def test_name_pattern_made_mandatory_fails_the_preview(
    make_stack: Callable[..., Any], tmp_path: Path
) -> None:
    stack = make_stack(log_source_program(name="Prod CloudWatch"))
    _, advisory = preview_with_pack(stack, tmp_path)
    assert [(v.policy, v.level) for v in advisory] == [("name-pattern", "advisory")]

    text, found = failing_preview_with_pack(
        stack, tmp_path, {"name-pattern": {"enforcementLevel": "mandatory"}}
    )
    assert [(v.policy, v.level) for v in found] == [("name-pattern", "mandatory")]
    assert "log source 'Prod CloudWatch' (type cloudwatch): the name does not match" in text


def test_name_pattern_uses_the_configured_pattern(
    make_stack: Callable[..., Any], tmp_path: Path
) -> None:
    stack = make_stack(log_source_program(name="staging-cloudwatch"))
    pattern = "^prod-[a-z-]+$"
    _, found = preview_with_pack(stack, tmp_path, {"name-pattern": {"pattern": pattern}})
    (violation,) = found
    assert violation.policy == "name-pattern"
    assert f"does not match the required pattern {pattern}" in violation.message


@pytest.mark.parametrize(("limit", "fires"), [(2, True), (3, False)])
def test_max_sources_follows_its_configured_threshold(
    limit: int, fires: bool, make_stack: Callable[..., Any], tmp_path: Path
) -> None:
    stack = make_stack(log_source_program(sources=["/aws/a", "/aws/b", "/aws/c"]))
    config = {"max-sources": {"maxSources": limit}}
    if fires:
        text, found = failing_preview_with_pack(stack, tmp_path, config)
        assert [(v.policy, v.level) for v in found] == [("max-sources", "mandatory")]
        assert "lists 3 sources, more than the allowed 2" in text
    else:
        _, found = preview_with_pack(stack, tmp_path, config)
        assert found == []


def test_an_invalid_pack_config_is_refused_before_anything_runs(
    make_stack: Callable[..., Any], emulator: Any, tmp_path: Path
) -> None:
    stack = make_stack(log_source_program())
    text, found = failing_preview_with_pack(stack, tmp_path, {"max-sources": {"maxSources": 0}})
    assert found == []
    # The engine checks the config against the pack's schema before it runs the program.
    message = f"validating policy config: {PACK_NAME} 0.1.0  max-sources: maxSources: Must be"
    assert message in text
    assert "greater than or equal to 1" in text
    assert emulator.requests() == []


def test_a_mandatory_violation_stops_up_before_the_api_is_called(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, tmp_path: Path
) -> None:
    from pulumi import automation as auto

    stack = make_stack(log_source_program(sources=["*"]))
    events: list[Any] = []
    with pytest.raises(auto.CommandError) as failed:
        stack.up(policy_packs=[str(PACK)], show_secrets=False, on_event=events.append)
    assert [(v.policy, v.level) for v in violations(events)] == [
        ("no-catch-all-sources", "mandatory")
    ]
    assert "sources contains a catch-all selector ('*')" in str(failed.value)
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []
    assert list_sources(api) == []


def test_a_value_unknown_in_preview_is_judged_at_update_time(
    make_stack: Callable[..., Any], api: httpx.Client, tmp_path: Path
) -> None:
    """tests/policy/unknown_program: `verify` of one source comes from another's id. The preview
    cannot judge it and passes; the update judges the real value (true) and creates both."""
    config = bad_program_config()
    stack = make_stack(
        folder_program(BAD_PROGRAM.parent / "unknown_program"),
        project="sigsentry-policy-unknown",
        stack_name="prod",
        secrets=config.secret,
    )
    policy_config = write_policy_config(
        tmp_path / "policy-config", {"verify-enabled": {"stacks": ["prod"]}}
    )
    events: list[Any] = []
    preview = stack.preview(
        policy_packs=[str(PACK)], policy_pack_configs=[policy_config], on_event=events.append
    )
    assert op_counts(preview.change_summary) == {"create": 3}
    # pulumi-policy notes what it skipped, as an advisory violation.
    (skipped,) = violations(events)
    assert (skipped.policy, skipped.level, skipped.resource) == (
        "verify-enabled",
        "advisory",
        "prod-second",
    )
    assert "can't run policy 'verify-enabled'" in skipped.message
    assert "can't be known during preview" in skipped.message

    events.clear()
    up = stack.up(
        policy_packs=[str(PACK)],
        policy_pack_configs=[policy_config],
        show_secrets=False,
        on_event=events.append,
    )
    assert changes(up) == {"create": 3}
    assert violations(events) == []
    assert sorted(s["name"] for s in list_sources(api)) == ["prod-first", "prod-second"]


def test_all_advisory_lets_the_bad_program_preview_pass_on_a_stack_not_listed(
    make_stack: Callable[..., Any], emulator: Any, tmp_path: Path
) -> None:
    config = bad_program_config()
    stack = make_stack(folder_program(BAD_PROGRAM), project=BAD_PROJECT, secrets=config.secret)
    preview, found = preview_with_pack(
        stack, tmp_path, {"all": "advisory", "verify-enabled": {"stacks": ["prod"]}}
    )
    assert op_counts(preview.change_summary) == {"create": 9}
    # Every policy but verify-enabled (dev is not a listed stack) warns, once, and only warns.
    expected = {p: r for p, (_, r, _) in BAD_PROGRAM_VIOLATIONS.items() if p != "verify-enabled"}
    assert {v.policy: v.resource for v in found} == expected
    assert len(found) == len(expected)
    assert {v.level for v in found} == {"advisory"}
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []


def test_config_disables_a_policy_raises_another_and_moves_a_threshold(
    make_stack: Callable[..., Any], tmp_path: Path
) -> None:
    config = bad_program_config()
    stack = make_stack(
        folder_program(BAD_PROGRAM), project=BAD_PROJECT, stack_name="prod", secrets=config.secret
    )
    text, found = failing_preview_with_pack(
        stack,
        tmp_path,
        {
            "all": "advisory",
            "name-pattern": "disabled",
            "max-sources": {"maxSources": 25},
            "cloudwatch-session-token": {"enforcementLevel": "mandatory"},
            "verify-enabled": {"stacks": ["prod"]},
        },
    )
    levels = {v.policy: v.level for v in found}
    assert "name-pattern" not in levels  # disabled
    assert "max-sources" not in levels  # 21 sources are within 25
    assert levels.pop("cloudwatch-session-token") == "mandatory"  # the one that fails it
    assert set(levels) == {"https-hosts", "verify-enabled", "no-catch-all-sources"} | {
        "unique-type-and-name"
    }
    assert set(levels.values()) == {"advisory"}
    assert "credentials carry no sessionToken" in text


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"verify-enabled": {"stacks": "prod"}},
            "verify-enabled: stacks: Invalid type. Expected: array, given: string",
        ),
        (
            {"max-sources": {"maxSources": "many"}},
            "max-sources: maxSources: Invalid type. Expected: integer, given: string",
        ),
        (
            {"https-hosts": "strict"},
            'parsing enforcement level for "https-hosts": "strict" is not a valid enforcement',
        ),
    ],
    ids=["stacks-not-a-list", "limit-not-a-number", "unknown-level"],
)
def test_a_pack_config_of_the_wrong_shape_is_refused_naming_the_policy_and_field(
    config: dict[str, Any],
    message: str,
    make_stack: Callable[..., Any],
    emulator: Any,
    tmp_path: Path,
) -> None:
    stack = make_stack(log_source_program())
    text, found = failing_preview_with_pack(stack, tmp_path, config)
    assert message in text
    assert found == []
    assert emulator.requests() == []


@pytest.mark.parametrize(
    "config",
    [{"max-source": "mandatory"}, {"max-sources": {"maxSource": 0}}],
    ids=["misspelt-policy", "misspelt-property"],
)
def test_a_misspelt_policy_or_property_in_the_pack_config_is_ignored_by_the_cli(
    config: dict[str, Any], make_stack: Callable[..., Any], tmp_path: Path
) -> None:
    """The CLI checks the config only against the schema of each policy it names, and the
    schemas allow extra properties: a typo leaves the policy at its defaults, silently."""
    stack = make_stack(log_source_program(sources=[f"/aws/{n}" for n in range(21)]))
    text, found = failing_preview_with_pack(stack, tmp_path, config)
    # max-sources still applies, at its default level and limit
    assert [(v.policy, v.level) for v in found] == [("max-sources", "mandatory")]
    assert "lists 21 sources, more than the allowed 20" in text


def host_from_another_source(scheme: str) -> Program:
    """`prod-loki`'s host is made from `prod-leader`'s id: not known until leader exists."""

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import CloudWatchCredentials, LogSource

        config = pulumi.Config()
        aws: CloudWatchCredentials = {
            "accessKeyId": config.require_secret("secretA"),
            "secretAccessKey": config.require_secret("secretB"),
            "sessionToken": config.require_secret("secretB"),
        }
        leader = LogSource(
            "prod-leader", type="cloudwatch", credentials=aws, sources=["/aws/lambda/a"]
        )
        LogSource(
            "prod-loki",
            type="loki",
            credentials={
                "host": leader.id.apply(lambda id_: f"{scheme}://{id_}.example.com"),
                "apiKey": config.require_secret("secretA"),
            },
            sources=['{app="checkout-api"}'],
        )

    return program


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_a_host_unknown_in_preview_is_noted_then_judged_by_the_update(
    scheme: str,
    make_stack: Callable[..., Any],
    emulator: Any,
    api: httpx.Client,
    tmp_path: Path,
) -> None:
    from pulumi import automation as auto

    stack = make_stack(host_from_another_source(scheme))
    preview, found = preview_with_pack(stack, tmp_path)
    assert op_counts(preview.change_summary) == {"create": 3}
    # The preview cannot judge the host: pulumi-policy skips https-hosts with an advisory note.
    (skipped,) = found
    assert (skipped.policy, skipped.level, skipped.resource) == (
        "https-hosts",
        "advisory",
        "prod-loki",
    )
    assert "can't run policy 'https-hosts'" in skipped.message
    assert "can't be known during preview" in skipped.message

    events: list[Any] = []
    if scheme == "https":
        up = stack.up(policy_packs=[str(PACK)], show_secrets=False, on_event=events.append)
        assert changes(up) == {"create": 3}
        assert violations(events) == []
        assert sorted(s["type"] for s in list_sources(api)) == ["cloudwatch", "loki"]
        return
    # At update time the host is known: plain http:// fails the update before loki is created.
    with pytest.raises(auto.CommandError) as failed:
        stack.up(policy_packs=[str(PACK)], show_secrets=False, on_event=events.append)
    assert [(v.policy, v.level, v.resource) for v in violations(events)] == [
        ("https-hosts", "mandatory", "prod-loki")
    ]
    assert "credentials.host uses plain http://" in str(failed.value)
    # The message is the policy's description, then what is wrong with this source.
    (violation,) = violations(events)
    assert violation.message.startswith(
        "Loki, Splunk and Elastic hosts must use https://.\nlog source 'prod-loki' (type loki): "
    )
    assert [s["type"] for s in list_sources(api)] == ["cloudwatch"]
    assert [r["method"] for r in emulator.requests() if r["method"] != "GET"] == ["POST"]
