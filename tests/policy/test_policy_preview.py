"""The guardrails pack through the engine stand-in's preview, over real programs.

The real pack process, the real provider plugin and the emulator: `Stack.preview(policy_packs=...)`
checks each resource with the provider, then hands the checked inputs to the pack.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from example_stacks import all_types_config, emulator_stack

from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi.testing import Secret
from sigsentry_pulumi.testing.policy import PolicyViolationError

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policy"
ALL_TYPES = ROOT / "examples" / "all-types"
BAD_PROGRAM = Path(__file__).resolve().parent / "bad_program"

pytestmark = pytest.mark.slow


def secret_values(settings: dict[str, Any]) -> list[str]:
    return [value.value for value in settings.values() if isinstance(value, Secret)]


def test_all_types_example_passes_every_guardrail_under_the_default_config(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    settings = all_types_config()
    stack = emulator_stack(
        ALL_TYPES, "sigsentry-all-types", settings, emulator, tmp_path / "state.json", stack="prod"
    )

    preview = stack.preview(policy_packs=[PACK])

    assert preview.counts() == {"create": 6}
    assert preview.policy_violations == []
    assert all(r["method"] == "GET" for r in emulator.requests())  # a preview writes nothing


def bad_settings() -> dict[str, Any]:
    """The all-types example's secret config (the bad program names its own hosts)."""
    return {key: value for key, value in all_types_config().items() if isinstance(value, Secret)}


EXPECTED_BAD = Counter(
    {
        ("https-hosts", "mandatory", "insecure-loki"): 1,
        ("verify-enabled", "mandatory", "unverified"): 1,
        ("cloudwatch-session-token", "advisory", "static-keys"): 1,
        ("name-pattern", "advisory", "bad-name"): 1,
        ("no-catch-all-sources", "mandatory", "everything"): 1,
        ("max-sources", "mandatory", "too-many"): 1,
        ("unique-type-and-name", "mandatory", "prod-gcp-copy"): 1,
    }
)


def test_bad_program_fires_each_guardrail_once_and_fails_the_preview(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    settings = bad_settings()
    stack = emulator_stack(
        BAD_PROGRAM,
        "sigsentry-policy-bad",
        settings,
        emulator,
        tmp_path / "state.json",
        stack="prod",
    )

    with pytest.raises(PolicyViolationError) as caught:
        stack.preview(policy_packs=[PACK], policy_config={"verify-enabled": {"stacks": ["prod"]}})

    violations = caught.value.violations
    found = Counter(
        (v.policy, v.enforcement_level, (v.urn or "").rsplit("::", 1)[-1]) for v in violations
    )
    assert found == EXPECTED_BAD
    assert "preview failed: 5 mandatory policy violation(s)" in str(caught.value)
    shown = str(caught.value) + repr(violations) + "".join(str(v) for v in violations)
    assert not any(value in shown for value in secret_values(settings))
    assert all(r["method"] == "GET" for r in emulator.requests())  # a preview writes nothing


def test_bad_program_passes_on_a_stack_that_does_not_require_verify_once_levels_are_lowered(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    stack = emulator_stack(
        BAD_PROGRAM, "sigsentry-policy-bad", bad_settings(), emulator, tmp_path / "state.json"
    )

    preview = stack.preview(
        policy_packs=[PACK],
        policy_config={"all": "advisory", "verify-enabled": {"stacks": ["prod"]}},
    )

    policies = Counter(v.policy for v in preview.policy_violations)
    assert "verify-enabled" not in policies  # dev is not a listed stack
    assert sum(policies.values()) == 6
    assert {v.enforcement_level for v in preview.policy_violations} == {"advisory"}
