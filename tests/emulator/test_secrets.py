"""No credential value or API key reaches a response, the request log, or the server's output."""

from __future__ import annotations

import httpx

from emulator.helpers import VALID_BODIES
from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.testing import EmulatorProcess


def test_a_full_lifecycle_leaks_no_secret_anywhere() -> None:
    with EmulatorProcess(extra_args=["--log-level", "debug"]) as emu:
        seen: list[str] = []
        with httpx.Client(base_url=emu.url, headers=auth(emu.api_key), timeout=10) as api:
            for body in VALID_BODIES.values():
                created = api.post(
                    LOG_SOURCES, json=body, headers={"Idempotency-Key": body["name"]}
                )
                source = created.json()["data"]["id"]
                replay = api.post(LOG_SOURCES, json=body, headers={"Idempotency-Key": body["name"]})
                rotate = api.put(
                    f"{LOG_SOURCES}/{source}", json={"credentials": body["credentials"]}
                )
                bad = api.put(
                    f"{LOG_SOURCES}/{source}",
                    json={"credentials": {**body["credentials"], "extra": "x"}},
                )
                tested = api.post(f"{LOG_SOURCES}/{source}/test")
                listed = api.get(LOG_SOURCES)
                deleted = api.delete(f"{LOG_SOURCES}/{source}")
                for response in (created, replay, rotate, bad, tested, listed, deleted):
                    seen.append(response.text + str(response.headers))
        seen.append(repr(emu.requests()))
        emu.stop()
        seen.extend(emu.output())
    everything = "\n".join(seen)
    for body in VALID_BODIES.values():
        for value in body["credentials"].values():
            assert value not in everything
    assert emu.api_key not in everything
    assert emu.admin_token not in everything
