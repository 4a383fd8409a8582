"""Fixtures of the emulator contract tests: HTTP clients bound to the per-test emulator."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sigsentry_emulator.testing import EmulatorProcess

from .helpers import CLOUDWATCH, SOURCES_PATH, auth


@pytest.fixture
def api(emulator: EmulatorProcess) -> Iterator[httpx.Client]:
    """Authenticated with the seeded project-scoped read+write key."""
    with httpx.Client(base_url=emulator.url, headers=auth(emulator.api_key), timeout=10) as client:
        yield client


@pytest.fixture
def anonymous(emulator: EmulatorProcess) -> Iterator[httpx.Client]:
    """No credentials: each call passes its own headers."""
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        yield client


@pytest.fixture
def source_id(api: httpx.Client) -> str:
    """The id of a CloudWatch source just created with the seeded key."""
    response = api.post(SOURCES_PATH, json=CLOUDWATCH)
    assert response.status_code == 201
    return str(response.json()["data"]["id"])
