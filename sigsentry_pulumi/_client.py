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
exception `error_for_status` picks. Each retry and each wait is announced as one line through
`notify` (the provider prints it, so the user of `pulumi up` sees why it pauses); the line names
the method, the status and the log source id, never a header or a body.

Secrets: an API key or project id that cannot go in an HTTP header (a control character, a
non-ASCII letter) is refused when the client is made, with a message that does not echo it. A
transport failure becomes an exception built from the exception's class name only, raised
`from None`, so neither its text (which shows a rejected header in escaped form) nor its
traceback reaches the CLI. Server text is scrubbed by `redact` before it reaches an exception.

Idempotency: `create_log_source` takes the caller's Idempotency-Key, or derives one
(`derive_idempotency_key`) from the identity the provider passes (the resource's in its stack),
the project and the request body, so a create repeated after a crash replays the first one
instead of making a second source.

By default a client sends through an `httpx.Client` it makes on first use (`_http.HTTPPool`),
which the provider's clients share (`from_settings(..., pool=)`); passing `transport=` (an
`httpx.MockTransport` in tests) or `http_client=` gives the client that one instead.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json as jsonlib
import logging
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypedDict, TypeVar, Unpack
from urllib.parse import quote, quote_plus, urlsplit

import httpx
from pydantic import ValidationError

from ._config import ClientSettings, normalize_api_url, resolve_settings
from ._constants import (
    CONFIG_API_KEY,
    CONFIG_API_URL,
    CONFIG_PROJECT_ID,
    CONFIG_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_API_URL,
    ENV_PROJECT_ID,
    LIST_PAGE_LIMIT,
    LOG_SOURCES_PATH,
    MAX_LIST_PAGES,
)
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    NotFoundError,
    UnexpectedResponseError,
    error_for_status,
)
from ._http import USER_AGENT, HTTPPool, check_header_value
from ._models import CreatedLogSource, LogSourcePage, LogSourceRecord, VerificationResult
from ._retry import (
    DEFAULT_RETRY_BUDGET,
    MAX_RATE_LIMIT_WAITS,
    PauseGate,
    is_refused,
    is_retryable_error,
    is_retryable_status,
    may_retry,
    retry_delay,
    transport_retry_delay,
)
from ._types import camel, check_keywords

__all__ = [
    "SigSentryClient",
    "UnexpectedResponseError",
    "check_header_value",
    "derive_idempotency_key",
    "redact",
]

log = logging.getLogger("sigsentry_pulumi")

_REDACTED = "[redacted]"
_IDEMPOTENCY_PREFIX = "sigsentry-pulumi-v1-"
_WHOLE_WORD_BELOW = 8  # secrets shorter than this are redacted only as whole words
_API_ROUTE = re.compile(r"/v1/config/log-sources(/[^/]+(/test)?)?")


Notify = Callable[[str], None]


class CreateFields(TypedDict):
    """The body of a create, as keyword arguments of `create_log_source`."""

    type: str
    name: str
    credentials: Mapping[str, str]
    sources: Sequence[str]


class UpdateFields(TypedDict, total=False):
    """What a PUT may change, as keyword arguments of `update_log_source` (None: unchanged)."""

    name: str | None
    credentials: Mapping[str, str] | None
    sources: Sequence[str] | None
    is_active: bool | None


@dataclass
class _Call:
    """One API call across its attempts: the request, and what its retries have used up."""

    method: str
    path: str
    json: object
    params: Mapping[str, str | int] | None
    headers: dict[str, str]
    retryable: bool
    target: str
    attempts: int
    secrets: list[str]  # the API key and the body's credentials: scrubbed from server text
    attempt: int = 1  # the attempt about to be made (or just made), counting from 1
    rate_limit_waits: int = 0
    waited: float = 0.0
    refused_waited: float = 0.0  # the part of `waited` that followed refused connections


