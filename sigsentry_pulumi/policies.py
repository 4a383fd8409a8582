"""The `sigsentry-guardrails` policies for SigSentry log sources, as an importable module.

```python
from sigsentry_pulumi.policies import POLICIES, https_hosts, no_catch_all_sources
```

Needs pulumi-policy: `pip install 'sigsentry-pulumi[policy]'`. `policy/` in the source tree
serves every policy here as the `sigsentry-guardrails` pack; a pack of your own can reuse chosen
policies, or all of them (docs/policy.md shows one).

Every policy matches resources of type `pulumi-python:dynamic/sigsentry:LogSource` and reads the
names the engine stores in state (the API's camelCase): `type`, `name`, `credentials`, `sources`,
`isActive`, `verify`, `projectId`.

Messages name the log source, the field and the fix. They never contain a credential value: the
engine hands a policy pack plaintext credentials (it unwraps secrets before policies run), so
every message here is built from field names and fixed text only, never from a credential.

This module only defines the policies; a pack's `__main__.py` serves them (`PolicyPack(...)`
starts the Analyzer server), so importing it starts nothing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pulumi

from ._constants import RESOURCE_TYPE

try:
    from pulumi_policy import (
        EnforcementLevel,
        Policy,
        PolicyConfigSchema,
        ReportViolation,
        ResourceValidationArgs,
        ResourceValidationPolicy,
        Severity,
        StackValidationArgs,
        StackValidationPolicy,
    )
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "sigsentry_pulumi.policies needs pulumi-policy: pip install 'sigsentry-pulumi[policy]'"
    ) from error

PACK_NAME = "sigsentry-guardrails"
LOG_SOURCE_TYPE = RESOURCE_TYPE
"""The type token every `LogSource` registers (policy packs match resources on it)."""

# Source types whose credentials carry a `host` URL (see the API contract's credential table).
HOST_TYPES = frozenset({"loki", "splunk", "elastic"})

# Selectors that match every log group, index or stream of a platform.
CATCH_ALL_SELECTORS = frozenset({"*", "**", ".*", ".+", "*:*"})
_EMPTY_LABEL_SELECTOR = re.compile(r"\{\s*\}")

DEFAULT_NAME_PATTERN = r"^[a-z0-9]([a-z0-9._-]{0,253}[a-z0-9])?$"
DEFAULT_MAX_SOURCES = 20

Validation = Callable[[ResourceValidationArgs, ReportViolation], None]


def _log_sources_only(
    check: Callable[[ResourceValidationArgs, ReportViolation], None],
) -> Validation:
    """Run `check` on LogSource resources and skip every other resource type."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type == LOG_SOURCE_TYPE:
            check(args, report)

    return validate


def _source_name(props: Mapping[str, Any], resource_name: str) -> str:
    # The provider defaults `name` to the resource name; checked inputs may not carry it yet.
    name = props.get("name")
    return name if isinstance(name, str) and name else resource_name


def _label(props: Mapping[str, Any], resource_name: str) -> str:
    return f"log source '{_source_name(props, resource_name)}' (type {props.get('type')!s})"


def _credentials(props: Mapping[str, Any]) -> Mapping[str, Any]:
    credentials = props.get("credentials")
    return credentials if isinstance(credentials, Mapping) else {}


def _sources(props: Mapping[str, Any]) -> list[Any]:
    sources = props.get("sources")
    if isinstance(sources, str) or not isinstance(sources, Iterable):
        return []
    return list(sources)


# What `pulumi.get_stack()` returns in a process the engine did not configure for a stack.
_UNCONFIGURED_STACK = "stack"


def _current_stack(urn: str) -> str | None:
    """The stack being deployed.

    Older engines start a pack with PULUMI_STACK set, and pulumi-policy then configures
    `pulumi.get_stack()`. Pulumi 3.274 tells the pack its stack only through the Analyzer's
    ConfigureStack call, which pulumi-policy does not pass on, so `get_stack()` answers the SDK's
    placeholder; the resource's URN (``urn:pulumi:<stack>::<project>::<type>::<name>``) always
    names the stack.
    """
    stack: str | None = pulumi.get_stack()
    if stack and stack != _UNCONFIGURED_STACK:
        return stack
    if urn.startswith("urn:pulumi:") and "::" in urn:
        return urn[len("urn:pulumi:") :].split("::", 1)[0] or None
    return stack


