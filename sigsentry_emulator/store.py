"""SQLite storage of the emulator (one file, WAL journal).

Every write happens inside `Store.transaction()`, which holds a process-wide lock and an SQLite
`BEGIN IMMEDIATE` transaction, so check-then-write rules (quota, idempotency) are atomic under
concurrent requests and a commit survives `kill -9`. The store knows tables, not rules: the
backend decides what to read and write.

Credentials arrive here already encrypted; API keys arrive already hashed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    key_hash BLOB NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    project_id TEXT REFERENCES projects(id),
    permissions TEXT NOT NULL,
    created_at TEXT NOT NULL
);
-- seq orders a project's sources oldest first and never repeats (AUTOINCREMENT), which keeps
-- pagination cursors stable across deletes.
CREATE TABLE IF NOT EXISTS log_sources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    sources TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    credentials BLOB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_sources_by_project ON log_sources (tenant_id, project_id, seq);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    tenant_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
"""


@dataclass(frozen=True)
class ApiKeyRow:
    id: str
    tenant_id: str
    project_id: str | None
    permissions: tuple[str, ...]
    key_hash: bytes


@dataclass(frozen=True)
class LogSourceRow:
    seq: int
    id: str
    tenant_id: str
    project_id: str
    type: str
    name: str
    sources: tuple[str, ...]
    is_active: bool
    credentials: bytes
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class IdempotencyRow:
    fingerprint: bytes
    status: int
    response: str
    created_at: float


class Store:
    """Owns the SQLite connection; hand out `Transaction`s one at a time."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._conn.row_factory = sqlite3.Row
        if str(path) != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives the process being killed (kill -9); only an OS
        # crash or power loss could lose the last commits, which an emulator can afford
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")


class Transaction:
    """Queries and writes inside one open transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # tenants, projects, keys

    def ensure_tenant(self, tenant_id: str, now: str) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO tenants (id, created_at) VALUES (?, ?)", (tenant_id, now)
        )

    def tenant_exists(self, tenant_id: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
        return row is not None

    def project_tenant(self, project_id: str) -> str | None:
        row = self._conn.execute(
            "SELECT tenant_id FROM projects WHERE id = ?", (project_id,)
        ).fetchone()
        return None if row is None else str(row["tenant_id"])

    def insert_project(self, project_id: str, tenant_id: str, now: str) -> None:
        self._conn.execute(
            "INSERT INTO projects (id, tenant_id, created_at) VALUES (?, ?, ?)",
            (project_id, tenant_id, now),
        )

    def first_project_of(self, tenant_id: str) -> str | None:
        row = self._conn.execute(
            "SELECT id FROM projects WHERE tenant_id = ? ORDER BY rowid LIMIT 1", (tenant_id,)
        ).fetchone()
        return None if row is None else str(row["id"])

    def upsert_api_key(self, key: ApiKeyRow, now: str) -> None:
        self._conn.execute(
            "INSERT INTO api_keys (id, key_hash, tenant_id, project_id, permissions, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key_hash) DO UPDATE SET tenant_id = excluded.tenant_id,"
            " project_id = excluded.project_id, permissions = excluded.permissions",
            (
                key.id,
                key.key_hash,
                key.tenant_id,
                key.project_id,
                json.dumps(list(key.permissions)),
                now,
            ),
        )

    def api_key_by_hash(self, key_hash: bytes) -> ApiKeyRow | None:
        row = self._conn.execute(
            "SELECT * FROM api_keys WHERE key_hash = ?", (key_hash,)
        ).fetchone()
        if row is None:
            return None
        return ApiKeyRow(
            id=row["id"],
            tenant_id=row["tenant_id"],
            project_id=row["project_id"],
            permissions=tuple(json.loads(row["permissions"])),
            key_hash=bytes(row["key_hash"]),
        )

    # log sources

    def count_sources(self, tenant_id: str, project_id: str) -> int:
        row = self._conn.execute(
            "SELECT COUNT(*) AS n FROM log_sources WHERE tenant_id = ? AND project_id = ?",
            (tenant_id, project_id),
        ).fetchone()
        return int(row["n"])

    def insert_source(self, row: LogSourceRow) -> None:
        self._conn.execute(
            "INSERT INTO log_sources (id, tenant_id, project_id, type, name, sources, is_active,"
            " credentials, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.id,
                row.tenant_id,
                row.project_id,
                row.type,
                row.name,
                json.dumps(list(row.sources)),
                int(row.is_active),
                row.credentials,
                row.created_at,
                row.updated_at,
            ),
        )

    def get_source(self, tenant_id: str, project_id: str, source_id: str) -> LogSourceRow | None:
        row = self._conn.execute(
            "SELECT * FROM log_sources WHERE id = ? AND tenant_id = ? AND project_id = ?",
            (source_id, tenant_id, project_id),
        ).fetchone()
        return None if row is None else _source_from_row(row)

    def update_source(self, row: LogSourceRow) -> None:
        self._conn.execute(
            "UPDATE log_sources SET name = ?, sources = ?, is_active = ?, credentials = ?,"
            " updated_at = ? WHERE id = ?",
            (
                row.name,
                json.dumps(list(row.sources)),
                int(row.is_active),
                row.credentials,
                row.updated_at,
                row.id,
            ),
        )

    def delete_source(self, source_id: str) -> None:
        self._conn.execute("DELETE FROM log_sources WHERE id = ?", (source_id,))

    def list_sources(
        self, tenant_id: str, project_id: str, after_seq: int, limit: int
    ) -> list[LogSourceRow]:
        rows = self._conn.execute(
            "SELECT * FROM log_sources WHERE tenant_id = ? AND project_id = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (tenant_id, project_id, after_seq, limit),
        ).fetchall()
        return [_source_from_row(r) for r in rows]

    def all_sources(self) -> list[LogSourceRow]:
        rows = self._conn.execute("SELECT * FROM log_sources ORDER BY seq").fetchall()
        return [_source_from_row(r) for r in rows]

    # idempotency

    def get_idempotency(self, tenant_id: str, key: str) -> IdempotencyRow | None:
        row = self._conn.execute(
            "SELECT * FROM idempotency WHERE tenant_id = ? AND key = ?", (tenant_id, key)
        ).fetchone()
        if row is None:
            return None
        return IdempotencyRow(
            fingerprint=bytes(row["fingerprint"]),
            status=int(row["status"]),
            response=str(row["response"]),
            created_at=float(row["created_at"]),
        )

    def put_idempotency(self, tenant_id: str, key: str, record: IdempotencyRow) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO idempotency"
            " (tenant_id, key, fingerprint, status, response, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (tenant_id, key, record.fingerprint, record.status, record.response, record.created_at),
        )

    def purge_idempotency_before(self, cutoff: float) -> None:
        self._conn.execute("DELETE FROM idempotency WHERE created_at < ?", (cutoff,))

    # metadata

    def get_meta(self, name: str) -> bytes | None:
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row["value"])

    def put_meta(self, name: str, value: bytes) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    # reset

    def delete_all_sources_and_idempotency(self) -> None:
        self._conn.execute("DELETE FROM log_sources")
        self._conn.execute("DELETE FROM idempotency")


def _source_from_row(row: sqlite3.Row) -> LogSourceRow:
    return LogSourceRow(
        seq=int(row["seq"]),
        id=row["id"],
        tenant_id=row["tenant_id"],
        project_id=row["project_id"],
        type=row["type"],
        name=row["name"],
        sources=tuple(json.loads(row["sources"])),
        is_active=bool(row["is_active"]),
        credentials=bytes(row["credentials"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
