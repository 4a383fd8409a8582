"""The admin comparison of stored credentials: a test learns whether SigSentry holds the
credentials it expects, and which keys differ, without any route returning a value."""

from __future__ import annotations

import httpx
import pytest

from emulator.helpers import CLOUDWATCH
from raw_api import LOG_SOURCES
from sigsentry_emulator.testing import EmulatorError, EmulatorProcess


def test_the_comparison_names_the_keys_that_differ_and_never_a_value(
    api: httpx.Client, emulator: EmulatorProcess, source_id: str
) -> None:
    stored = CLOUDWATCH["credentials"]
    assert emulator.credential_differences(source_id, stored) == []

    rotated = {**stored, "secretAccessKey": "rotated-" + stored["secretAccessKey"]}
    assert emulator.credential_differences(source_id, rotated) == ["secretAccessKey"]
    extra = {**stored, "sessionToken": "token"}
    assert emulator.credential_differences(source_id, extra) == ["sessionToken"]
    assert emulator.credential_differences(source_id, {"accessKeyId": stored["accessKeyId"]}) == [
        "secretAccessKey"
    ]

    api.put(f"{LOG_SOURCES}/{source_id}", json={"credentials": rotated}).raise_for_status()
    assert emulator.credential_differences(source_id, rotated) == []

    admin = {"X-Admin-Token": emulator.admin_token}
    path = f"/_admin/log-sources/{source_id}/credentials/compare"
    answer = httpx.post(emulator.url + path, json={"credentials": stored}, headers=admin)
    assert answer.json()["data"] == {
        "id": source_id,
        "matches": False,
        "differingKeys": ["secretAccessKey"],
    }
    for value in (*stored.values(), *rotated.values()):
        assert value not in answer.text


def test_the_comparison_needs_the_admin_token_and_an_existing_source(
    emulator: EmulatorProcess, source_id: str
) -> None:
    path = f"{emulator.url}/_admin/log-sources/{source_id}/credentials/compare"
    body = {"credentials": CLOUDWATCH["credentials"]}
    assert httpx.post(path, json=body).status_code == 401
    assert httpx.post(path, json=body, headers={"X-Admin-Token": "wrong"}).status_code == 401
    with pytest.raises(EmulatorError, match="404"):
        emulator.credential_differences("ls_00000000-0000-4000-8000-000000000000", {"a": "b"})
