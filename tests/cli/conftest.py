"""Fixtures for the real-CLI suite: the Pulumi CLI chosen by tools/pulumi/find-cli, run privately
(tools.pulumi_cli.PulumiEnvironment: own PULUMI_HOME, a ``file://`` backend in the test's temporary
folder, a random passphrase, no update check, no plugin download) against the shared `emulator`
fixture (tests/conftest.py: one emulator process per worker, reset before each test).

Programs run inline through the Automation API: the Python language host
(``pulumi-language-python``) is not served by the Go module proxy, so a folder program cannot be
run by the CLI on its own (docs/ARCHITECTURE.md). The examples run inline too, by executing their
``__main__.py`` (`example_program`).

Without a CLI the suite is skipped with the reason, except under CI=true, where it fails: CI must
prove every lifecycle claim with the real engine.
"""

from __future__ import annotations

import json
import os
import runpy
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tools.pulumi_cli import CLINotFoundError, PulumiEnvironment, config_values, find_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROJECT = "sigsentry-cli-test"
STACK = "dev"
LOG_SOURCES = "/v1/config/log-sources"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})

# Recognisable fake credentials: the tests assert they never appear in output or state.
CREDENTIAL_A = "cli-test-credential-" + secrets.token_hex(8)
CREDENTIAL_B = "cli-test-credential-" + secrets.token_hex(8)

Program = Callable[[], None]


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    try:
        return find_cli()
    except CLINotFoundError as error:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI must run the real-CLI suite: {error}", pytrace=False)
        pytest.skip(f"real-CLI suite skipped: {error}")


@pytest.fixture
def pulumi_env(tmp_path: Path, pulumi_cli: Path) -> PulumiEnvironment:
    return PulumiEnvironment(tmp_path / "pulumi", cli=pulumi_cli)


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
    response = api.get(LOG_SOURCES, params={"limit": 500})
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def writes(emulator: Any, since: int) -> list[tuple[str, str]]:
    """(method, path) of every write the emulator received after its first `since` requests."""
    return [
        (r["method"], r["path"])
        for r in emulator.requests()[since:]
        if r["method"] in WRITE_METHODS
    ]


def op_counts(op_map: Any) -> dict[str, int]:
    """An OpMap as plain strings: keys may be `OpType` members (str enums) or plain strings."""
    return {getattr(op, "value", op): n for op, n in (op_map or {}).items()}


def changes(result: Any) -> dict[str, int]:
    """The resource changes of an up/refresh/destroy result, the stack resource included."""
    return op_counts(result.summary.resource_changes)


def example_program(name: str) -> Program:
    """examples/<name>/__main__.py as an inline program: the same file, run as Pulumi runs it."""
    main = EXAMPLES / name / "__main__.py"

    def program() -> None:
        runpy.run_path(str(main), run_name="__main__")

    return program


def project_name(example: str) -> str:
    """The `name:` of examples/<example>/Pulumi.yaml (config keys are namespaced by it)."""
    for line in (EXAMPLES / example / "Pulumi.yaml").read_text().splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"examples/{example}/Pulumi.yaml has no name")


StackFactory = Callable[..., Any]


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


def state_resources(pulumi_env: PulumiEnvironment, stack: Any) -> list[dict[str, Any]]:
    """The stack's resources as `pulumi stack export` prints them (secrets stay ciphertext)."""
    exported = pulumi_env.run(
        "stack", "export", "--stack", stack.name, cwd=Path(stack.workspace.work_dir)
    )
    # An emptied stack's export has no "resources" key at all.
    resources: list[dict[str, Any]] = json.loads(exported.stdout)["deployment"].get("resources", [])
    return resources


def log_source_states(pulumi_env: PulumiEnvironment, stack: Any) -> list[dict[str, Any]]:
    return [
        r for r in state_resources(pulumi_env, stack) if r["type"].endswith("sigsentry:LogSource")
    ]


def assert_no_plaintext(haystacks: Mapping[str, str], *needles: str) -> None:
    """No needle (a key, a credential) in any haystack; the failure names where, not what."""
    for where, text in haystacks.items():
        for index, needle in enumerate(needles):
            assert needle not in text, f"secret #{index} appears in plain text in {where}"


def backend_files(pulumi_env: PulumiEnvironment) -> dict[str, str]:
    """Every file the CLI wrote (backend, PULUMI_HOME), as text, keyed by path."""
    return {
        str(path): path.read_text(errors="replace")
        for folder in (pulumi_env.state, pulumi_env.home)
        for path in folder.rglob("*")
        if path.is_file() and path.stat().st_size < 5_000_000
    }