# --- https-hosts -------------------------------------------------------------------------------


@_log_sources_only
def _check_https_host(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if props.get("type") not in HOST_TYPES:
        return
    host = _credentials(props).get("host")
    if not isinstance(host, str) or host.lower().startswith("https://"):
        return
    # The host is part of the credential map (a Loki URL may even embed a password): describe
    # the scheme with fixed words, never by quoting the value.
    problem = "uses plain http://" if host.lower().startswith("http://") else "is not an https URL"
    report(
        f"{_label(props, args.name)}: credentials.host {problem}. Set credentials.host to an "
        "https:// URL so that log queries and credentials travel encrypted.",
        None,
    )


https_hosts = ResourceValidationPolicy(
    name="https-hosts",
    description="Loki, Splunk and Elastic hosts must use https://.",
    validate=_check_https_host,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)


# --- cloudwatch-session-token ------------------------------------------------------------------


@_log_sources_only
def _check_session_token(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if props.get("type") != "cloudwatch":
        return
    credentials = _credentials(props)
    if "accessKeyId" not in credentials:
        return
    token = credentials.get("sessionToken")
    if isinstance(token, str) and token:
        return
    report(
        f"{_label(props, args.name)}: credentials carry no sessionToken, so they are long-lived "
        "AWS access keys. Issue temporary credentials (for example `aws sts assume-role`) and set "
        "credentials.accessKeyId, credentials.secretAccessKey and credentials.sessionToken.",
        None,
    )


cloudwatch_session_token = ResourceValidationPolicy(
    name="cloudwatch-session-token",
    description="CloudWatch log sources should use short-lived credentials (a sessionToken).",
    validate=_check_session_token,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
)


# --- verify-enabled ----------------------------------------------------------------------------


@_log_sources_only
def _check_verify(args: ResourceValidationArgs, report: ReportViolation) -> None:
    patterns = args.get_config().get("stacks", [])
    stack = _current_stack(args.urn)
    if not stack or not any(fnmatch.fnmatchcase(stack, str(p)) for p in patterns):
        return
    props = args.props
    # `verify` defaults to false in the provider, so a missing value is a violation too.
    if props.get("verify") is True:
        return
    report(
        f"{_label(props, args.name)}: verify is not true on stack '{stack}'. Set verify=True so "
        "that every create and update tests the credentials against the platform "
        "(POST /v1/config/log-sources/{id}/test) and fails when they do not work.",
        None,
    )


verify_enabled = ResourceValidationPolicy(
    name="verify-enabled",
    description="Log sources must set verify=True on the stacks listed in this policy's config.",
    validate=_check_verify,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    config_schema=PolicyConfigSchema(
        properties={
            "stacks": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "default": [],
                "description": "Stack names or shell-style patterns (prod, prod-*) where verify "
                "must be true. Empty: the policy checks no stack.",
            },
        },
    ),
)


# --- name-pattern ------------------------------------------------------------------------------


@_log_sources_only
def _check_name(args: ResourceValidationArgs, report: ReportViolation) -> None:
    pattern = str(args.get_config().get("pattern", DEFAULT_NAME_PATTERN))
    try:
        matcher = re.compile(pattern)
    except re.error as exc:
        report(
            f"the name-pattern policy's config is invalid: pattern is not a Python regular "
            f"expression ({exc}). Fix `pattern` in the policy pack config.",
            None,
        )
        return
    name = _source_name(args.props, args.name)
    if matcher.fullmatch(name):
        return
    report(
        f"{_label(args.props, args.name)}: the name does not match the required pattern "
        f"{pattern}. Rename the source (the `name` argument, or the resource name when `name` "
        "is not set) so that the whole name matches.",
        None,
    )


name_pattern = ResourceValidationPolicy(
    name="name-pattern",
    description="Log source names must match the naming pattern in this policy's config.",
    validate=_check_name,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    config_schema=PolicyConfigSchema(
        properties={
            "pattern": {
                "type": "string",
                "minLength": 1,
                "default": DEFAULT_NAME_PATTERN,
                "description": "Python regular expression the whole name must match.",
            },
        },
    ),
)


# --- no-catch-all-sources ----------------------------------------------------------------------


def _is_catch_all(selector: Any) -> bool:
    if not isinstance(selector, str):
        return False
    stripped = selector.strip()
    return stripped in CATCH_ALL_SELECTORS or bool(_EMPTY_LABEL_SELECTOR.fullmatch(stripped))


@_log_sources_only
def _check_catch_all(args: ResourceValidationArgs, report: ReportViolation) -> None:
    offending = [str(s) for s in _sources(args.props) if _is_catch_all(s)]
    if not offending:
        return
    listed = ", ".join(repr(s) for s in offending)
    report(
        f"{_label(args.props, args.name)}: sources contains a catch-all selector ({listed}) that "
        "matches every log group, index or stream. List the log groups, indexes or label "
        'selectors to ingest explicitly (for example {app="checkout-api"}).',
        None,
    )


no_catch_all_sources = ResourceValidationPolicy(
    name="no-catch-all-sources",
    description="Log sources must not use a catch-all selector (*, .*, an empty label selector).",
    validate=_check_catch_all,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)


# --- max-sources -------------------------------------------------------------------------------


@_log_sources_only
def _check_source_count(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # Policy config travels as a protobuf Struct, where every number is a float.
    limit = int(args.get_config().get("maxSources", DEFAULT_MAX_SOURCES))
    count = len(_sources(args.props))
    if count <= limit:
        return
    report(
        f"{_label(args.props, args.name)}: lists {count} sources, more than the allowed {limit}. "
        "Split it into several log sources, or raise maxSources in the policy pack config.",
        None,
    )


max_sources = ResourceValidationPolicy(
    name="max-sources",
    description="A log source may list at most maxSources sources.",
    validate=_check_source_count,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    config_schema=PolicyConfigSchema(
        properties={
            "maxSources": {
                "type": "integer",
                "minimum": 1,
                "default": DEFAULT_MAX_SOURCES,
                "description": "Largest number of entries allowed in `sources`.",
            },
        },
    ),
)


# --- unique-type-and-name (stack) --------------------------------------------------------------


def _check_unique(args: StackValidationArgs, report: ReportViolation) -> None:
    first_by_key: dict[tuple[str, str], str] = {}
    # The engine sends the stack's resources in no set order: sorting by URN makes the source
    # kept as "first" (and so the one left unreported) the same on every run.
    for resource in sorted(args.resources, key=lambda r: str(r.urn)):
        if resource.resource_type != LOG_SOURCE_TYPE:
            continue
        props = resource.props
        key = (str(props.get("type")), _source_name(props, resource.name))
        first = first_by_key.setdefault(key, resource.urn)
        if first == resource.urn:
            continue
        report(
            f"log sources {first} and {resource.urn} both have type '{key[0]}' and name "
            f"'{key[1]}': they would ingest the same logs twice and cannot be told apart in "
            "SigSentry. Rename one of them (the `name` argument) or remove the duplicate.",
            resource.urn,
        )


unique_type_and_name = StackValidationPolicy(
    name="unique-type-and-name",
    description="No two log sources in a stack may share the same type and name.",
    validate=_check_unique,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
)


RESOURCE_POLICIES: list[ResourceValidationPolicy] = [
    https_hosts,
    cloudwatch_session_token,
    verify_enabled,
    name_pattern,
    no_catch_all_sources,
    max_sources,
]
STACK_POLICIES: list[StackValidationPolicy] = [unique_type_and_name]
# Typed as `PolicyPack(policies=...)` takes them, so a pack can pass this list or a slice of it.
POLICIES: list[Policy] = [
    *RESOURCE_POLICIES,
    *STACK_POLICIES,
]
