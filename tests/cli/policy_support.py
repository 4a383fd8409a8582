"""Running the `sigsentry-guardrails` pack through the real CLI, and reading what it reported.

The pack is given to the engine as `policy/run-pack`, an executable: Pulumi 3.274 starts a Python
pack given as a folder only through the Python language host, which this checkout cannot have;
an executable pack it runs directly (policy/run-pack says how). The engine reports each violation
twice: in the preview's text ("Policies:" section) and as a policy engine event, which carries
the policy, its enforcement level and the resource.
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.stacks import ROOT

PACK = ROOT / "policy" / "run-pack"
PACK_NAME = "sigsentry-guardrails"
BAD_PROGRAM = ROOT / "tests" / "policy" / "bad_program"
BAD_PROJECT = "sigsentry-policy-bad"

Program = Callable[[], None]


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    resource: str  # the resource name, the last part of its URN ("" for none)
    message: str


def folder_program(folder: Path) -> Program:
    """A program folder's `__main__.py` as an inline program."""

    def program() -> None:
        runpy.run_path(str(folder / "__main__.py"), run_name="__main__")

    return program


def log_source_program(
    *,
    resource_name: str = "prod-cloudwatch",
    name: str | None = None,
    sources: Iterable[str] = ("/aws/lambda/checkout-api",),
    verify: bool | None = None,
    session_token: bool = True,
) -> Program:
    """One CloudWatch log source, its credentials from the `secretA`/`secretB` secret config;
    compliant with every policy unless an argument says otherwise."""
    selectors = list(sources)

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import CloudWatchCredentials, LogSource

        config = pulumi.Config()
        credentials: CloudWatchCredentials = {
            "accessKeyId": config.require_secret("secretA"),
            "secretAccessKey": config.require_secret("secretB"),
        }
        if session_token:
            credentials["sessionToken"] = config.require_secret("secretB")
        LogSource(
            resource_name,
            name=name,
            type="cloudwatch",
            credentials=credentials,
            sources=selectors,
            verify=verify,
        )

    return program


def write_policy_config(folder: Path, config: Mapping[str, Any]) -> str:
    """A `--policy-pack-config` file holding `config`; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"policy-config-{len(list(folder.iterdir()))}.json"
    path.write_text(json.dumps(config))
    return str(path)


def violations(events: Iterable[Any]) -> list[Violation]:
    """The policy violations among the Automation API's engine events, in order."""
    found = []
    for event in events:
        policy = getattr(event, "policy_event", None)
        if policy is None:
            continue
        found.append(
            Violation(
                policy=policy.policy_name,
                level=policy.enforcement_level,
                resource=(policy.resource_urn or "").rsplit("::", 1)[-1],
                message=policy.message,
            )
        )
    return found


def by_policy(found: Iterable[Violation]) -> dict[str, list[Violation]]:
    grouped: dict[str, list[Violation]] = {}
    for violation in found:
        grouped.setdefault(violation.policy, []).append(violation)
    return grouped