def print_progress(line: str) -> None:
    """Write one progress line to stderr, which the Pulumi CLI shows for a provider plugin."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # a closed stderr must not fail the call


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
        notify: Notify | None = None,
        retry_budget: float = DEFAULT_RETRY_BUDGET,
    ) -> None:
        """Arguments win; SIGSENTRY_API_KEY, SIGSENTRY_API_URL, SIGSENTRY_PROJECT_ID fill gaps.

        `notify` receives one line per retry or wait (default: the `sigsentry_pulumi` logger at
        INFO); `retry_budget` caps the seconds one call spends waiting between attempts.
        `sleep`, `clock` and `jitter` (a float in [0, 1)) exist so tests can run without waiting.
        """
        if api_key is None or base_url is None or project_id is None:
            from_env = _settings_from_env(api_key)
            api_key = api_key or from_env.api_key
            base_url = base_url or from_env.api_url
            project_id = project_id if project_id is not None else from_env.project_id
        if not api_key:
            raise ConfigurationError("api_key must be a non-empty SigSentry API key")
        if timeout <= 0 or max_retries < 0 or retry_budget < 0:
            raise ConfigurationError(
                "timeout must be positive, max_retries and retry_budget 0 or more"
            )
        check_header_value(api_key, f"The API key ({CONFIG_API_KEY} or {ENV_API_KEY})")
        if project_id:
            check_header_value(project_id, f"{CONFIG_PROJECT_ID} (or {ENV_PROJECT_ID})")
        self._api_key = api_key
        self.base_url = normalize_api_url(base_url, "base_url")
        self.project_id = project_id or None
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.retry_budget = float(retry_budget)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._notify: Notify = notify or _log_progress
        self._gate = PauseGate(clock, sleep)
        if http_client is None and transport is not None:
            http_client = httpx.Client(transport=transport)
        self._own_http = http_client
        self._pool = HTTPPool()

    @classmethod
    def from_settings(
        cls, settings: ClientSettings, *, pool: HTTPPool | None = None, **kwargs: Any
    ) -> SigSentryClient:
        """A client for resolved settings; `pool` is an HTTP pool it shares with others."""
        client = cls(
            settings.api_key,
            base_url=settings.api_url,
            project_id=settings.project_id,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            **kwargs,
        )
        if pool is not None:
            client._pool = pool
        return client

    def __repr__(self) -> str:
        return (
            f"SigSentryClient(base_url={self.base_url!r}, project_id={self.project_id!r}, "
            "api_key=<hidden>)"
        )

    def close(self) -> None:
        """Close an HTTP client this object was given; a pool it made or shares stays open
        (until the interpreter exits), so the client can still be used."""
        if self._own_http is not None:
            self._own_http.close()

    # --- the API -------------------------------------------------------------------------------

    def list_log_sources(
        self, *, limit: int = 100, cursor: str | None = None, project_id: str | None = None
    ) -> LogSourcePage:
        """One page of the project's sources, oldest first."""
        page, _request_id = self._list_page(limit, cursor, project_id)
        return page

    def iter_log_sources(
        self, *, page_size: int = LIST_PAGE_LIMIT, project_id: str | None = None
    ) -> Iterator[LogSourceRecord]:
        """Every source of the project, walking the pages as they are needed.

        A `nextCursor` already followed, or more than `MAX_LIST_PAGES` pages, would make the
        walk endless: it stops with `UnexpectedResponseError` naming the cursor and request id.
        """
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_LIST_PAGES):
            page, request_id = self._list_page(page_size, cursor, project_id)
            yield from page.data
            cursor = page.next_cursor
            if not cursor:
                return
            if cursor in seen:
                raise _endless_list(f"gave nextCursor {cursor!r} a second time", request_id)
            seen.add(cursor)
        raise _endless_list(
            f"had not ended after {MAX_LIST_PAGES} pages (last nextCursor {cursor!r})", request_id
        )

    def _list_page(
        self, limit: int, cursor: str | None, project_id: str | None
    ) -> tuple[LogSourcePage, str]:
        """One page, and the request id of its answer (redacted: a server may echo anything)."""
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = self._send("GET", LOG_SOURCES_PATH, params=params, project_id=project_id)
        page = _parse(LogSourcePage, _body(response), response)
        return page, _request_id(response, [self._api_key]) or "none"

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
        project_id: str | None = None,
        idempotency_key: str | None = None,
        identity: str | None = None,
        generation: int = 0,
        **fields: Unpack[CreateFields],
    ) -> CreatedLogSource:
        """POST a new source; one Idempotency-Key covers every retry, so at most one is made.

        The key is `idempotency_key` when given; else, with `identity` (what names the resource
        in its stack), one derived from it, the project and the body (`derive_idempotency_key`;
        `generation` counts the replays of deleted sources already stepped over), so a repeated
        call, in another process, replays the first; else a random one, which protects the
        retries of this call only. The answer's `replayed` says whether SigSentry replayed an
        earlier create (`CreatedLogSource`); `log_source_exists` tells whether that one's id is
        still there.
        """
        check_keywords("SigSentryClient.create_log_source", fields, *_keys(CreateFields))
        credentials = dict(fields["credentials"])
        body = {
            "type": fields["type"],
            "name": fields["name"],
            "credentials": credentials,
            "sources": list(fields["sources"]),
        }
        if idempotency_key is None and identity:
            material = [project_id, body]
            idempotency_key = derive_idempotency_key(self._api_key, identity, material, generation)
        response = self._send(
            "POST",
            LOG_SOURCES_PATH,
            json=body,
            project_id=project_id,
            idempotency_key=idempotency_key or f"sigsentry-pulumi-{uuid.uuid4()}",
            secrets=credentials.values(),
        )
        record = _parse(LogSourceRecord, _data(response), response)
        flagged = response.headers.get("Idempotent-Replayed", "").strip().lower() == "true"
        age = _age_at_answer(record.created_at, response)
        return CreatedLogSource(
            **record.model_dump(),
            replayed=flagged or (age is not None and age > REPLAY_AGE_SECONDS),
            new=not flagged and age is not None and age <= 0,
        )

    def update_log_source(
        self,
        log_source_id: str,
        *,
        project_id: str | None = None,
        **fields: Unpack[UpdateFields],
    ) -> None:
        """PUT only the fields given (credentials and sources are replaced wholesale)."""
        given: Mapping[str, Any] = fields
        check_keywords("SigSentryClient.update_log_source", given, *_keys(UpdateFields))
        body = {
            camel(key): _as_json(given[key])
            for key in UpdateFields.__annotations__
            if given.get(key) is not None
        }
        self._send(
            "PUT",
            f"{LOG_SOURCES_PATH}/{log_source_id}",
            json=body,
            project_id=project_id,
            secrets=(given.get("credentials") or {}).values(),
        )

    def log_source_exists(self, log_source_id: str, *, project_id: str | None = None) -> bool:
        """Whether the source exists, in one request instead of a list walk.

        A PUT with the empty body `{}`, which the contract makes a valid no-op: 200 when the
        source exists, 404 (`NotFoundError`, answered False) when it does not. It needs
        `config:write`, as the create it usually follows does. The emulator leaves the record
        untouched, `updatedAt` included; should SigSentry move `updatedAt`, nothing here reads
        or records it. A 404 for a path that is not an API route (a wrong URL) is raised.
        """
        try:
            self.update_log_source(log_source_id, project_id=project_id)  # no field: `{}`
        except NotFoundError:
            return False
        return True

    def delete_log_source(
        self, log_source_id: str, *, project_id: str | None = None, created_at: str | None = None
    ) -> None:
        """DELETE the source; a missing one raises `NotFoundError`.

        With `created_at` (the source's `createdAt`), the call returns, deleted or missing, only
        once SigSentry's clock has left the second the source was created in (at most
        `DELETE_HOLD_LIMIT_SECONDS`, and only for a source deleted within a second of its
        create): a replay of that create answered later is then at least a second older than
        its answer, so `create_log_source` never takes it for a new source (`new`).
        """
        response = self._send(
            "DELETE",
            f"{LOG_SOURCES_PATH}/{log_source_id}",
            project_id=project_id,
            answer_missing=True,
        )
        hold = 0.0 if created_at is None else _delete_hold(created_at, response)
        if hold > 0:
            self._sleep(hold)
        if _missing_source(response):
            raise _status_error(response, [self._api_key])

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
        result = _parse(VerificationResult, _data(response), response)
        # server text: scrubbed of the key here; the caller scrubs the credentials it knows
        return result.model_copy(update={"message": redact(result.message, [self._api_key])})

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
        answer_missing: bool = False,
    ) -> httpx.Response:
        """Make the request, retrying as `_retry` allows; an error answer becomes an exception.

        With `answer_missing`, a 404 for a log source is returned rather than raised (the caller
        raises it); a 404 for a path that is no API route (a wrong URL) is raised.

        The loop ends: each pass returns, raises, or uses up one of the `max_retries + 1`
        attempts or one of the `MAX_RATE_LIMIT_WAITS` rate-limit waits.
        """
        call = _Call(
            method=method,
            path=path,
            json=json,
            params=params,
            headers=self._headers(project_id, idempotency_key),
            retryable=may_retry(method, has_idempotency_key=idempotency_key is not None),
            target=_target(method, path, json),
            attempts=self.max_retries + 1,
            secrets=[self._api_key, *(s for s in secrets if isinstance(s, str) and s)],
        )
        while True:
            try:
                response = self._attempt(call)
            except httpx.TransportError as error:
                if self._back_off(call, error):
                    continue
                raise _connection_error(error, call, self.base_url, self.timeout) from None
            if response.is_success or (answer_missing and _missing_source(response)):
                return response
            if not self._back_off(call, response):
                raise _status_error(response, call.secrets)

    def _attempt(self, call: _Call) -> httpx.Response:
        """One request, once no rate-limit pause holds this client back."""
        self._gate.wait()
        http = self._own_http or self._pool.client()  # its sockets keep to `self.timeout`
        response = http.request(
            call.method,
            self.base_url + call.path,
            headers=call.headers,
            json=call.json,
            params=call.params,
            timeout=self.timeout,
        )
        if log.isEnabledFor(logging.DEBUG):  # scrubbing the request id costs a little
            log.debug(
                "SigSentry %s %s -> %d (request id %s)",
                call.method,
                call.path,
                response.status_code,
                _request_id(response, call.secrets),
            )
        return response

    def _back_off(self, call: _Call, outcome: httpx.Response | httpx.TransportError) -> bool:
        """Announce and wait before the next attempt; False when the call must fail instead.

        A failed connection, a lost answer or a retryable status uses up an attempt and sleeps;
        a 429 is waited out on the gate every thread of this client shares, without using one.
        Every wait counts against `retry_budget`; after a refused connection, within
        `REFUSED_RETRY_BUDGET` too (`_retry.transport_retry_delay`).
        """
        if not call.retryable:
            return False
        if isinstance(outcome, httpx.TransportError):
            delay = transport_retry_delay(
                outcome,
                attempt=call.attempt,
                attempts=call.attempts,
                waited=call.waited,
                refused_waited=call.refused_waited,
                budget=self.retry_budget,
                random=self._jitter,
            )
            if delay is None:
                return False
            if is_refused(outcome):
                call.refused_waited += delay
            why = f"SigSentry did not answer {call.target} ({_transport_failure(outcome)})"
        else:
            status = outcome.status_code
            if not is_retryable_status(status):
                return False
            retry_after = outcome.headers.get("Retry-After")
            delay = retry_delay(call.attempt - 1, retry_after, random=self._jitter)
            if status == 429:
                return self._wait_out_rate_limit(call, delay)
            if call.attempt >= call.attempts:
                return False
            why = f"SigSentry answered {status} to {call.target}"
        if call.waited + delay > self.retry_budget:
            return False
        self._announce(
            f"{why}; retrying in {delay:.1f} s (attempt {call.attempt + 1} of {call.attempts})"
        )
        self._sleep(delay)
        call.waited += delay
        call.attempt += 1
        return True

    def _wait_out_rate_limit(self, call: _Call, delay: float) -> bool:
        """Pause every thread of this client for a 429; the attempt is not used up."""
        if self.max_retries == 0 or call.rate_limit_waits >= MAX_RATE_LIMIT_WAITS:
            return False
        if call.waited + delay > self.retry_budget:
            return False
        call.rate_limit_waits += 1
        self._announce(
            f"SigSentry answered 429 (rate limited) to {call.target}; waiting {delay:.1f} s "
            f"before retrying (attempt {call.attempt} of {call.attempts})"
        )
        self._gate.pause_for(delay)
        call.waited += delay
        return True

    def _announce(self, line: str) -> None:
        try:
            self._notify(line)
        except Exception:  # progress output must never fail a request
            log.debug("progress output failed", exc_info=True)

    def _headers(self, project_id: str | None, idempotency_key: str | None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "X-Request-Id": f"req_{uuid.uuid4().hex}",
        }
        project = project_id or self.project_id
        if project:
            check_header_value(project, "The log source's project_id")
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


