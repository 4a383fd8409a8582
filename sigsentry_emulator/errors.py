"""Domain errors of the emulated SigSentry API.

Each error knows the HTTP status and the API error code the contract gives it, so the HTTP layer
turns any of them into the failure envelope without knowing the rule that raised it::

    ApiError
    ├── ValidationFailed      400 VALIDATION_ERROR    (details name each bad field)
    ├── Unauthorized          401 UNAUTHORIZED
    ├── Forbidden             403 FORBIDDEN
    ├── QuotaExceeded         403 QUOTA_EXCEEDED
    ├── NotFound              404 NOT_FOUND
    ├── MethodNotAllowed      405 METHOD_NOT_ALLOWED
    ├── IdempotencyConflict   409 IDEMPOTENCY_CONFLICT
    ├── PayloadTooLarge       413 PAYLOAD_TOO_LARGE    (a body over MAX_BODY_BYTES; not parsed)
    ├── RateLimited           429 RATE_LIMITED         (carries Retry-After)
    ├── InternalError         500 INTERNAL_ERROR
    └── ServiceUnavailable    503 SERVICE_UNAVAILABLE  (carries Retry-After)

Messages never contain a credential value or an API key. `details` lists at most `MAX_DETAILS`
issues; when there are more, the message says how many there were, so an answer stays small
whatever the body held. A field name longer than `MAX_FIELD_LENGTH` is cut (an unknown key can be
as long as the body).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MAX_DETAILS: Final = 20
MAX_FIELD_LENGTH: Final = 100
MAX_BODY_BYTES: Final = 1024 * 1024


@dataclass(frozen=True)
class FieldIssue:
    """One entry of `error.details`: which field failed and why."""

    field: str
    issue: str

    def as_dict(self) -> dict[str, str]:
        field = self.field
        if len(field) > MAX_FIELD_LENGTH:
            field = field[: MAX_FIELD_LENGTH - 3] + "..."
        return {"field": field, "issue": self.issue}


class ApiError(Exception):
    """Base of every error the API answers with; `status` and `code` come from the contract."""

    status: int = 500
    code: str = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        details: list[FieldIssue] | None = None,
        *,
        retry_after: int | None = None,
        unlisted: int = 0,
    ) -> None:
        """`unlisted`: issues found beyond `details` and only counted (they count in the total)."""
        details = details or []
        total = len(details) + unlisted
        if total > MAX_DETAILS:
            message += f" ({total} issues; details lists the first {MAX_DETAILS})"
            details = details[:MAX_DETAILS]
        super().__init__(message)
        self.message = message
        self.details = details
        self.retry_after = retry_after

    def envelope(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = [d.as_dict() for d in self.details]
        return {"success": False, "error": error}


class ValidationFailed(ApiError):
    status = 400
    code = "VALIDATION_ERROR"


class Unauthorized(ApiError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(ApiError):
    status = 403
    code = "FORBIDDEN"


class QuotaExceeded(ApiError):
    status = 403
    code = "QUOTA_EXCEEDED"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"


class MethodNotAllowed(ApiError):
    status = 405
    code = "METHOD_NOT_ALLOWED"


class IdempotencyConflict(ApiError):
    status = 409
    code = "IDEMPOTENCY_CONFLICT"


class PayloadTooLarge(ApiError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class RateLimited(ApiError):
    status = 429
    code = "RATE_LIMITED"


class InternalError(ApiError):
    status = 500
    code = "INTERNAL_ERROR"


class ServiceUnavailable(ApiError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
