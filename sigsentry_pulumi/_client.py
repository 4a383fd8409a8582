"""`SigSentryClient`: the log-source API over HTTP, with retries, for the provider and for scripts.

```python
from sigsentry_pulumi import SigSentryClient

client = SigSentryClient()  # SIGSENTRY_API_KEY, SIGSENTRY_API_URL, SIGSENTRY_PROJECT_ID
for source in client.iter_log_sources():
    print(source.id, source.type, source.name)
```

Every call goes through `_send`: it adds the headers (bearer key, `User-Agent`, `X-Project-Id`
when a project is named, an `X-Request-Id`), retries what `_retry` allows, waits out a 429 on a
gate that holds back every thread of this client, and turns an error response into the
exception `error_for_status` picks. The API key and the credential values of the request are
scrubbed from any server text before it reaches an exception, and no log line carries a header
or a body.

By default every client of the process shares one `httpx.Client` (see `_runtime`); passing
`transport=` (an `httpx.MockTransport` in tests) or `http_client=` gives the client its own.
"""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from . import _runtime
from ._config import ClientSettings, normalize_api_url, resolve_settings
from ._constants import (
    CONFIG_API_KEY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    LIST_PAGE_LIMIT,
    LOG_SOURCES_PATH,
)
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    SigSentryError,
    error_for_status,
)
from ._models import LogSourcePage, LogSourceRecord, VerificationResult
from ._retry import PauseGate, is_retryable_error, is_retryable_status, may_retry, retry_delay

__all__ = ["SigSentryClient", "UnexpectedResponseError"]

log = logging.getLogger("sigsentry_pulumi")

_REDACTED = "[redacted]"


class UnexpectedResponseError(SigSentryError):
    """A success response whose body is not what the API contract describes."""


