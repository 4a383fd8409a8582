"""The process fixture itself: start, seeded key, admin calls, restart, kill."""

from __future__ import annotations

import httpx

from sigsentry_emulator.testing import EmulatorProcess

from .helpers import CLOUDWATCH, auth


def test_seeded_key_creates_and_lists(emulator: EmulatorProcess) -> None:
    created = httpx.post(
        f"{emulator.url}/v1/config/log-sources", json=CLOUDWATCH, headers=auth(emulator.api_key)
    )
    assert created.status_code == 201, created.text
    record = created.json()["data"]
    assert record["projectId"] == emulator.project_id
    assert record["tenantId"] == emulator.tenant_id
    listed = httpx.get(f"{emulator.url}/v1/config/log-sources", headers=auth(emulator.api_key))
    assert [r["id"] for r in listed.json()["data"]] == [record["id"]]


def test_each_test_starts_clean(emulator: EmulatorProcess) -> None:
    listed = httpx.get(f"{emulator.url}/v1/config/log-sources", headers=auth(emulator.api_key))
    assert listed.json()["data"] == []
    assert [r["path"] for r in emulator.requests()] == ["/v1/config/log-sources"]
