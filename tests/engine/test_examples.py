"""The shipped example programs, run as written through the engine stand-in against the emulator:
preview, up, a second up with nothing to change, destroy.

`emulator` is the shared fixture (tests/conftest.py): one process per worker, reset per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from example_stacks import all_types_config, emulator_stack, secret

from sigsentry_pulumi.testing import Secret

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
WRITES = {"POST", "PUT", "DELETE"}

pytestmark = pytest.mark.slow


# Per example: its folder, its project name (config namespace), its secret and plain config, and
# the types of the sources it declares.
EXAMPLE_CASES: dict[str, tuple[str, Callable[[], dict[str, str | Secret]], list[str]]] = {
    "quickstart": (
        "sigsentry-quickstart",
        lambda: {"awsAccessKeyId": secret("akid"), "awsSecretAccessKey": secret("aws")},
        ["cloudwatch"],
    ),
    "all-types": (
        "sigsentry-all-types",
        all_types_config,
        ["cloudwatch", "datadog", "loki", "splunk", "elastic", "gcp_logging"],
    ),
}


def _list(emulator: Any) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{emulator.url}/v1/config/log-sources",
        params={"limit": 500},
        headers={"Authorization": f"Bearer {emulator.api_key}"},
    )
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def _writes_since(emulator: Any, mark: int) -> list[Any]:
    return [r for r in emulator.requests()[mark:] if r["method"] in WRITES]


@pytest.mark.parametrize("example", sorted(EXAMPLE_CASES))
def test_example_lifecycle(example: str, emulator: Any, tmp_path: Path) -> None:
    project, make_config, types = EXAMPLE_CASES[example]
    program_config = make_config()
    state_file = tmp_path / "state.json"
    stack = emulator_stack(EXAMPLES / example, project, program_config, emulator, state_file)

    preview = stack.preview()
    assert preview.counts() == {"create": len(types)}
    assert _list(emulator) == []

    up = stack.up()
    assert up.counts() == {"create": len(types)}
    created = _list(emulator)
    assert sorted(s["type"] for s in created) == sorted(types)

    mark = len(emulator.requests())
    again = stack.up()
    assert again.counts() == {"same": len(types)}
    assert _writes_since(emulator, mark) == []
    assert again.outputs == up.outputs

    state = state_file.read_text()
    for value in [
        emulator.api_key,
        *(v.value for v in program_config.values() if isinstance(v, Secret)),
    ]:
        assert value not in state

    destroyed = stack.destroy()
    assert destroyed.counts() == {"delete": len(types)}
    assert _list(emulator) == []


def test_quickstart_exports_its_id_and_secret_credentials(emulator: Any, tmp_path: Path) -> None:
    project, make_config, _ = EXAMPLE_CASES["quickstart"]
    state_file = tmp_path / "state.json"
    stack = emulator_stack(EXAMPLES / "quickstart", project, make_config(), emulator, state_file)
    up = stack.up()
    (source,) = _list(emulator)
    assert up.outputs["log_source_id"] == source["id"]
    assert up.outputs["log_source_name"] == "prod-cloudwatch"
    assert isinstance(up.outputs["credentials"], Secret)
    assert "example-aws-" not in repr(up.outputs)
    stack.destroy()
