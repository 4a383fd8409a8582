"""Raw HTTP to a SigSentry API (the emulator): the one helper every test folder uses for it.

For calls the product's own client must not make for the test: out-of-band changes behind
Pulumi's back, reading what a deployment did, and the emulator's contract tests.
"""

from __future__ import annotations

from typing import Any

import httpx

LOG_SOURCES = "/v1/config/log-sources"


def auth(api_key: str, **extra: str) -> dict[str, str]:
    """The request headers for `api_key`, plus any `extra` ones."""
    return {"Authorization": f"Bearer {api_key}", **extra}


def connect(url: str, api_key: str, **headers: str) -> httpx.Client:
    """A client for `url` sending `api_key` (and `headers`) with every request."""
    return httpx.Client(base_url=url, headers=auth(api_key, **headers), timeout=10)


def list_sources(api: httpx.Client) -> list[dict[str, Any]]:
    """Every log source of the client's project (one page of up to 500)."""
    response = api.get(LOG_SOURCES, params={"limit": 500})
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
    return data