def _keys(shape: Any) -> tuple[list[str], list[str]]:
    """A TypedDict's keys, and the required ones among them, in their order."""
    names = list(shape.__annotations__)
    return names, [name for name in names if name in shape.__required_keys__]


def _as_json(value: object) -> object:
    """A body value as JSON holds it: a mapping as a dict, a sequence (not text) as a list."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return value


def derive_idempotency_key(api_key: str, identity: str, body: object, generation: int = 0) -> str:
    """An Idempotency-Key that is the same for the same resource, body and generation.

    `identity` names the resource in its stack (project, stack, parent and name: what its URN
    holds); `body` is the request body (canonical JSON), so a changed input gives a new key
    rather than a 409. `generation` counts the creates already replayed for a source that no
    longer exists. The key is an HMAC keyed with the API key: it reveals nothing of the
    credentials in the body, and it is stable for as long as the key is.
    """
    material = jsonlib.dumps(
        [identity, body, generation], sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    digest = hmac.new(api_key.encode(), material.encode(), hashlib.sha256).hexdigest()
    return _IDEMPOTENCY_PREFIX + digest


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced, in every form a server may echo it in.

    A form of 8 characters or more is replaced wherever it occurs. A shorter one is replaced
    only where it stands as a whole word, not next to a letter, digit or underscore: so a
    one-letter credential `a` never turns "Illegal header" into "Illeg[redacted]l
    he[redacted]der", whose gaps would show the value, and a word that merely contains it is
    left whole and says nothing about it. The forms are listed by `_echoed_forms`; the longest
    are replaced first.
    """
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms.update(_echoed_forms(secret))
    for form in sorted(forms, key=len, reverse=True):
        if len(form) >= _WHOLE_WORD_BELOW:
            text = text.replace(form, _REDACTED)
        elif form:
            text = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", _REDACTED, text)
    return text


