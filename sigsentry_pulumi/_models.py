"""The API's response shapes (pydantic), and the input rules re-exported from `_validation`.

Fields the vendor's pages leave out of a response (`projectId`, `updatedAt` in the POST example)
are optional here. The offline validation lives in `_validation`, free of pydantic, so the
provider's `check` does not pay for importing it; its names stay importable from here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ._validation import (
    CREDENTIAL_RULES,
    INPUT_NAMES,
    PROVIDER_KEY,
    CredentialRule,
    Problem,
    is_unknown,
    validate_inputs,
)

__all__ = [
    "CREDENTIAL_RULES",
    "INPUT_NAMES",
    "PROVIDER_KEY",
    "CredentialRule",
    "LogSourcePage",
    "LogSourceRecord",
    "Problem",
    "VerificationResult",
    "is_unknown",
    "validate_inputs",
]


# --- what the API sends back -------------------------------------------------------------------


class LogSourceRecord(BaseModel):
    """A log source as the API returns it. Credentials are never part of it."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    id: str
    tenant_id: str = Field(alias="tenantId")
    project_id: str | None = Field(default=None, alias="projectId")
    type: str
    name: str
    sources: list[str]
    is_active: bool = Field(alias="isActive")
    created_at: str | None = Field(default=None, alias="createdAt")
    updated_at: str | None = Field(default=None, alias="updatedAt")


class LogSourcePage(BaseModel):
    """One page of GET /v1/config/log-sources."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    data: list[LogSourceRecord]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class VerificationResult(BaseModel):
    """What POST .../{id}/test answered: whether SigSentry could use the credentials."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ok: bool
    message: str = ""
    sample: list[str] = Field(default_factory=list)
