"""Two SigSentry tenants in one stack, through the real CLI: `LogSource(..., account="tenantb")`.

The default account's settings are `sigsentry:*`; tenant B's are `tenantb:apiUrl` and
`tenantb:apiKey` (a key of a new tenant in the emulator). Each source must be created, read,
left alone by a second preview, refreshed and destroyed in its own tenant, and tenant B's key
must appear nowhere: not in the output, not in state (where only the name `tenantb` is stored).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cli.stacks import (
    CREDENTIAL_A,
    CREDENTIAL_B,
    StackFactory,
    assert_no_plaintext,
    backend_files,
    changes,
    log_source_states,
)
from raw_api import LOG_SOURCES, connect, list_sources
from tools.pulumi_cli import PulumiEnvironment


def two_tenants() -> None:
    import pulumi

    from sigsentry_pulumi import DatadogCredentials, LogSource

    config = pulumi.Config()
    credentials: DatadogCredentials = {
        "apiKey": config.require_secret("secretA"),
        "appKey": config.require_secret("secretB"),
    }
    LogSource("in-a", type="datadog", credentials=credentials, sources=["service:a"])
    LogSource(
        "in-b",
        type="datadog",
        credentials=credentials,
        sources=["service:b"],
        account="tenantb",
    )


@pytest.fixture
def tenant_b(emulator: Any) -> Any:
    return emulator.create_key(new_tenant=True)


@pytest.fixture
def api_b(emulator: Any, tenant_b: Any) -> Iterator[httpx.Client]:
    with connect(emulator.url, tenant_b.api_key) as client:
        yield client


def names(sources: list[dict[str, Any]]) -> list[str]:
    return sorted(source["name"] for source in sources)


def test_each_source_lives_in_the_tenant_of_its_account(
    make_stack: StackFactory,
    pulumi_env: PulumiEnvironment,
    emulator: Any,
    tenant_b: Any,
    api: httpx.Client,
    api_b: httpx.Client,
) -> None:
    stack = make_stack(
        two_tenants,
        config={"tenantb:apiUrl": emulator.url},
        secrets={"tenantb:apiKey": tenant_b.api_key},
    )
    up = stack.up()
    assert changes(up) == {"create": 3}
    assert names(list_sources(api)) == ["in-a"]
    (in_b,) = list_sources(api_b)
    assert in_b["name"] == "in-b" and in_b["tenantId"] == tenant_b.tenant_id

    states = {
        state["urn"].rsplit("::", 1)[1]: state for state in log_source_states(pulumi_env, stack)
    }
    assert states["in-b"]["inputs"]["account"] == "tenantb"
    assert states["in-b"]["outputs"]["tenantId"] == tenant_b.tenant_id
    assert states["in-a"]["outputs"]["tenantId"] == emulator.tenant_id
    assert "account" not in states["in-a"]["outputs"]

    # Nothing drifts: reads go to each source's own tenant, so both are found unchanged.
    stack.preview(expect_no_changes=True)
    refresh = stack.refresh()
    assert changes(refresh) == {"same": 3}
    stack.preview(expect_no_changes=True)

    destroy = stack.destroy()
    assert changes(destroy) == {"delete": 3}
    assert list_sources(api) == [] and list_sources(api_b) == []
    assert_no_plaintext(
        {
            "up": up.stdout,
            "refresh": refresh.stdout,
            "destroy": destroy.stdout,
            **backend_files(pulumi_env),
        },
        tenant_b.api_key,
        emulator.api_key,
        CREDENTIAL_A,
        CREDENTIAL_B,
    )


def test_a_preview_names_the_missing_key_of_an_account_without_a_request(
    make_stack: StackFactory, emulator: Any
) -> None:
    from pulumi import automation as auto

    stack = make_stack(two_tenants, config={"tenantb:apiUrl": emulator.url})
    with pytest.raises(auto.CommandError) as failure:
        stack.preview()
    message = str(failure.value)
    assert (
        "resource 'in-b' has a problem: No API key is set for the SigSentry account 'tenantb'. "
        "Run `pulumi config set --secret tenantb:apiKey <key>`"
    ) in message, message
    assert [r for r in emulator.requests() if r["path"].startswith(LOG_SOURCES)] == []