class SigSentryClient:
    """A client for the SigSentry log-source API. Thread-safe; cheap to keep for a process."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        project_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """Arguments win; SIGSENTRY_API_KEY, SIGSENTRY_API_URL, SIGSENTRY_PROJECT_ID fill gaps.

        `sleep`, `clock` and `jitter` (a float in [0, 1)) exist so tests can run without waiting.
        """
        if api_key is None or base_url is None or project_id is None:
            from_env = _settings_from_env(api_key)
            api_key = api_key or from_env.api_key
            base_url = base_url or from_env.api_url
            project_id = project_id if project_id is not None else from_env.project_id
        if not api_key:
            raise ConfigurationError("api_key must be a non-empty SigSentry API key")
        if timeout <= 0 or max_retries < 0:
            raise ConfigurationError("timeout must be positive and max_retries 0 or more")
        self._api_key = api_key
        self.base_url = normalize_api_url(base_url, "base_url")
        self.project_id = project_id or None
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self._sleep = sleep
        self._jitter = jitter
        self._gate = PauseGate(clock, sleep)
        if http_client is None and transport is not None:
            http_client = httpx.Client(transport=transport)
        self._own_http = http_client

    @classmethod
    def from_settings(cls, settings: ClientSettings, **kwargs: Any) -> SigSentryClient:
        return cls(
            settings.api_key,
            base_url=settings.api_url,
            project_id=settings.project_id,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            **kwargs,
        )

    def __repr__(self) -> str:
        return (
            f"SigSentryClient(base_url={self.base_url!r}, project_id={self.project_id!r}, "
            "api_key=<hidden>)"
        )

    def close(self) -> None:
        """Close an HTTP client this object was given; the process-wide one stays open."""
        if self._own_http is not None:
            self._own_http.close()

    # --- the API -------------------------------------------------------------------------------

    def list_log_sources(
        self, *, limit: int = 100, cursor: str | None = None, project_id: str | None = None
    ) -> LogSourcePage:
        """One page of the project's sources, oldest first."""
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = self._send("GET", LOG_SOURCES_PATH, params=params, project_id=project_id)
        return _parse(LogSourcePage, _body(response), response)

    def iter_log_sources(
        self, *, page_size: int = LIST_PAGE_LIMIT, project_id: str | None = None
    ) -> Iterator[LogSourceRecord]:
        """Every source of the project, walking the pages as they are needed."""
        cursor: str | None = None
        while True:
            page = self.list_log_sources(limit=page_size, cursor=cursor, project_id=project_id)
            yield from page.data
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def find_log_source(
        self, log_source_id: str, *, project_id: str | None = None
    ) -> LogSourceRecord | None:
        """The source with this id, or None; walks the list (the API has no GET by id)."""
        for record in self.iter_log_sources(project_id=project_id):
            if record.id == log_source_id:
                return record
        return None

    def create_log_source(
        self,
        *,
        type: str,
        name: str,
        credentials: Mapping[str, str],
        sources: Sequence[str],
        project_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> LogSourceRecord:
        """POST a new source; one Idempotency-Key covers every retry, so at most one is made."""
        body = {
            "type": type,
            "name": name,
            "credentials": dict(credentials),
            "sources": list(sources),
        }
        response = self._send(
            "POST",
            LOG_SOURCES_PATH,
            json=body,
            project_id=project_id,
            idempotency_key=idempotency_key or f"sigsentry-pulumi-{uuid.uuid4()}",
            secrets=credentials.values(),
        )
        return _parse(LogSourceRecord, _data(response), response)

    def update_log_source(
        self,
        log_source_id: str,
        *,
        name: str | None = None,
        credentials: Mapping[str, str] | None = None,
        sources: Sequence[str] | None = None,
        is_active: bool | None = None,
        project_id: str | None = None,
    ) -> None:
        """PUT only the fields given (credentials and sources are replaced wholesale)."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if credentials is not None:
            body["credentials"] = dict(credentials)
        if sources is not None:
            body["sources"] = list(sources)
        if is_active is not None:
            body["isActive"] = is_active
        self._send(
            "PUT",
            f"{LOG_SOURCES_PATH}/{log_source_id}",
            json=body,
            project_id=project_id,
            secrets=(credentials or {}).values(),
        )

    def delete_log_source(self, log_source_id: str, *, project_id: str | None = None) -> None:
        """DELETE the source; a missing one raises `NotFoundError`."""
        self._send("DELETE", f"{LOG_SOURCES_PATH}/{log_source_id}", project_id=project_id)

    def test_log_source(
        self, log_source_id: str, *, project_id: str | None = None
    ) -> VerificationResult:
        """Ask SigSentry to try the stored credentials; `ok` False says why in `message`.

        The call changes nothing on the server; it carries its own Idempotency-Key so that it
        falls under the one rule for retrying a POST.
        """
        response = self._send(
            "POST",
            f"{LOG_SOURCES_PATH}/{log_source_id}/test",
            project_id=project_id,
            idempotency_key=f"sigsentry-pulumi-test-{uuid.uuid4()}",
        )
        return _parse(VerificationResult, _data(response), response)

    # --- transport -----------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str | int] | None = None,
        project_id: str | None = None,
        idempotency_key: str | None = None,
        secrets: Iterable[object] = (),
    ) -> httpx.Response:
        http = self._own_http or _runtime.shared_http_client()
        headers = self._headers(project_id, idempotency_key)
        retryable = may_retry(method, has_idempotency_key=idempotency_key is not None)
        secret_values = [self._api_key, *(s for s in secrets if isinstance(s, str) and s)]
        attempt = 0
        while True:
            self._gate.wait()
            try:
                response = http.request(
                    method,
                    self.base_url + path,
                    headers=headers,
                    json=json,
                    params=params,
                    timeout=self.timeout,
                )
            except httpx.TransportError as error:
                if retryable and attempt < self.max_retries and is_retryable_error(error):
                    delay = retry_delay(attempt, random=self._jitter)
                    log.info(
                        "SigSentry %s %s: %s; retry %d in %.2fs",
                        method,
                        path,
                        type(error).__name__,
                        attempt + 1,
                        delay,
                    )
                    self._sleep(delay)
                    attempt += 1
                    continue
                raise _connection_error(error, method, path, attempt, secret_values) from error
            log.debug(
                "SigSentry %s %s -> %d (request id %s)",
                method,
                path,
                response.status_code,
                response.headers.get("X-Request-Id"),
            )
            if response.is_success:
                return response
            if (
                retryable
                and attempt < self.max_retries
                and is_retryable_status(response.status_code)
            ):
                delay = retry_delay(
                    attempt, response.headers.get("Retry-After"), random=self._jitter
                )
                log.info(
                    "SigSentry %s %s -> %d; retry %d in %.2fs",
                    method,
                    path,
                    response.status_code,
                    attempt + 1,
                    delay,
                )
                if response.status_code == 429:
                    self._gate.pause_for(delay)  # every thread waits, not just this one
                else:
                    self._sleep(delay)
                attempt += 1
                continue
            raise _status_error(response, secret_values)

    def _headers(self, project_id: str | None, idempotency_key: str | None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            "User-Agent": _runtime.USER_AGENT,
            "X-Request-Id": f"req_{uuid.uuid4().hex}",
        }
        project = project_id or self.project_id
        if project:
            headers["X-Project-Id"] = project
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return headers


def _settings_from_env(api_key: str | None) -> ClientSettings:
    key = api_key or os.environ.get(ENV_API_KEY, "").strip()
    if not key:
        raise ConfigurationError(
            f"No SigSentry API key: pass api_key=... or set the {ENV_API_KEY} environment variable"
        )
    return resolve_settings(lambda name: key if name == CONFIG_API_KEY else None)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced, longest first (one may contain another)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def _status_error(response: httpx.Response, secrets: Sequence[str]) -> APIStatusError:
    code, message, details = f"HTTP_{response.status_code}", response.reason_phrase, []
    try:
        payload = response.json()
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        raw_details = error.get("details")
        if isinstance(raw_details, list):
            details = [
                {
                    "field": redact(str(d.get("field", "")), secrets),
                    "issue": redact(str(d.get("issue", "")), secrets),
                }
                for d in raw_details
                if isinstance(d, dict)
            ]
    return error_for_status(
        response.status_code,
        redact(code, secrets),
        redact(message, secrets),
        request_id=response.headers.get("X-Request-Id"),
        details=details,
    )


def _connection_error(
    error: httpx.TransportError, method: str, path: str, retries: int, secrets: Sequence[str]
) -> APIConnectionError:
    cls = APITimeoutError if isinstance(error, httpx.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "got no answer"
    detail = redact(str(error) or type(error).__name__, secrets)
    return cls(
        f"SigSentry {method} {path} {what} after {retries + 1} attempt(s) ({detail}). "
        "Check sigsentry:apiUrl and the network, then retry",
        method=method,
        path=path,
    )


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise UnexpectedResponseError(
            f"SigSentry answered {response.request.method} {response.request.url.path} "
            f"with {response.status_code} but no JSON body"
        ) from None


def _data(response: httpx.Response) -> Any:
    body = _body(response)
    if not isinstance(body, dict) or "data" not in body:
        raise UnexpectedResponseError(
            f"SigSentry answered {response.request.method} {response.request.url.path} "
            "without the `data` member of its envelope"
        )
    return body["data"]


_M = TypeVar("_M", LogSourcePage, LogSourceRecord, VerificationResult)


def _parse(model: type[_M], value: Any, response: httpx.Response) -> _M:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors()) or "?"
        raise UnexpectedResponseError(
            f"SigSentry answered {response.request.method} {response.request.url.path} with a "
            f"{model.__name__} that does not match the contract (fields: {fields})"
        ) from None
