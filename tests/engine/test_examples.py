"""The shipped example programs, run as written through the engine stand-in against the emulator:
preview, up, a second up with nothing to change, destroy.

`emulator` is the shared fixture (tests/conftest.py): one process per worker, reset per test."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from sigsentry_pulumi.testing import Secret, Stack

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
WRITES = {"POST", "PUT", "DELETE"}

pytestmark = pytest.mark.slow


def _secret(label: str) -> Secret:
    return Secret(f"example-{label}-{secrets.token_hex(6)}")


def _service_account() -> Secret:
    return Secret(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "demo-project",
                "client_email": "logs@demo-project.iam.gserviceaccount.com",
                "private_key": f"-----BEGIN PRIVATE KEY-----\n{secrets.token_hex(16)}\n-----END",
            }
        )
    )


# Per example: its folder, its project name (config namespace), its secret and plain config, and
# the types of the sources it declares.
EXAMPLE_CASES = {
    "quickstart": (
        "sigsentry-quickstart",
        lambda: {"awsAccessKeyId": _secret("akid"), "awsSecretAccessKey": _secret("aws")},
        ["cloudwatch"],
    ),
    "all-types": (
        "sigsentry-all-types",
        lambda: {
            "awsAccessKeyId": _secret("akid"),
            "awsSecretAccessKey": _secret("aws"),
            "awsSessionToken": _secret("sts"),
            "datadogApiKey": _secret("dd-api"),
            "datadogAppKey": _secret("dd-app"),
            "lokiHost": "https://logs.example.com",
            "lokiApiKey": _secret("loki"),
            "splunkHost": "https://splunk.example.com:8089",
            "splunkToken": _secret("splunk"),
            "elasticHost": "https://elastic.example.com:9200",
            "elasticApiKey": _secret("elastic"),
            "gcpServiceAccountJson": _service_account(),
        },
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


def _ops(result: Any) -> Counter[str]:
    return Counter(step.op for step in result.steps)


@pytest.mark.parametrize("example", sorted(EXAMPLE_CASES))
def test_example_lifecycle(example: str, emulator: Any, tmp_path: Path) -> None:
    project, make_config, types = EXAMPLE_CASES[example]
    program_config = make_config()
    config: dict[str, str | Secret] = {
        "sigsentry:apiUrl": emulator.url,
        "sigsentry:apiKey": Secret(emulator.api_key),
        **{f"{project}:{key}": value for key, value in program_config.items()},
    }
    state_file = tmp_path / "state.json"
    stack = Stack(EXAMPLES / example, state_file=state_file, config=config)

    preview = stack.preview()
    assert _ops(preview) == {"create": len(types)}
    assert _list(emulator) == []

    up = stack.up()
    assert _ops(up) == {"create": len(types)}
    created = _list(emulator)
    assert sorted(s["type"] for s in created) == sorted(types)

    mark = len(emulator.requests())
    again = stack.up()
    assert _ops(again) == {"same": len(types)}
    assert _writes_since(emulator, mark) == []
    assert again.outputs == up.outputs

    state = state_file.read_text()
    for value in [
        emulator.api_key,
        *(v.value for v in program_config.values() if isinstance(v, Secret)),
    ]:
        assert value not in state

    destroyed = stack.destroy()
    assert _ops(destroyed) == {"delete": len(types)}
    assert _list(emulator) == []


def test_quickstart_exports_its_id_and_secret_credentials(emulator: Any, tmp_path: Path) -> None:
    project, make_config, _ = EXAMPLE_CASES["quickstart"]
    config: dict[str, str | Secret] = {
        "sigsentry:apiUrl": emulator.url,
        "sigsentry:apiKey": Secret(emulator.api_key),
        **{f"{project}:{key}": value for key, value in make_config().items()},
    }
    stack = Stack(EXAMPLES / "quickstart", state_file=tmp_path / "state.json", config=config)
    up = stack.up()
    (source,) = _list(emulator)
    assert up.outputs["log_source_id"] == source["id"]
    assert up.outputs["log_source_name"] == "prod-cloudwatch"
    assert isinstance(up.outputs["credentials"], Secret)
    assert "example-aws-" not in repr(up.outputs)
    stack.destroy()
