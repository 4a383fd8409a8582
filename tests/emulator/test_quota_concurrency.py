"""The logSourcesPerProject quota holds under concurrent creates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from emulator.helpers import CLOUDWATCH
from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.testing import EmulatorProcess


def test_fifty_parallel_creates_under_a_quota_of_forty_create_exactly_forty(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    emulator.set_quota(40)
    url = f"{emulator.url}{LOG_SOURCES}"

    def post(i: int) -> httpx.Response:
        with httpx.Client(timeout=30) as client:
            return client.post(
                url, json={**CLOUDWATCH, "name": f"source-{i}"}, headers=auth(emulator.api_key)
            )

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(post, range(50)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 40 + [403] * 10
    refused = [r.json()["error"]["code"] for r in responses if r.status_code == 403]
    assert refused == ["QUOTA_EXCEEDED"] * 10
    assert len(api.get(LOG_SOURCES, params={"limit": 500}).json()["data"]) == 40
