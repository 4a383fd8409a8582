"""The backend's rules in-process (no HTTP): clocks, cursors, seeds, keys and reprs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.helpers import CLOUDWATCH, VALID_BODIES
from sigsentry_emulator.backend import (
    IDEMPOTENCY_TTL_SECONDS,
    Backend,
    Caller,
)
from sigsentry_emulator.crypto import CredentialCipher
from sigsentry_emulator.errors import (
    ApiError,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from sigsentry_emulator.faults import FaultInjector, FaultSpec
from sigsentry_emulator.models import check_credentials, parse_create
from sigsentry_emulator.ratelimit import RateLimiter
from sigsentry_emulator.seed import SeedConfig
from sigsentry_emulator.simulation import simulate_test
from sigsentry_emulator.store import Store
from sigsentry_emulator.testing import ApiKeyInfo, EmulatorProcess

KEY = "ss_secret_unit-test-key-0001"


class Clock:
    def __init__(self, now: float = 1_777_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend(tmp_path: Path, clock: Clock) -> Backend:
    backend = Backend(
        Store(tmp_path / "unit.db"), CredentialCipher.generate(), quota=5, clock=clock
    )
    backend.apply_seed(
        SeedConfig.model_validate(
            {
                "tenants": [
                    {
                        "id": "tnt_unit",
                        "projects": ["prj_unit"],
                        "keys": [
                            {
                                "key": KEY,
                                "project": "prj_unit",
                                "permissions": ["config:read", "config:write"],
                            }
                        ],
                    }
                ]
            }
        )
    )
    return backend


@pytest.fixture
def caller(backend: Backend) -> Caller:
    return backend.authenticate(KEY, None)


def test_idempotency_records_expire_after_24_hours(
    backend: Backend, caller: Caller, clock: Clock
) -> None:
    first = backend.create_log_source(caller, CLOUDWATCH, "daily")
    clock.now += IDEMPOTENCY_TTL_SECONDS - 1
    assert backend.create_log_source(caller, CLOUDWATCH, "daily").replayed is True
    clock.now += 2
    later = backend.create_log_source(caller, CLOUDWATCH, "daily")
    assert later.replayed is False
    assert later.record["id"] != first.record["id"]


def test_an_expired_key_no_longer_conflicts(backend: Backend, caller: Caller, clock: Clock) -> None:
    backend.create_log_source(caller, CLOUDWATCH, "k")
    with pytest.raises(IdempotencyConflict):
        backend.create_log_source(caller, {**CLOUDWATCH, "name": "other"}, "k")
    clock.now += IDEMPOTENCY_TTL_SECONDS + 1
    assert backend.create_log_source(caller, {**CLOUDWATCH, "name": "other"}, "k").status == 201


def test_timestamps_follow_the_clock(backend: Backend, caller: Caller, clock: Clock) -> None:
    record = backend.create_log_source(caller, CLOUDWATCH, None).record
    clock.now += 90
    backend.update_log_source(caller, str(record["id"]), {"name": "renamed"})
    [after], _ = backend.list_log_sources(caller, None, None)
    assert record["createdAt"] == "2026-04-24T03:06:40Z"
    assert after["createdAt"] == record["createdAt"]
    assert after["updatedAt"] == "2026-04-24T03:08:10Z"


def test_an_empty_put_changes_nothing_not_even_updated_at(
    backend: Backend, caller: Caller, clock: Clock
) -> None:
    # The contract's no-op, which clients send to learn whether a source exists.
    record = backend.create_log_source(caller, CLOUDWATCH, None).record
    clock.now += 90
    backend.update_log_source(caller, str(record["id"]), {})
    [after], _ = backend.list_log_sources(caller, None, None)
    assert after == record
    with pytest.raises(NotFound):
        backend.update_log_source(caller, "ls_00000000-0000-4000-8000-000000000000", {})


def test_cursor_round_trip_and_tampering(backend: Backend) -> None:
    cursor = backend.encode_cursor("prj_a", 42)
    assert backend.decode_cursor(cursor, "prj_a") == 42
    assert "prj_a" not in cursor
    forged = backend.encode_cursor("prj_a", 42)[:-1] + ("A" if cursor[-1] != "A" else "B")
    for bad in (cursor + "x", cursor[:-2], "", forged, backend.encode_cursor("prj_b", 42), "é"):
        with pytest.raises(ValidationFailed):
            backend.decode_cursor(bad, "prj_a")


def test_seeding_twice_is_idempotent_and_updates_permissions(backend: Backend) -> None:
    reseed = {
        "tenants": [
            {
                "id": "tnt_unit",
                "projects": ["prj_unit"],
                "keys": [{"key": KEY, "project": "prj_unit", "permissions": ["config:read"]}],
            }
        ]
    }
    backend.apply_seed(SeedConfig.model_validate(reseed))
    caller = backend.authenticate(KEY, None)
    assert caller.permissions == frozenset({"config:read"})
    with pytest.raises(Forbidden):
        backend.create_log_source(caller, CLOUDWATCH, None)


def test_api_keys_are_stored_hashed(backend: Backend, tmp_path: Path) -> None:
    minted = backend.mint_key(
        permissions=["config:read"], tenant_id="tnt_unit", project_id=None, tenant_scoped=False
    )
    data = b"".join(p.read_bytes() for p in tmp_path.glob("unit.db*"))
    assert KEY.encode() not in data
    assert minted.api_key.encode() not in data
    assert backend.authenticate(minted.api_key, None).project_id == "prj_unit"


@pytest.mark.parametrize(
    "token", [None, "", "Bearer x", "ss_secret_", "ss_secret_has space", "ss_secret_unknown1"]
)
def test_bad_keys_are_unauthorized(backend: Backend, token: str | None) -> None:
    with pytest.raises(Unauthorized):
        backend.authenticate(token, None)


def test_mint_key_rejects_unknown_permissions(backend: Backend) -> None:
    with pytest.raises(ValidationFailed) as caught:
        backend.mint_key(
            permissions=["config:admin"], tenant_id=None, project_id=None, tenant_scoped=False
        )
    assert caught.value.details[0].field == "permissions"


def test_create_project_in_unknown_tenant_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.create_project("tnt_nobody")


def test_reset_keeps_keys_and_drops_sources(backend: Backend, caller: Caller) -> None:
    backend.create_log_source(caller, CLOUDWATCH, "before-reset")
    backend.reset()
    assert backend.list_log_sources(backend.authenticate(KEY, None), None, None) == ([], None)
    assert backend.create_log_source(caller, CLOUDWATCH, "before-reset").replayed is False


def test_rate_limiter_refills_continuously() -> None:
    clock = Clock(0)
    limiter = RateLimiter(2, 2, clock=clock)
    assert [limiter.acquire("k") for _ in range(3)] == [None, None, 1]
    clock.now += 0.5
    assert limiter.acquire("k") is None
    assert limiter.acquire("other") is None
    limiter.configure(0.1, 1)
    assert limiter.acquire("k") is None
    assert limiter.acquire("k") == 10


def test_fault_injector_sequences_and_times() -> None:
    faults = FaultInjector()
    faults.install(
        FaultSpec.model_validate(
            {
                "rules": [
                    {"method": "post", "path": "/v1/*", "sequence": ["drop", "ok", "503"]},
                    {
                        "path": "/v1/config/log-sources",
                        "fault": "slow",
                        "delaySeconds": 0.5,
                        "times": 1,
                    },
                ]
            }
        )
    )
    kinds = [
        getattr(faults.decide("POST", "/v1/config/log-sources"), "kind", None) for _ in range(5)
    ]
    assert kinds == ["drop", None, "503", "slow", None]
    assert faults.decide("GET", "/healthz") is None


def test_elastic_auth_forms() -> None:
    host = {"host": "https://es.example.com"}
    assert check_credentials("elastic", {**host, "apiKey": "k"}) == []
    assert check_credentials("elastic", {**host, "username": "u", "password": "p"}) == []
    assert [i.field for i in check_credentials("elastic", host)] == ["credentials"]


@pytest.mark.parametrize(
    "host",
    [
        "https://h.example.com",
        "http://localhost:3100",
        "https://h.example.com/loki/api",
        "http://10.0.0.1",
    ],
)
def test_host_accepts_absolute_http_urls(host: str) -> None:
    assert check_credentials("loki", {"host": host}) == []


@pytest.mark.parametrize(
    "host",
    [
        "h.example.com",
        "//h.example.com",
        "ftp://h",
        "https://",
        " https://h.example.com",
        "http:/h",
    ],
)
def test_host_refuses_anything_else(host: str) -> None:
    assert [i.field for i in check_credentials("loki", {"host": host})] == ["credentials.host"]


def test_parse_create_reports_every_problem_at_once() -> None:
    body = {"type": "datadog", "name": " ", "credentials": {"apiKey": "a"}, "sources": ["x", "x"]}
    with pytest.raises(ValidationFailed) as caught:
        parse_create(body)
    assert {i.field for i in caught.value.details} == {"name", "sources[1]", "credentials.appKey"}


@pytest.mark.parametrize("source_type", sorted(VALID_BODIES))
def test_simulated_lines_look_like_the_platform(source_type: str) -> None:
    body: dict[str, Any] = VALID_BODIES[source_type]
    result = simulate_test(
        source_type, "ls_x", body["sources"], body["credentials"], "2026-04-25T14:30:12Z"
    )
    assert result["ok"] is True
    sample = result["sample"]
    assert isinstance(sample, list) and len(sample) == 3
    if source_type in ("datadog", "elastic", "gcp_logging"):
        assert all(isinstance(json.loads(line), dict) for line in sample)
    if source_type == "loki":
        assert all(line.startswith(body["sources"][0]) for line in sample)
    assert len(set(sample)) == 3


def test_errors_carry_status_and_code() -> None:
    error: ApiError = ValidationFailed("bad", [])
    assert (error.status, error.code) == (400, "VALIDATION_ERROR")
    assert error.envelope() == {
        "success": False,
        "error": {"code": "VALIDATION_ERROR", "message": "bad"},
    }


def test_reprs_hide_secrets(tmp_path: Path) -> None:
    info = ApiKeyInfo(
        api_key="ss_secret_do-not-show",
        key_id="key_1",
        tenant_id="tnt_1",
        project_id=None,
        default_project_id="prj_1",
        permissions=("config:read",),
    )
    assert "ss_secret_do-not-show" not in repr(info)
    cipher = CredentialCipher.generate()
    assert "hidden" in repr(cipher)
    process = EmulatorProcess(db_path=tmp_path / "x.db")
    try:
        assert process.api_key not in repr(process)
        assert process.admin_token not in repr(process)
    finally:
        process.close()


def test_credentials_round_trip_through_ciphertext() -> None:
    cipher = CredentialCipher.generate()
    token = cipher.encrypt({"apiKey": "plain-secret"})
    assert b"plain-secret" not in token
    assert cipher.decrypt(token) == {"apiKey": "plain-secret"}
    assert CredentialCipher.generate().fingerprint(b"x") != cipher.fingerprint(b"x")


def test_the_app_runs_in_process_too() -> None:
    import sigsentry_emulator

    backend = sigsentry_emulator.Backend(
        sigsentry_emulator.Store(":memory:"), sigsentry_emulator.CredentialCipher.generate()
    )
    minted = backend.mint_key(
        permissions=["config:read", "config:write"],
        tenant_id=None,
        project_id=None,
        tenant_scoped=False,
    )
    app = sigsentry_emulator.create_app(sigsentry_emulator.EmulatorState(backend))

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {minted.api_key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://emulator", headers=headers
        ) as client:
            created = await client.post("/v1/config/log-sources", json=CLOUDWATCH)
            listed = await client.get("/v1/config/log-sources")
            return [created.status_code, len(listed.json()["data"])]

    # a private loop: asyncio.run() would leave "no current event loop" behind for later tests
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(scenario()) == [201, 1]
    finally:
        loop.close()
    assert sorted(sigsentry_emulator.__all__) == sigsentry_emulator.__all__
