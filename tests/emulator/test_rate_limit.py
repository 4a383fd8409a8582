"""The per-key token bucket: generous by default, 429 with Retry-After when exceeded."""

from __future__ import annotations

import time

import httpx

from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.testing import EmulatorProcess


def test_default_allows_a_burst_of_150_requests(api: httpx.Client) -> None:
    statuses = {api.get(LOG_SOURCES).status_code for _ in range(150)}
    assert statuses == {200}


def test_limit_is_per_key(
    api: httpx.Client, anonymous: httpx.Client, emulator: EmulatorProcess
) -> None:
    other = emulator.create_key(permissions=["config:read"])
    emulator.set_rate_limit(0.1, burst=2)
    assert [api.get(LOG_SOURCES).status_code for _ in range(3)] == [200, 200, 429]
    other_headers = auth(other.api_key)
    assert anonymous.get(LOG_SOURCES, headers=other_headers).status_code == 200


def test_tokens_refill_at_the_configured_rate(api: httpx.Client, emulator: EmulatorProcess) -> None:
    emulator.set_rate_limit(1, burst=1)
    assert api.get(LOG_SOURCES).status_code == 200
    refused = api.get(LOG_SOURCES)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    # real time: the bucket refills on the emulator process's clock, which no admin hook moves
    # (test_backend.py drives the limiter's own clock in-process)
    time.sleep(1.05)
    assert api.get(LOG_SOURCES).status_code == 200


def test_retry_after_reflects_a_slow_rate(api: httpx.Client, emulator: EmulatorProcess) -> None:
    emulator.set_rate_limit(0.25, burst=1)
    api.get(LOG_SOURCES)
    assert api.get(LOG_SOURCES).headers["Retry-After"] == "4"


def test_rate_zero_disables_limiting(api: httpx.Client, emulator: EmulatorProcess) -> None:
    emulator.set_rate_limit(0)
    assert {api.get(LOG_SOURCES).status_code for _ in range(250)} == {200}


def test_unauthenticated_calls_are_refused_as_401_not_429(
    anonymous: httpx.Client, emulator: EmulatorProcess
) -> None:
    emulator.set_rate_limit(0.1, burst=1)
    assert {anonymous.get(LOG_SOURCES).status_code for _ in range(5)} == {401}


def test_rate_limit_survives_restart_settings() -> None:
    with EmulatorProcess(rate_limit=0.1) as emu:
        emu.set_rate_limit(0.1, burst=1)
        emu.restart()
        with httpx.Client(base_url=emu.url, headers=auth(emu.api_key)) as client:
            assert [client.get(LOG_SOURCES).status_code for _ in range(2)] == [200, 429]
