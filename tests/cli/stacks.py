"""What the real-CLI tests share besides fixtures: the test project's names and credentials, the
emulator's view of a deployment (`writes`, `changes`), the examples as inline programs, and the
stack's state as the CLI exports it (`state_resources`, `assert_no_plaintext`, `backend_files`).

The fixtures that build on these (`pulumi_cli`, `pulumi_env`, `make_stack`) are in conftest.py.
"""

from __future__ import annotations

import json
import runpy
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tools.pulumi_cli import PulumiEnvironment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROJECT = "sigsentry-cli-test"
STACK = "dev"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})

# Recognisable fake credentials: the tests assert they never appear in output or state.
CREDENTIAL_A = "cli-test-credential-" + secrets.token_hex(8)
CREDENTIAL_B = "cli-test-credential-" + secrets.token_hex(8)

Program = Callable[[], None]

StackFactory = Callable[..., Any]


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