def _echoed_forms(secret: str) -> set[str]:
    """The texts a server that echoes a request may show `secret` as.

    The value itself, its repr, and its JSON string in both forms (escaped to ASCII, and as
    httpx sends a body: UTF-8, only `"`, `\\` and control characters escaped), twice over (a
    body echoed inside a JSON string is escaped again); each of those URL-encoded (`quote`,
    `quote_plus`) and base64-encoded (standard and URL-safe alphabets, see `_base64_cores`).
    """
    texts = {secret, repr(secret)[1:-1]}
    for _ in range(2):
        texts |= {
            jsonlib.dumps(text, ensure_ascii=ascii_only)[1:-1]
            for text in texts
            for ascii_only in (True, False)
        }
    forms = set(texts)
    for text in texts:
        for safe in ("", "/"):  # quote leaves "/" alone unless told otherwise
            forms.add(quote(text, safe=safe, errors="surrogatepass"))
            forms.add(quote_plus(text, safe=safe, errors="surrogatepass"))
        raw = text.encode("utf-8", "surrogatepass")
        forms.update(core for core in _base64_cores(raw) if len(core) >= _WHOLE_WORD_BELOW)
    return forms


def _base64_cores(raw: bytes) -> Iterator[str]:
    """The base64 characters that `raw` alone decides, wherever it sits in a longer text.

    Base64 turns each 3 bytes into 4 characters, so the characters for `raw` depend on its
    offset in the text (0, 1 or 2 bytes into a group): encoded after each offset, only the
    characters whose 6 bits all come from `raw` are kept, the same whatever surrounds it.
    """
    for offset in range(3):
        first = -(-8 * offset // 6)  # the first character with no bit of the bytes before
        end = 8 * (offset + len(raw)) // 6  # past the last character with no bit after
        padded = bytes(offset) + raw
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            yield encode(padded).decode("ascii")[first:end]


REPLAY_AGE_SECONDS: Final = 2.0
"""How much older than its answer a created record must be to count as a replay: both times
are the server's, to the second, so a new record is at most about a second older."""

DELETE_HOLD_LIMIT_SECONDS: Final = 3.0
"""The longest a delete waits for SigSentry's clock to leave its source's second of creation
(`delete_log_source`): one second, and up to two more of disagreement between the clock that
stamps `createdAt` and the one that stamps `Date`."""


def _missing_source(response: httpx.Response) -> bool:
    """A 404 for a log source's own path: the source is not there (not a wrong URL)."""
    return response.status_code == httpx.codes.NOT_FOUND and _on_api_route(response)


def _on_api_route(response: httpx.Response) -> bool:
    """Whether the answered request's path is one of the API's routes (else: a wrong URL)."""
    return _API_ROUTE.fullmatch(response.request.url.path) is not None


def _age_at_answer(created_at: object, response: httpx.Response) -> float | None:
    """How many seconds older than the answer's `Date` a record's `createdAt` is.

    Both come from the server's clock, so no clock skew enters; a missing or unreadable time
    says nothing (None).
    """
    created, answered = _server_time(created_at), _answer_time(response)
    if created is None or answered is None:
        return None
    return (answered - created).total_seconds()


def _delete_hold(created_at: object, response: httpx.Response) -> float:
    """Seconds from a delete's answer until SigSentry's clock has left `created_at`'s second."""
    created = _server_time(created_at)
    if created is None:
        return 0.0
    answered = _answer_time(response)
    if answered is None:
        return DELETE_HOLD_LIMIT_SECONDS  # a new record is never recognised without one
    # `Date` is truncated to the second: the clock may stand anywhere in it
    seconds = (created - answered).total_seconds() + 1
    return min(DELETE_HOLD_LIMIT_SECONDS, max(0.0, seconds))


def _server_time(stamp: object) -> datetime | None:
    """A `createdAt` as a time, or None: a state written by hand may hold anything there."""
    if not isinstance(stamp, str):
        return None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _answer_time(response: httpx.Response) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else None


def _log_progress(line: str) -> None:
    log.info("%s", line)


def _target(method: str, path: str, json: object = None) -> str:
    """`PUT ls_123` or `GET log-sources`: what a progress line says a request was about.

    A create has no id yet: its line names the source it makes, `POST log-sources (name 'x')`.
    """
    rest = path.removeprefix(LOG_SOURCES_PATH)
    target = f"{method} {rest.lstrip('/') or 'log-sources'}" if rest != path else f"{method} {path}"
    if method == "POST" and isinstance(json, Mapping) and isinstance(json.get("name"), str):
        target += f" (name {json['name']!r})"
    return target


def _transport_failure(error: httpx.TransportError) -> str:
    """A description of a transport failure from its class alone (its text may hold a header)."""
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.ConnectError):
        return "connection refused or unreachable"
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError):
        return "connection closed without an answer"
    return type(error).__name__


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
        request_id=_request_id(response, secrets),
        details=details,
        route_missing=not _on_api_route(response),
        location=_location(response, secrets),
    )


