"""Fixtures for the real-CLI suite: the Pulumi CLI chosen by tools/pulumi/find-cli, run privately
(tools.pulumi_cli.PulumiEnvironment: own PULUMI_HOME, a ``file://`` backend in the test's temporary
folder, a random passphrase, no update check, no plugin download) against the shared `emulator`
fixture (tests/conftest.py: one emulator process per worker, reset before each test).

Programs run inline through the Automation API: the Python language host
(``pulumi-language-python``) is not served by the Go module proxy, so a folder program cannot be
run by the CLI on its own (docs/ARCHITECTURE.md). The examples run inline too, by executing their
``__main__.py`` (`example_program`).

Without a CLI the suite is skipped with the reason, except under CI=true, where it fails (the
root conftest's `pulumi_cli`): CI must prove every lifecycle claim with the real engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from cli.stacks import CREDENTIAL_A, CREDENTIAL_B, PROJECT, STACK, Program, StackFactory
from tools.pulumi_cli import PulumiEnvironment, config_values


@pytest.fixture
def pulumi_env(tmp_path: Path, pulumi_cli: Path) -> PulumiEnvironment:
    return PulumiEnvironment(tmp_path / "pulumi", cli=pulumi_cli)


@pytest.fixture
def make_stack(pulumi_env: PulumiEnvironment, emulator: Any) -> StackFactory:
    """Build an Automation API stack for an inline program, configured for the emulator.

    ``make_stack(program, project=..., config={...}, secrets={...})``: ``config`` and ``secrets``
    are extra stack config (keys without a namespace get the project's). The provider settings
    (``sigsentry:apiUrl``, ``sigsentry:apiKey`` as a secret) and ``secretA``/``secretB`` are
    always set.
    """

    def build(
        program: Program,
        project: str = PROJECT,
        stack_name: str = STACK,
        config: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> Any:
        stack = pulumi_env.inline_stack(program, project=project, stack=stack_name)
        plain = {"sigsentry:apiUrl": emulator.url, **(config or {})}
        secret = {
            "sigsentry:apiKey": emulator.api_key,
            "secretA": CREDENTIAL_A,
            "secretB": CREDENTIAL_B,
            **(secrets or {}),
        }
        stack.set_all_config(config_values(project, plain, secret))
        return stack

    return build
