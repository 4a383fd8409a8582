"""The API's response shapes (pydantic).

Fields the vendor's pages leave out of a response (`projectId`, `updatedAt` in the POST example)
are optional here. Field names are the API's camelCase (`_types.camel`) of the Python names.
The input rules live in `_rules`, free of pydantic, so the provider's `check` does not pay for
importing this module.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ._types import camel

__all__ = ["CreatedLogSource", "LogSourcePage", "LogSourceRecord", "VerificationResult"]

# The API's names are the camelCase of the fields' (`tenant_id` arrives as `tenantId`).
_API_NAMES = ConfigDict(frozen=True, extra="ignore", alias_generator=camel, populate_by_name=True)


# --- what the API sends back -------------------------------------------------------------------


class LogSourceRecord(BaseModel):
    """A log source as the API returns it. Credentials are never part of it."""

    model_config = _API_NAMES

    id: str
    tenant_id: str
    project_id: str | None = None
    type: str
    name: str
    sources: list[str]
    is_active: bool
    created_at: str | None = None
    updated_at: str | None = None


class CreatedLogSource(LogSourceRecord):
    """The source a create answered with: a replay of an earlier create, new, or either.

    `replayed` is True when the answer says `Idempotent-Replayed: true` or, as a proxy may
    strip that header, when the record was created well before the answer was sent: the
    record is then the one the Idempotency-Key first created, which may have been deleted
    since. `new` is True when neither holds and the record was created in the second of its
    answer (by the server's clock) or later: a replay looks so only if its create was made in
    that second, and a delete within a second of a create holds until that second has passed
    (`SigSentryClient.delete_log_source`), so such a replay is of a source that still exists.
    Both False: the answer does not tell.
    """

    replayed: bool = False
    new: bool = False


class LogSourcePage(BaseModel):
    """One page of GET /v1/config/log-sources."""

    model_config = _API_NAMES

    data: list[LogSourceRecord]
    next_cursor: str | None = None


class VerificationResult(BaseModel):
    """What POST .../{id}/test answered: whether SigSentry could use the credentials."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ok: bool
    message: str = ""
    sample: list[str] = Field(default_factory=list)
