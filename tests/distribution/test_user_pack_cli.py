"""A user's own policy pack that reuses chosen guardrails from `sigsentry_pulumi.policies` next
to a policy of its own, run by the real CLI in a preview against the emulator: the chosen
policies fire under the user's pack name, the ones left out stay silent, and nothing is sent to
the API.

The pack lives outside the checkout, as a user's would, with a copy of policy/run-pack to start
it (this CLI has no Python language host to start a folder pack)."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from distribution.wheelhouse import ROOT
from tools.pulumi_cli import PulumiEnvironment, config_values

pytestmark = pytest.mark.slow

PROJECT = "acme-logs"
PACK_NAME = "acme-guardrails"
PACK_MAIN = """
import re

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

from sigsentry_pulumi.policies import LOG_SOURCE_TYPE, https_hosts, no_catch_all_sources


def acme_prefix(args, report):
    if args.resource_type == LOG_SOURCE_TYPE and not re.match("acme-", args.name):
        report(f"log source {args.name}: names start with acme-", None)


PolicyPack(
    name="acme-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        https_hosts,
        no_catch_all_sources,
        ResourceValidationPolicy(
            name="acme-prefix", description="Names start with acme-", validate=acme_prefix
        ),
    ],
)
"""


def write_pack(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "__main__.py").write_text(PACK_MAIN)
    (folder / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.1.0\n")
    shutil.copy2(ROOT / "policy" / "run-pack", folder / "run-pack")
    return folder / "run-pack"


def program() -> None:
    import pulumi

    from sigsentry_pulumi import LogSource

    config = pulumi.Config()
    # Breaks https-hosts and no-catch-all-sources, both reused, and acme-prefix.
    LogSource(
        "prod-loki",
        type="loki",
        credentials={"host": "http://loki.internal:3100", "apiKey": config.require_secret("key")},
        sources=["*"],
    )
    # Breaks only cloudwatch-session-token (no sessionToken), which the pack leaves out.
    LogSource(
        "acme-cloudwatch",
        type="cloudwatch",
        credentials={
            "accessKeyId": config.require_secret("key"),
            "secretAccessKey": config.require_secret("key"),
        },
        sources=["/aws/lambda/checkout-api"],
    )


def test_user_pack_reuses_chosen_guardrails(
    tmp_path: Path, emulator: Any, pulumi_cli: Path
) -> None:
    pulumi_env = PulumiEnvironment(tmp_path / "pulumi", cli=pulumi_cli)
    pack = write_pack(tmp_path / "acme-guardrails")
    key = "user-pack-secret-" + secrets.token_hex(8)
    stack = pulumi_env.inline_stack(program, project=PROJECT, stack="dev")
    stack.set_all_config(
        config_values(
            PROJECT,
            {"sigsentry:apiUrl": emulator.url},
            {"sigsentry:apiKey": emulator.api_key, "key": key},
        )
    )
    events: list[Any] = []

    with pytest.raises(auto.CommandError) as failed:
        stack.preview(policy_packs=[str(pack)], on_event=events.append)

    found = {
        (e.policy_event.policy_name, e.policy_event.resource_urn.rsplit("::", 1)[-1])
        for e in events
        if getattr(e, "policy_event", None) is not None
    }
    assert found == {
        ("https-hosts", "prod-loki"),
        ("no-catch-all-sources", "prod-loki"),
        ("acme-prefix", "prod-loki"),
    }
    output = str(failed.value)
    assert PACK_NAME in output
    assert "credentials.host uses plain http://" in output
    assert emulator.requests() == []
    for secret in (key, emulator.api_key):
        assert secret not in output