def _location(response: httpx.Response, secrets: Sequence[str]) -> str | None:
    """Where a redirect points, as an absolute URL without user, password or query, scrubbed:
    the server wrote it, and a query may echo anything."""
    value = response.headers.get("Location")
    if not value:
        return None
    try:
        target = urlsplit(str(response.request.url.join(value)))
    except (httpx.InvalidURL, ValueError):
        return redact(value, secrets)
    return redact(_address(target.geturl()) + target.path, secrets)


def _request_id(response: httpx.Response, secrets: Sequence[str]) -> str | None:
    """The answer's X-Request-Id, scrubbed: a server may echo the request's headers in it."""
    value = response.headers.get("X-Request-Id")
    return None if value is None else redact(value, secrets)


def _connection_error(
    error: httpx.TransportError, call: _Call, base_url: str, timeout: float
) -> APIConnectionError:
    """The exception for a request that got no answer, with none of `error`'s own text."""
    method, path, attempts = call.method, call.path, call.attempt
    if is_refused(error):
        return APIConnectionError(
            f"SigSentry {method} {path} could not connect to {_address(base_url)} "
            f"({_transport_failure(error)}; {attempts} attempt(s) in {call.waited:.1f} s). "
            f"Check {CONFIG_API_URL} (or {ENV_API_URL}) and that the API is up, then retry",
            method=method,
            path=path,
        )
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(
            f"SigSentry {method} {path} timed out after {attempts} attempt(s): the last took "
            f"longer than `{CONFIG_TIMEOUT}` ({timeout:g} s, from connecting to the last byte "
            f"of the answer). Raise it (`pulumi config set {CONFIG_TIMEOUT} 60`) or check the "
            "network, then retry",
            method=method,
            path=path,
        )
    if not is_retryable_error(error) and not isinstance(error, httpx.NetworkError):
        return APIConnectionError(
            f"SigSentry {method} {path} could not be sent ({type(error).__name__}). Check "
            "sigsentry:apiUrl, the API key and sigsentry:projectId",
            method=method,
            path=path,
        )
    return APIConnectionError(
        f"SigSentry {method} {path} got no answer after {attempts} attempt(s) "
        f"({_transport_failure(error)}). Check sigsentry:apiUrl and the network, then retry",
        method=method,
        path=path,
    )


def _address(url: str) -> str:
    """`scheme://host[:port]` of a URL: where a connection goes, without a user, password, path
    or query (a URL may carry credentials in any of those)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port that is not a number
        port = ""
    return f"{parts.scheme}://[{host}]{port}" if ":" in host else f"{parts.scheme}://{host}{port}"


def _endless_list(what: str, request_id: str) -> UnexpectedResponseError:
    """The error for a list walk that would never end; cursors are opaque, not secret."""
    return UnexpectedResponseError(
        f"SigSentry's list of log sources (GET {LOG_SOURCES_PATH}) {what} [request id "
        f"{request_id}]: following it would never end, so the walk stopped. Retry later; if it "
        "happens again, report the cursor and request id to SigSentry support"
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
