"""A value that is not known until the update reaches the pack as unknown, as the engine sends it.

The engine marshals a resource's checked inputs for analyzers with unknowns kept, and pulumi-policy
skips a policy that reads one, with an advisory note; the preview must not judge such a value.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi.testing import Secret, Stack

HERE = Path(__file__).resolve().parent
PACK = HERE.parents[1] / "policy"
PROGRAM = HERE / "unknown_program"
PROJECT = "sigsentry-policy-unknown"

pytestmark = pytest.mark.slow


def test_a_value_unknown_in_the_preview_is_noted_not_judged(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    program_config = {
        key: Secret(f"policy-{key}-{secrets.token_hex(8)}")
        for key in ("awsAccessKeyId", "awsSecretAccessKey", "awsSessionToken")
    }
    config: dict[str, str | Secret] = {
        "sigsentry:apiUrl": emulator.url,
        "sigsentry:apiKey": Secret(emulator.api_key),
        **{f"{PROJECT}:{key}": value for key, value in program_config.items()},
    }
    stack = Stack(PROGRAM, state_file=tmp_path / "state.json", config=config, stack="prod")

    preview = stack.preview(
        policy_packs=[PACK], policy_config={"verify-enabled": {"stacks": ["prod"]}}
    )

    [note] = preview.policy_violations
    assert (note.policy, note.enforcement_level) == ("verify-enabled", "advisory")
    assert note.urn is not None and note.urn.endswith("::prod-second")
    assert note.message.startswith("can't run policy 'verify-enabled'")
    assert "during preview: string value at .verify can't be known" in note.message
