"""The exceptions this package raises, all under one base class.

```
SigSentryError                      anything this package raises on purpose
 ├── ConfigurationError             a setting is missing or malformed (names it and how to set it)
 ├── APIConnectionError             the request got no answer, even after the retries
 │    └── APITimeoutError           ... because it timed out
 ├── APIStatusError                 the API answered with an error envelope
 │    ├── RedirectError             3xx: the URL redirects (not followed): a wrong apiUrl
 │    ├── BadRequestError           400 VALIDATION_ERROR
 │    ├── AuthenticationError       401 UNAUTHORIZED
 │    ├── PermissionDeniedError     403 FORBIDDEN
 │    │    └── QuotaExceededError   403 QUOTA_EXCEEDED
 │    ├── NotFoundError             404 NOT_FOUND: the log source does not exist
 │    ├── RouteNotFoundError        404 for a path that is not an API route: a wrong apiUrl
 │    ├── ConflictError             409 IDEMPOTENCY_CONFLICT
 │    ├── RateLimitError            429 RATE_LIMITED
 │    └── InternalServerError       500 and above
 ├── UnexpectedResponseError        a success answer whose body breaks the API contract
 ├── VerificationFailedError        the test call answered `ok: false`
 ├── LogSourceGoneError             an update met a source deleted outside Pulumi
 ├── NoSuchLogSourceError           `LogSource.get` named an id the project does not have
 └── RollbackFailedError            a create or update failed, and undoing its write failed too
```

`missing_dependency` is the error for a module the package needs that the plugin's Python cannot
import. `error_for_status` is the one place that maps a status and error code to a class. Every
message here is built from text that holds no secret, and the client scrubs the API key and any
credential value out of server-supplied text before it reaches an exception.

Every class reports itself as `sigsentry_pulumi.<Name>` (the name it is imported by), so a
traceback the plugin sends to the CLI ends in `sigsentry_pulumi.QuotaExceededError: ...` rather
than a private module path. Each message states its hint once: no exception here is raised
`from` another whose text it already repeats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from ._constants import CONFIG_API_URL, DEFAULT_API_URL, ENV_API_URL

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "LogSourceGoneError",
    "NoSuchLogSourceError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RedirectError",
    "RollbackFailedError",
    "RouteNotFoundError",
    "SigSentryError",
    "UnexpectedResponseError",
    "VerificationFailedError",
    "error_for_status",
    "missing_dependency",
]


class SigSentryError(Exception):
    """Base class of every exception this package raises on purpose."""


class ConfigurationError(SigSentryError):
    """A setting is missing or malformed; the message names it and how to set it."""


class APIConnectionError(SigSentryError):
    """The request got no HTTP answer (refused, reset, dropped), even after retrying."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class APITimeoutError(APIConnectionError):
    """The request timed out, even after retrying."""


