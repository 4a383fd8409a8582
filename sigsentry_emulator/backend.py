"""The rules of the SigSentry log-source API, free of HTTP.

`Backend` authenticates API keys, resolves the project a call acts on, checks permissions,
validates bodies, applies the quota and the Idempotency-Key rules, and reads and writes the store.
Every failure is an `ApiError` carrying the contract's status and code. The HTTP layer (`app.py`)
only decodes requests, calls one method here, and encodes the result.

Not implemented (not in the contract): reading one source by id, plans other than a single
`logSourcesPerProject` quota, key rotation or expiry, audit history.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from .crypto import CredentialCipher
from .errors import (
    FieldIssue,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    QuotaExceeded,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from .models import (
    SOURCE_ID_PATTERN,
    CreateLogSourceRequest,
    check_credentials,
    check_text,
    decode_json,
    parse_create,
    parse_update,
)
from .ratelimit import RateLimiter
from .seed import SeedConfig
from .simulation import simulate_test
from .store import ApiKeyRow, IdempotencyRow, LogSourceRow, Store, Transaction

DEFAULT_QUOTA = 50
IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
READ = "config:read"
WRITE = "config:write"
API_KEY_PREFIX = "ss_secret_"

_SOURCE_ID = re.compile(SOURCE_ID_PATTERN)
_IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")
_API_KEY = re.compile(r"^ss_secret_[A-Za-z0-9_-]{1,200}$")


@dataclass(frozen=True)
class Caller:
    """An authenticated API key and the project this call acts on."""

    key_id: str
    tenant_id: str
    project_id: str
    permissions: frozenset[str]

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"this API key lacks the {permission} permission")


@dataclass(frozen=True)
class MintedKey:
    """A newly created API key; `api_key` is shown once and stored only as a hash."""

    api_key: str = field(repr=False)
    key_id: str
    tenant_id: str
    project_id: str | None
    default_project_id: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class CreateResult:
    status: int
    record: dict[str, object]
    replayed: bool


class Backend:
    def __init__(
        self,
        store: Store,
        cipher: CredentialCipher,
        *,
        quota: int = DEFAULT_QUOTA,
        rate_limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.cipher = cipher
        self.quota = quota
        self.rate_limiter = rate_limiter or RateLimiter()
        self._clock = clock

    # identity

    def authenticate(self, api_key: str | None, project_header: str | None) -> Caller:
        """Who is calling and on which project; also takes a rate-limit token for the key."""
        if not api_key:
            raise Unauthorized("missing API key: send Authorization: Bearer ss_secret_...")
        if not _API_KEY.match(api_key):
            raise Unauthorized("malformed API key: keys look like ss_secret_<random>")
        digest = hash_api_key(api_key)
        with self.store.transaction() as tx:
            row = tx.api_key_by_hash(digest)
            if row is None or not hmac.compare_digest(row.key_hash, digest):
                raise Unauthorized("unknown API key")
            wait = self.rate_limiter.acquire(row.id)
            if wait is not None:
                raise RateLimited(
                    f"too many requests for this API key; retry after {wait} s", retry_after=wait
                )
            project_id = self._resolve_project(tx, row, project_header or None)
        return Caller(row.id, row.tenant_id, project_id, frozenset(row.permissions))

    def _resolve_project(self, tx: Transaction, key: ApiKeyRow, header: str | None) -> str:
        if key.project_id is not None:
            if header is not None and header != key.project_id:
                raise Forbidden(
                    f"this API key belongs to project {key.project_id}; "
                    "drop X-Project-Id or use a key of the project you named"
                )
            return key.project_id
        if header is None:
            raise ValidationFailed(
                "a tenant-scoped API key must name a project",
                [FieldIssue("X-Project-Id", "required with a tenant-scoped key: send prj_...")],
            )
        if tx.project_tenant(header) != key.tenant_id:
            raise Forbidden("this API key may not act on the project named by X-Project-Id")
        return header

    # log sources

    def create_log_source(
        self, caller: Caller, body: object, idempotency_key: str | None
    ) -> CreateResult:
        """`body`: decoded JSON, or the raw bytes of the request (decoded here, in rule order)."""
        caller.require(WRITE)
        if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise ValidationFailed(
                "invalid Idempotency-Key",
                [FieldIssue("Idempotency-Key", "must be 1-255 printable ASCII characters")],
            )
        body = _decoded(body)
        # Validated before the store lock is taken, so a large bad body never holds up other
        # requests. Without an Idempotency-Key a bad body never reaches the store; with one, its
        # failure comes after the key check (a reused key is 409 first, in the rule order).
        try:
            request: CreateLogSourceRequest | ValidationFailed = parse_create(body)
        except ValidationFailed as exc:
            if idempotency_key is None:
                raise
            request = exc
        # Only valid bodies are remembered, so an invalid one never matches a remembered one and
        # needs no fingerprint (which would serialise all of it, however large).
        fingerprint = b""
        if idempotency_key is not None and not isinstance(request, ValidationFailed):
            fingerprint = self._fingerprint(caller.project_id, body)
        now = self._clock()
        with self.store.transaction() as tx:
            if idempotency_key is not None:
                tx.purge_idempotency_before(now - IDEMPOTENCY_TTL_SECONDS)
                earlier = tx.get_idempotency(caller.tenant_id, idempotency_key)
                if earlier is not None:
                    if not fingerprint or not hmac.compare_digest(earlier.fingerprint, fingerprint):
                        raise IdempotencyConflict(
                            "this Idempotency-Key was used with a different request body; "
                            "use a new key for a different request"
                        )
                    return CreateResult(earlier.status, json.loads(earlier.response), True)
            if isinstance(request, ValidationFailed):
                raise request
            if tx.count_sources(caller.tenant_id, caller.project_id) >= self.quota:
                raise QuotaExceeded(
                    f"project {caller.project_id} has reached its quota of {self.quota} "
                    "log sources (logSourcesPerProject); delete one or raise the plan"
                )
            stamp = _timestamp(now)
            row = LogSourceRow(
                seq=0,
                id=f"ls_{uuid.uuid4()}",
                tenant_id=caller.tenant_id,
                project_id=caller.project_id,
                type=request.type,
                name=request.name,
                sources=tuple(request.sources),
                is_active=True,
                credentials=self.cipher.encrypt(request.credentials),
                created_at=stamp,
                updated_at=stamp,
            )
            tx.insert_source(row)
            record = _record(row)
            if idempotency_key is not None:
                tx.put_idempotency(
                    caller.tenant_id,
                    idempotency_key,
                    IdempotencyRow(fingerprint, 201, json.dumps(record), now),
                )
        return CreateResult(201, record, False)

    def update_log_source(self, caller: Caller, source_id: str, body: object) -> None:
        caller.require(WRITE)
        _check_source_id(source_id)
        request = parse_update(_decoded(body))
        encrypted = None
        if request.credentials is not None:
            # checked against the stored type outside the lock (a type never changes), so the
            # write below holds the lock only for the row
            with self.store.transaction() as tx:
                source_type = self._find(tx, caller, source_id).type
            issues = check_credentials(source_type, request.credentials)
            if issues:
                raise ValidationFailed("request body failed validation", issues)
            encrypted = self.cipher.encrypt(request.credentials)
        with self.store.transaction() as tx:
            row = self._find(tx, caller, source_id)
            if not request.model_fields_set:
                # The contract's no-op: an empty body changes nothing, `updatedAt` included
                # (the provider sends it to learn whether a source exists).
                return
            credentials = row.credentials if encrypted is None else encrypted
            tx.update_source(
                replace(
                    row,
                    name=row.name if request.name is None else request.name,
                    sources=row.sources if request.sources is None else tuple(request.sources),
                    is_active=row.is_active if request.isActive is None else request.isActive,
                    credentials=credentials,
                    updated_at=_timestamp(self._clock()),
                )
            )

    def delete_log_source(self, caller: Caller, source_id: str) -> None:
        caller.require(WRITE)
        _check_source_id(source_id)
        with self.store.transaction() as tx:
            tx.delete_source(self._find(tx, caller, source_id).id)

    def list_log_sources(
        self, caller: Caller, limit: str | int | None, cursor: str | None
    ) -> tuple[list[dict[str, object]], str | None]:
        caller.require(READ)
        page_size = _page_size(limit)
        after = 0 if cursor is None else self.decode_cursor(cursor, caller.project_id)
        with self.store.transaction() as tx:
            rows = tx.list_sources(caller.tenant_id, caller.project_id, after, page_size + 1)
        more = len(rows) > page_size
        rows = rows[:page_size]
        next_cursor = self.encode_cursor(caller.project_id, rows[-1].seq) if more else None
        return [_record(r) for r in rows], next_cursor

    def test_log_source(self, caller: Caller, source_id: str) -> dict[str, object]:
        caller.require(WRITE)
        _check_source_id(source_id)
        with self.store.transaction() as tx:
            row = self._find(tx, caller, source_id)
        credentials = self.cipher.decrypt(row.credentials)
        return simulate_test(row.type, row.id, row.sources, credentials, row.created_at)

    def encode_cursor(self, project_id: str, seq: int) -> str:
        """Opaque to clients; signed, so a truncated or edited cursor is refused, not misread."""
        payload = f"{project_id}:{seq}".encode()
        signature = self.cipher.fingerprint(payload)[:12]
        return base64.urlsafe_b64encode(signature + payload).decode().rstrip("=")

    def decode_cursor(self, cursor: str, project_id: str) -> int:
        try:
            raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii"))
        except (ValueError, UnicodeError, binascii.Error):
            raw = b""
        signature, payload = raw[:12], raw[12:]
        if len(signature) == 12 and hmac.compare_digest(
            signature, self.cipher.fingerprint(payload)[:12]
        ):
            project, _, seq = payload.decode().rpartition(":")
            if project == project_id and seq.isdigit():
                return int(seq)
        raise ValidationFailed(
            "invalid cursor",
            [
                FieldIssue(
                    "cursor", "pass nextCursor from the previous page of this project unchanged"
                )
            ],
        )

    def _find(self, tx: Transaction, caller: Caller, source_id: str) -> LogSourceRow:
        row = tx.get_source(caller.tenant_id, caller.project_id, source_id)
        if row is None:
            raise NotFound(f"no log source {source_id} in project {caller.project_id}")
        return row

    def _fingerprint(self, project_id: str, body: object) -> bytes:
        canonical = json.dumps([project_id, body], sort_keys=True, separators=(",", ":"))
        return self.cipher.fingerprint(canonical.encode())

    # administration (start-up, seeding, tests)

    def check_encryption_key(self) -> None:
        """Fail at start-up, not at the first test call, when the key cannot open the data."""
        with self.store.transaction() as tx:
            probe = tx.get_meta("key_check")
            if probe is None:
                tx.put_meta("key_check", self.cipher.encrypt({"probe": "ok"}))
                return
        self.cipher.decrypt(probe)

    def apply_seed(self, config: SeedConfig) -> None:
        now = _timestamp(self._clock())
        with self.store.transaction() as tx:
            for tenant in config.tenants:
                tx.ensure_tenant(tenant.id, now)
                for project in tenant.projects:
                    owner = tx.project_tenant(project)
                    if owner is None:
                        tx.insert_project(project, tenant.id, now)
                    elif owner != tenant.id:
                        raise ValueError(f"project {project} already belongs to {owner}")
                for key in tenant.keys:
                    tx.upsert_api_key(
                        ApiKeyRow(
                            id=_new_id("key"),
                            tenant_id=tenant.id,
                            project_id=key.project,
                            permissions=tuple(key.permissions),
                            key_hash=hash_api_key(key.key),
                        ),
                        now,
                    )

    def mint_key(
        self,
        *,
        permissions: Sequence[str],
        tenant_id: str | None,
        project_id: str | None,
        tenant_scoped: bool,
    ) -> MintedKey:
        """Create an API key (and its tenant or project when they do not exist yet).

        No tenant_id: a new tenant. No project_id: the tenant's first project (created if the
        tenant has none).
        """
        unknown = sorted(set(permissions) - {READ, WRITE})
        if unknown:
            raise ValidationFailed(
                "unknown permission",
                [FieldIssue("permissions", f"allowed: {READ}, {WRITE}; got {', '.join(unknown)}")],
            )
        now = _timestamp(self._clock())
        with self.store.transaction() as tx:
            tenant = tenant_id or _new_id("tnt")
            tx.ensure_tenant(tenant, now)
            project = project_id or tx.first_project_of(tenant)
            if project is None:
                project = _new_id("prj")
            owner = tx.project_tenant(project)
            if owner is None:
                tx.insert_project(project, tenant, now)
            elif owner != tenant:
                raise ValidationFailed(
                    "project belongs to another tenant",
                    [FieldIssue("projectId", f"{project} belongs to another tenant")],
                )
            api_key = API_KEY_PREFIX + secrets.token_urlsafe(24)
            row = ApiKeyRow(
                id=_new_id("key"),
                tenant_id=tenant,
                project_id=None if tenant_scoped else project,
                permissions=tuple(permissions),
                key_hash=hash_api_key(api_key),
            )
            tx.upsert_api_key(row, now)
        return MintedKey(
            api_key=api_key,
            key_id=row.id,
            tenant_id=tenant,
            project_id=row.project_id,
            default_project_id=project,
            permissions=row.permissions,
        )

    def create_project(self, tenant_id: str) -> str:
        now = _timestamp(self._clock())
        project = _new_id("prj")
        with self.store.transaction() as tx:
            if not tx.tenant_exists(tenant_id):
                raise NotFound(f"no tenant {tenant_id}")
            tx.insert_project(project, tenant_id, now)
        return project

    def reset(self) -> None:
        """Drop every log source and idempotency record; tenants, projects and keys stay."""
        with self.store.transaction() as tx:
            tx.delete_all_sources_and_idempotency()
        self.rate_limiter.reset()

    def credential_differences(self, source_id: str, expected: Mapping[str, str]) -> list[str]:
        """The credential keys of source `source_id` (any tenant) whose stored value is not the
        expected one, a key missing on either side included; names only, never a value."""
        with self.store.transaction() as tx:
            row = next((r for r in tx.all_sources() if r.id == source_id), None)
        if row is None:
            raise NotFound(f"no log source {source_id}")
        stored = self.cipher.decrypt(row.credentials)

        def differs(key: str) -> bool:
            if key not in stored or key not in expected:
                return True
            return not hmac.compare_digest(stored[key].encode(), expected[key].encode())

        return sorted(key for key in stored.keys() | expected.keys() if differs(key))

    def stored_credentials(self) -> dict[str, dict[str, str]]:
        """Every source's decrypted credentials by id (tests of encryption at rest)."""
        with self.store.transaction() as tx:
            rows = tx.all_sources()
        return {row.id: self.cipher.decrypt(row.credentials) for row in rows}


def hash_api_key(api_key: str) -> bytes:
    # API keys are long random strings, so a fast unsalted hash suffices (unlike passwords)
    return hashlib.sha256(api_key.encode()).digest()


def _decoded(body: object) -> object:
    # the HTTP layer hands over raw bytes so that JSON errors come after the permission check
    return decode_json(body) if isinstance(body, bytes) else check_text(body)


def _check_source_id(source_id: str) -> None:
    if not _SOURCE_ID.fullmatch(source_id):  # `$` alone would accept a trailing newline
        raise ValidationFailed(
            "the path id is not a log-source id",
            [FieldIssue("id", "must be ls_ followed by a lowercase UUID")],
        )


def _page_size(limit: str | int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    text = str(limit)
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_PAGE_SIZE:
        return int(text)
    raise ValidationFailed(
        "invalid limit", [FieldIssue("limit", f"must be an integer from 1 to {MAX_PAGE_SIZE}")]
    )


def _record(row: LogSourceRow) -> dict[str, object]:
    return {
        "id": row.id,
        "tenantId": row.tenant_id,
        "projectId": row.project_id,
        "type": row.type,
        "name": row.name,
        "sources": list(row.sources),
        "isActive": row.is_active,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    }


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"
