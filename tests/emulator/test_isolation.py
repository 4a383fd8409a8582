"""Tenants never see or touch each other's sources; keys act only within their permissions."""

from __future__ import annotations

import httpx
import pytest

from emulator.helpers import CLOUDWATCH
from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.testing import ApiKeyInfo, EmulatorProcess


@pytest.fixture
def stranger(emulator: EmulatorProcess) -> ApiKeyInfo:
    return emulator.create_key(permissions=["config:read", "config:write"], new_tenant=True)


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("PUT", "", {"isActive": False}), ("DELETE", "", None), ("POST", "/test", None)],
)
def test_another_tenant_gets_404_never_403(
    anonymous: httpx.Client,
    api: httpx.Client,
    stranger: ApiKeyInfo,
    source_id: str,
    method: str,
    suffix: str,
    body: object,
) -> None:
    before = api.get(LOG_SOURCES).json()["data"]
    response = anonymous.request(
        method, f"{LOG_SOURCES}/{source_id}{suffix}", json=body, headers=auth(stranger.api_key)
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert api.get(LOG_SOURCES).json()["data"] == before


def test_another_tenant_never_sees_the_source_in_its_list(
    anonymous: httpx.Client, stranger: ApiKeyInfo, source_id: str
) -> None:
    own = anonymous.post(LOG_SOURCES, json=CLOUDWATCH, headers=auth(stranger.api_key))
    listed = anonymous.get(LOG_SOURCES, headers=auth(stranger.api_key)).json()
    assert [r["id"] for r in listed["data"]] == [own.json()["data"]["id"]]
    assert source_id not in str(listed)
    assert listed["data"][0]["tenantId"] == stranger.tenant_id


def test_another_project_of_the_same_tenant_is_404_too(
    anonymous: httpx.Client, emulator: EmulatorProcess, source_id: str
) -> None:
    neighbour = emulator.create_key(
        permissions=["config:read", "config:write"], project_id=emulator.create_project()
    )
    response = anonymous.delete(f"{LOG_SOURCES}/{source_id}", headers=auth(neighbour.api_key))
    assert response.status_code == 404
    assert anonymous.get(LOG_SOURCES, headers=auth(neighbour.api_key)).json()["data"] == []


def test_read_only_key_changes_nothing(
    anonymous: httpx.Client, api: httpx.Client, emulator: EmulatorProcess, source_id: str
) -> None:
    reader = auth(emulator.create_key(permissions=["config:read"]).api_key)
    before = api.get(LOG_SOURCES).json()["data"]
    writes = [
        ("POST", LOG_SOURCES, CLOUDWATCH),
        ("PUT", f"{LOG_SOURCES}/{source_id}", {"isActive": False}),
        ("PUT", f"{LOG_SOURCES}/{source_id}", {}),
        ("DELETE", f"{LOG_SOURCES}/{source_id}", None),
        ("POST", f"{LOG_SOURCES}/{source_id}/test", None),
    ]
    for method, path, body in writes:
        response = anonymous.request(method, path, json=body, headers=reader)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert api.get(LOG_SOURCES).json()["data"] == before
