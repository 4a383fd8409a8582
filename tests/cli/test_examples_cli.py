"""The shipped examples, run as written (their `__main__.py`, inline through the Automation API)
by the real Pulumi CLI against the emulator: preview, up, a preview with nothing to change,
destroy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cli.program_config import ProgramConfig, all_encodings, all_types_config, quickstart_config
from cli.stacks import backend_files, changes, example_program, op_counts, project_name, writes
from raw_api import list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

QUICKSTART_SOURCES = ["/aws/lambda/checkout-api", "/aws/lambda/billing-worker"]

# What each example declares: the source's name (the resource name: no example sets `name`) to
# its type and its `sources`.
DECLARED: dict[str, dict[str, tuple[str, list[str]]]] = {
    "quickstart": {"prod-cloudwatch": ("cloudwatch", QUICKSTART_SOURCES)},
    "all-types": {
        "prod-cloudwatch": ("cloudwatch", QUICKSTART_SOURCES),
        "prod-datadog": ("datadog", ["service:checkout-api", "service:billing-worker"]),
        "prod-loki": ("loki", ['{app="checkout-api"}']),
        "prod-splunk": ("splunk", ["main", "security"]),
        "prod-elastic": ("elastic", ["logs-checkout-*"]),
        "prod-gcp-logging": ("gcp_logging", ['resource.type="cloud_run_revision"']),
    },
}
CONFIG: dict[str, Callable[[], ProgramConfig]] = {
    "quickstart": quickstart_config,
    "all-types": all_types_config,
}


def example_stack(make_stack: Callable[..., Any], example: str, config: ProgramConfig) -> Any:
    return make_stack(
        example_program(example),
        project=project_name(example),
        config=config.plain,
        secrets=config.secret,
    )


def declared_view(sources: list[dict[str, Any]]) -> dict[str, tuple[str, list[str], bool]]:
    return {s["name"]: (s["type"], s["sources"], s["isActive"]) for s in sources}


@pytest.mark.parametrize("example", sorted(DECLARED))
def test_example_up_creates_what_it_declares_then_destroy_empties_the_api(
    example: str,
    make_stack: Callable[..., Any],
    emulator: Any,
    api: httpx.Client,
    pulumi_env: PulumiEnvironment,
) -> None:
    config = CONFIG[example]()
    stack = example_stack(make_stack, example, config)
    declared = DECLARED[example]
    expected = {name: (kind, sources, True) for name, (kind, sources) in declared.items()}

    preview = stack.preview()
    # The stack resource, the dynamic provider's resources: nothing else.
    assert op_counts(preview.change_summary) == {"create": len(declared) + 1}
    assert list_sources(api) == []

    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": len(declared) + 1}
    created = list_sources(api)
    assert declared_view(created) == expected
    ids = {s["name"]: s["id"] for s in created}

    mark = len(emulator.requests())
    again = stack.preview(expect_no_changes=True)
    assert op_counts(again.change_summary) == {"same": len(declared) + 1}
    assert writes(emulator, mark) == []
    assert {s["name"]: s["id"] for s in list_sources(api)} == ids

    leaks = all_encodings([*config.secret_values(), emulator.api_key])
    texts = {"up": up.stdout + up.stderr, "preview": again.stdout, **backend_files(pulumi_env)}
    for where, text in texts.items():
        assert not [form for form in leaks if form in text], f"a secret appears in {where}"

    destroyed = stack.destroy(show_secrets=False)
    assert changes(destroyed) == {"delete": len(declared) + 1}
    assert list_sources(api) == []


def test_quickstart_outputs_its_source_and_keeps_credentials_secret(
    make_stack: Callable[..., Any], api: httpx.Client, emulator: Any
) -> None:
    config = quickstart_config()
    stack = example_stack(make_stack, "quickstart", config)
    up = stack.up(show_secrets=False)
    (source,) = list_sources(api)
    outputs = up.outputs
    assert outputs["log_source_id"].value == source["id"]
    assert outputs["log_source_name"].value == "prod-cloudwatch"
    assert outputs["tenant_id"].value == emulator.tenant_id
    assert outputs["credentials"].secret is True
    assert outputs["log_source_id"].secret is False


def test_all_types_exports_every_id_and_stores_the_configured_credentials(
    make_stack: Callable[..., Any], api: httpx.Client
) -> None:
    # A Loki host on the reserved .invalid domain: the API accepts it, its credential test fails.
    config = all_types_config(loki_host="https://logs.invalid")
    stack = example_stack(make_stack, "all-types", config)
    up = stack.up(show_secrets=False)
    by_type = {s["type"]: s for s in list_sources(api)}
    assert up.outputs["log_source_ids"].value == {kind: s["id"] for kind, s in by_type.items()}
    assert all("credentials" not in s for s in by_type.values())  # write-only in the API

    # The API's credential test reads what the provider stored: the plain host from config, and
    # a working credential map for every other type.
    results = {
        kind: api.post(f"/v1/config/log-sources/{s['id']}/test").json()["data"]
        for kind, s in by_type.items()
    }
    assert {kind: r["ok"] for kind, r in results.items()} == {
        "cloudwatch": True,
        "datadog": True,
        "loki": False,
        "splunk": True,
        "elastic": True,
        "gcp_logging": True,
    }
    assert "does not resolve" in results["loki"]["message"]
