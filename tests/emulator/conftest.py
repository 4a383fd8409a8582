"""Fixtures of the emulator contract tests (`api`, the authenticated client, is the root one)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator.helpers import CLOUDWATCH
from raw_api import LOG_SOURCES
from sigsentry_emulator.testing import EmulatorProcess


@pytest.fixture
def anonymous(emulator: EmulatorProcess) -> Iterator[httpx.Client]:
    """No credentials: each call passes its own headers."""
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        yield client


@pytest.fixture
def source_id(api: httpx.Client) -> str:
    """The id of a CloudWatch source just created with the seeded key."""
    response = api.post(LOG_SOURCES, json=CLOUDWATCH)
    assert response.status_code == 201
    return str(response.json()["data"]["id"])
