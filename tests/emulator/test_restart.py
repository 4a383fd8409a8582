"""Durability and encryption at rest: kill -9, restart on the same database, read the bytes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from emulator.helpers import SERVICE_ACCOUNT, VALID_BODIES
from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.backend import Backend
from sigsentry_emulator.crypto import KEY_ENV_VAR, CredentialCipher, key_file_for
from sigsentry_emulator.store import Store
from sigsentry_emulator.testing import EmulatorProcess

REJECTED = {
    "type": "datadog",
    "name": "rejected",
    "credentials": {"apiKey": "invalid", "appKey": "dd-app-secret-restart"},
    "sources": ["service:x"],
}
ROTATED = {"accessKeyId": "AKIAROTATEDRESTART01", "secretAccessKey": "rotated-secret-restart"}


def secret_values() -> list[str]:
    values = [v for body in VALID_BODIES.values() for v in body["credentials"].values()]
    values += ["dd-app-secret-restart", *ROTATED.values(), "MIIEvQ-gcp-secret"]
    return [v for v in values if v != SERVICE_ACCOUNT] + ["acme-prod.iam.gserviceaccount"]


def db_bytes(db: Path) -> dict[str, bytes]:
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    return {f.name: f.read_bytes() for f in files if f.exists()}


def test_kill_9_keeps_every_committed_change_and_credentials_still_decrypt(tmp_path: Path) -> None:
    db = tmp_path / "data" / "sigsentry.db"
    with EmulatorProcess(db_path=db) as emu:
        api = httpx.Client(base_url=emu.url, headers=auth(emu.api_key), timeout=10)
        created = {t: api.post(LOG_SOURCES, json=b).json()["data"] for t, b in VALID_BODIES.items()}
        rejected = api.post(
            LOG_SOURCES, json=REJECTED, headers={"Idempotency-Key": "before-crash"}
        ).json()["data"]
        cloudwatch = created["cloudwatch"]["id"]
        api.put(f"{LOG_SOURCES}/{cloudwatch}", json={"credentials": ROTATED, "isActive": False})
        api.delete(f"{LOG_SOURCES}/{created['splunk']['id']}")
        before = api.get(LOG_SOURCES).json()["data"]
        api.close()

        emu.kill()
        files = db_bytes(db)
        assert any(name.endswith("-wal") for name in files)  # the crash left a live WAL
        for value in secret_values():
            for name, data in files.items():
                assert value.encode() not in data, f"{value!r} in plaintext in {name}"
        assert emu.api_key.encode() not in b"".join(files.values())

        emu.restart()
        api = httpx.Client(base_url=emu.url, headers=auth(emu.api_key), timeout=10)
        assert api.get(LOG_SOURCES).json()["data"] == before
        results = {
            r["id"]: api.post(f"{LOG_SOURCES}/{r['id']}/test").json()["data"]["ok"] for r in before
        }
        assert results.pop(rejected["id"]) is False  # the stored apiKey decrypts to "invalid"
        assert all(results.values())
        replay = api.post(LOG_SOURCES, json=REJECTED, headers={"Idempotency-Key": "before-crash"})
        assert replay.headers.get("Idempotent-Replayed") == "true"
        assert replay.json()["data"] == rejected
        api.close()
        emu.stop()

    stored = Backend(Store(db), CredentialCipher.for_database(db)).stored_credentials()
    assert stored[cloudwatch] == ROTATED
    assert stored[rejected["id"]] == REJECTED["credentials"]
    assert created["splunk"]["id"] not in stored


def test_key_file_is_private_and_beside_the_database(tmp_path: Path) -> None:
    db = tmp_path / "sigsentry.db"
    with EmulatorProcess(db_path=db):
        key_file = key_file_for(db)
        assert key_file.parent == db.parent
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def run_cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sigsentry_emulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_key_from_the_environment_is_used_and_a_wrong_one_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "sigsentry.db"
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(KEY_ENV_VAR, key)
    with EmulatorProcess(db_path=db) as emu:
        created = httpx.post(
            f"{emu.url}{LOG_SOURCES}", json=VALID_BODIES["datadog"], headers=auth(emu.api_key)
        )
        assert created.status_code == 201
    assert not key_file_for(db).exists()

    wrong = run_cli(["--db", str(db), "--port", "0"], {KEY_ENV_VAR: Fernet.generate_key().decode()})
    assert wrong.returncode != 0
    assert "do not decrypt with this key" in wrong.stderr

    malformed = run_cli(["--db", str(db), "--port", "0"], {KEY_ENV_VAR: "not-a-key"})
    assert malformed.returncode != 0
    assert KEY_ENV_VAR in malformed.stderr
    assert "not-a-key" not in malformed.stderr

    with EmulatorProcess(db_path=db) as again:  # the right key still opens it
        listed = httpx.get(f"{again.url}{LOG_SOURCES}", headers=auth(again.api_key))
        assert listed.status_code == 200
