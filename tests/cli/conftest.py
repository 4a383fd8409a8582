"""Fixtures for the real-CLI tests: a Pulumi stack driven by the Automation API with a local file
backend and the passphrase secrets provider, configured for the shared `emulator` fixture
(tests/conftest.py: one emulator process per worker, reset before each test).

Everything here needs the `pulumi` binary; the test modules skip themselves (with the reason) when
it is not on PATH, before any fixture runs.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

PROJECT = "sigsentry-cli-test"


@pytest.fixture
def api(emulator: Any) -> Iterator[httpx.Client]:
    """Raw HTTP to the emulator, for out-of-band changes and for reading what Pulumi did."""
    with httpx.Client(
        base_url=emulator.url,
        headers={"Authorization": f"Bearer {emulator.api_key}"},
        timeout=10,
    ) as client:
        yield client


def list_sources(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get("/v1/config/log-sources", params={"limit": 500})
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
    return data


@pytest.fixture
def make_stack(tmp_path: Path, emulator: Any) -> Callable[[Callable[[], None]], Any]:
    """Build an Automation API stack for an inline program, configured for the emulator.

    The state lives in ``file://<tmp>/state`` and is encrypted with a random passphrase; the
    provider plugin (`pulumi-resource-pulumi-python`) runs this test run's interpreter, found
    through ``PULUMI_RUNTIME_VIRTUALENV``, so it imports this checkout's ``sigsentry_pulumi``.
    """
    from pulumi import automation as auto

    state_dir = tmp_path / "state"
    state_dir.mkdir()
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    env = {
        "PULUMI_BACKEND_URL": f"file://{state_dir}",
        "PULUMI_CONFIG_PASSPHRASE": secrets.token_urlsafe(16),
        "PULUMI_RUNTIME_VIRTUALENV": sys.prefix,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }

    def build(program: Callable[[], None]) -> Any:
        settings = auto.ProjectSettings(
            name=PROJECT,
            runtime=auto.ProjectRuntimeInfo(name="python", options={"virtualenv": sys.prefix}),
            backend=auto.ProjectBackend(url=f"file://{state_dir}"),
        )
        stack = auto.create_or_select_stack(
            "dev",
            project_name=PROJECT,
            program=program,
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(work_dir),
                env_vars=env,
                secrets_provider="passphrase",
                project_settings=settings,
            ),
        )
        stack.set_all_config(
            {
                "sigsentry:apiUrl": auto.ConfigValue(emulator.url),
                "sigsentry:apiKey": auto.ConfigValue(emulator.api_key, secret=True),
                f"{PROJECT}:secretA": auto.ConfigValue(CREDENTIAL_A, secret=True),
                f"{PROJECT}:secretB": auto.ConfigValue(CREDENTIAL_B, secret=True),
            }
        )
        return stack

    return build


# Recognisable fake credentials: the tests assert they never appear in output or state.
CREDENTIAL_A = "cli-test-credential-" + secrets.token_hex(8)
CREDENTIAL_B = "cli-test-credential-" + secrets.token_hex(8)
