"""Fixtures for the guardrail policy tests: a `run_policy` helper and the stack the pack sees.

`run_policy` calls one policy's `validate` the way pulumi-policy's own tests do, with a `report`
callback that collects the violations, so each policy is tested without a gRPC server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pulumi.runtime.settings
import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

LOG_SOURCE_TYPE = "pulumi-python:dynamic/sigsentry:LogSource"

RunPolicy = Callable[..., list[tuple[str, str | None]]]


def urn_of(name: str, *, type_: str = LOG_SOURCE_TYPE, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::guardrails-test::{type_}::{name}"


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def _run_policy(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    resources: Mapping[str, Mapping[str, Any]],
    *,
    config: Mapping[str, Any] | None = None,
    type_: str = LOG_SOURCE_TYPE,
) -> list[tuple[str, str | None]]:
    """Run `policy` over `resources` (resource name -> inputs); returns (message, urn) pairs.

    A resource policy runs once per resource, a stack policy once over all of them, each with
    the inputs wrapped as the pack wraps them (the proxy that raises on unknown values).
    """
    violations: list[tuple[str, str | None]] = []

    def report(message: str, urn: str | None = None) -> None:
        violations.append((message, urn))

    if isinstance(policy, StackValidationPolicy):
        stack_resources = [
            PolicyResource(
                type_,
                unknown_checking_proxy(dict(props)),
                urn_of(name),
                name,
                _options(),
                None,
                None,
                [],
                {},
            )
            for name, props in resources.items()
        ]
        policy.validate(StackValidationArgs(stack_resources, dict(config or {})), report)
        return violations
    for name, props in resources.items():
        args = ResourceValidationArgs(
            type_,
            unknown_checking_proxy(dict(props)),
            urn_of(name),
            name,
            _options(),
            None,
            dict(config or {}),
        )
        policy.validate(args, report)
    return violations


@pytest.fixture
def run_policy() -> RunPolicy:
    return _run_policy


@pytest.fixture
def current_stack() -> Iterator[Callable[[str], None]]:
    """Set the stack name the pack reads through `pulumi.get_stack()`; restored afterwards."""
    previous = pulumi.runtime.settings.get_stack()
    yield pulumi.runtime.settings._set_stack
    pulumi.runtime.settings._set_stack(previous)


@pytest.fixture(name="urn_of")
def urn_of_fixture() -> Callable[..., str]:
    return urn_of