class APIStatusError(SigSentryError):
    """The API answered with an error envelope. Carries what the server said, never a secret."""

    hint: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        request_id: str | None = None,
        details: Sequence[Mapping[str, str]] = (),
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details = [dict(d) for d in details]
        super().__init__(self._render())

    def _render(self) -> str:
        text = f"SigSentry API error {self.status} {self.code}: {self.message}"
        problems = [f"{d.get('field', '?')}: {d.get('issue', '?')}" for d in self.details]
        if problems:
            text += " (" + "; ".join(problems) + ")"
        hint = self._hint()
        if hint:
            text += f". {hint}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text

    def _hint(self) -> str:
        return self.hint

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class RedirectError(APIStatusError):
    """A 3xx answer: `sigsentry:apiUrl` names something that redirects (an `http://` URL sent on
    to `https://`, a moved host, a sign-in page). The client follows no redirect, so the API key
    is never sent anywhere the URL does not name; the message names where it pointed."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        request_id: str | None = None,
        details: Sequence[Mapping[str, str]] = (),
        location: str | None = None,
    ) -> None:
        self.location = location
        super().__init__(message, status=status, code=code, request_id=request_id, details=details)

    def _render(self) -> str:
        where = f"redirecting to {self.location}" if self.location else "without a Location"
        text = (
            f"SigSentry answered {self.status} {where}: set `{CONFIG_API_URL}` (or {ENV_API_URL}) "
            f"to the API's own address, such as {DEFAULT_API_URL} (redirects are not followed, "
            "so the API key goes only where that setting says)"
        )
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text


class BadRequestError(APIStatusError):
    hint = "Fix the field named above"

    def _hint(self) -> str:
        if any(d.get("field") == "X-Project-Id" for d in self.details):
            return (
                "A tenant-scoped key needs a project: set `sigsentry:projectId` "
                "(or SIGSENTRY_PROJECT_ID), or the resource's project_id"
            )
        return self.hint


class AuthenticationError(APIStatusError):
    hint = (
        "Check the API key: `pulumi config set --secret sigsentry:apiKey <key>` "
        "or the SIGSENTRY_API_KEY environment variable"
    )


class PermissionDeniedError(APIStatusError):
    hint = (
        "The API key needs config:read and config:write, and sigsentry:projectId (or a "
        "resource's project_id) must name a project the key may act on"
    )


class QuotaExceededError(PermissionDeniedError):
    hint = (
        "The plan's logSourcesPerProject quota is reached: delete unused sources or raise the plan"
    )

    def _hint(self) -> str:
        # SigSentry's own message usually gives this advice already: say it once.
        return "" if "raise the plan" in self.message.lower() else self.hint


class NotFoundError(APIStatusError):
    hint = "The log source does not exist in this tenant and project"


class RouteNotFoundError(APIStatusError):
    """404 for a path that is not an API route at all: `sigsentry:apiUrl` is wrong.

    Not a `NotFoundError`, so code that treats a missing log source as gone (a delete, an
    update) never mistakes a wrong URL for it.
    """

    hint = (
        "The URL is not a SigSentry API route: check `sigsentry:apiUrl` (or SIGSENTRY_API_URL), "
        "which names the server root such as https://api.sigsentry.com, without /v1"
    )


class ConflictError(APIStatusError):
    hint = "An Idempotency-Key was reused with a different body: retry the operation"


class RateLimitError(APIStatusError):
    hint = "Rate limited even after waiting and retrying: lower parallelism or retry later"


class InternalServerError(APIStatusError):
    hint = "SigSentry had a server fault even after retrying: retry later"


class UnexpectedResponseError(SigSentryError):
    """A success response whose body is not what the API contract describes."""


class VerificationFailedError(SigSentryError):
    """The test call answered `ok: false`: SigSentry could not use the credentials.

    `restored` names the fields an update put back to the values the stack records, after the
    test failed on the new ones.
    """

    def __init__(self, log_source_id: str, reason: str, *, restored: Sequence[str] = ()) -> None:
        self.log_source_id = log_source_id
        self.reason = reason
        self.restored = tuple(restored)
        undone = (
            f"Its previous {', '.join(self.restored)} were put back, as the stack records them. "
            if self.restored
            else ""
        )
        super().__init__(
            f"SigSentry could not verify log source {log_source_id}: {reason}. {undone}"
            "Fix the credentials or sources, or set verify=False to skip the check"
        )


class LogSourceGoneError(SigSentryError):
    """An update found that the log source no longer exists."""

    def __init__(self, log_source_id: str) -> None:
        self.log_source_id = log_source_id
        super().__init__(
            f"Log source {log_source_id} was deleted outside Pulumi. Run `pulumi refresh` "
            "to drop it from the stack, then `pulumi up` to create it again"
        )


class NoSuchLogSourceError(SigSentryError):
    """`LogSource.get` (a read with nothing stored) named an id the project does not have.

    A refresh of a managed source that is gone is not this: the engine drops it from the stack.
    """

    def __init__(self, log_source_id: str, project_id: str | None) -> None:
        self.log_source_id = log_source_id
        self.project_id = project_id
        where = f"project {project_id}" if project_id else "the API key's project"
        super().__init__(
            f"Log source {log_source_id} does not exist in {where}. LogSource.get reads an "
            "existing source: check the id (`sigsentry-pulumi import` lists a project's "
            "sources) and the project (`project_id=`, or `sigsentry:projectId`)"
        )


class RollbackFailedError(SigSentryError):
    """A create or an update failed after its write, and undoing that write failed too.

    After a create: the source it made could not be deleted; the message names the id to
    delete by hand. After an update (`updated=True`): its credential test failed and the old
    values could not be put back, so SigSentry holds the new, unverified ones. The message
    holds both failures (neither holds a secret); it is raised `from None`, since chaining
    would print the cause twice.
    """

    def __init__(
        self,
        log_source_id: str,
        cause: BaseException,
        failure: BaseException,
        *,
        updated: bool = False,
    ) -> None:
        self.log_source_id = log_source_id
        self.cause = cause
        self.failure = failure
        if not updated:
            super().__init__(
                f"{cause}. The log source {log_source_id} created before that failure could not "
                f"be deleted ({failure}); delete it in SigSentry before retrying"
            )
            return
        reason = cause.reason if isinstance(cause, VerificationFailedError) else str(cause)
        super().__init__(
            f"SigSentry could not verify log source {log_source_id} after updating it: {reason}. "
            f"Putting its previous values back failed too ({failure}), so SigSentry holds the "
            "new, unverified values while the stack records the previous ones. Fix the "
            "program's credentials and run `pulumi up` with verify=True: an update of a source "
            "with verify=True always sends the program's credentials and tests them (if that "
            "`up` reports no change, run `pulumi refresh` first)"
        )


_BY_CODE: dict[str, type[APIStatusError]] = {
    "QUOTA_EXCEEDED": QuotaExceededError,
}
_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_for_status(
    status: int,
    code: str,
    message: str,
    *,
    request_id: str | None = None,
    details: Sequence[Mapping[str, str]] = (),
    route_missing: bool = False,
    location: str | None = None,
) -> APIStatusError:
    """Build the exception for an error response: the code picks first, then the status.

    `route_missing` says the request's path is not an API route, which makes a 404 say to
    check `sigsentry:apiUrl` instead of that the log source does not exist. `location` is where
    a 3xx answer redirects to (scrubbed by the caller).
    """
    if 300 <= status < 400:
        return RedirectError(
            message,
            status=status,
            code=code,
            request_id=request_id,
            details=details,
            location=location,
        )
    if status == 404 and route_missing:
        cls: type[APIStatusError] | None = RouteNotFoundError
    else:
        cls = _BY_CODE.get(code) or _BY_STATUS.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    return cls(message, status=status, code=code, request_id=request_id, details=details)


def missing_dependency(module: str | None, python: str) -> ConfigurationError:
    """The error for a module the package needs (httpx, pydantic, ...) that `python`, the
    interpreter running the Pulumi plugin, cannot import: the package was installed without its
    dependencies, or into another virtualenv than the one the engine runs the provider in."""
    return ConfigurationError(
        f"The Python that runs the SigSentry provider ({python}) cannot import "
        f"{module or 'a module'}, which sigsentry-pulumi needs. Install the package with its "
        "dependencies into the project's virtualenv (`<virtualenv>/bin/pip install "
        "sigsentry-pulumi`): the one the `virtualenv` option of `runtime` in Pulumi.yaml, or "
        "$PULUMI_RUNTIME_VIRTUALENV, names"
    )


for _name in __all__:
    _member = globals()[_name]
    if isinstance(_member, type):
        _member.__module__ = "sigsentry_pulumi"  # the public name, in tracebacks and repr()
