"""When to retry a request, how long to wait, and the pause a 429 puts on every thread.

The decision and the wait are small pure functions so that a table of cases can test them:
GET, PUT and DELETE are retried on 429, 500, 502, 503, 504 and on connection or read errors;
a POST only when it carries an Idempotency-Key (the server then answers a repeat with the first
response instead of creating a second source). The wait honours `Retry-After` up to
`MAX_RETRY_AFTER` seconds (plus up to half of it again at random, so that many clients told to
come back at the same moment do not), else backs off exponentially with full jitter.

The policy, chosen so that a deployment rides out an hour in which 30% of requests fail:

* up to `DEFAULT_MAX_RETRIES` (9) retries, so 10 attempts: a call then fails only when ten
  attempts in a row fail, 0.3**10 = 6e-6 per call at 30% faults (about 1 in 300 deployments of
  600 calls), where 4 attempts failed 1 call in 120;
* backoff 0.5 s, 1 s, 2 s, 4 s, then 8 s at most (each a random fraction of that ceiling);
* at most `DEFAULT_RETRY_BUDGET` (120) seconds of waiting per call: a retry whose wait would
  take the call past it is not made;
* a 429 is a request the server refused to look at, not a failure: its waits do not use up the
  attempts but count against the time budget (and at most `MAX_RATE_LIMIT_WAITS` of them);
* a refused connection (`is_refused`: nothing listens at the address, or it cannot be reached or
  resolved) is retried only within `REFUSED_RETRY_BUDGET` (4) seconds of waiting (the last wait
  cut to fit), so a wrong
  `sigsentry:apiUrl` or a down API fails within about 5 s instead of after ten attempts
  (25-33 s). Nothing was sent, so a retry is about whether the server comes back, and one that
  refuses for 4 s is restarting at best. A lost answer (a connection reset or closed after the
  request was written, a read timeout) is not a refusal: the request may have been carried out,
  and the retries that replay it idempotently keep the whole budget, as 5xx and 429 do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ._constants import INITIAL_RETRY_DELAY, MAX_RETRY_AFTER, MAX_RETRY_DELAY, RETRYABLE_STATUSES

__all__ = [
    "DEFAULT_RETRY_BUDGET",
    "MAX_RATE_LIMIT_WAITS",
    "REFUSED_RETRY_BUDGET",
    "PauseGate",
    "is_refused",
    "is_retryable_error",
    "may_retry",
    "retry_delay",
    "transport_retry_delay",
]

DEFAULT_RETRY_BUDGET = 120.0
"""Seconds of waiting between attempts one call may spend, 429 waits included."""
MAX_RATE_LIMIT_WAITS = 40
"""429 answers one call waits out before it gives up (each also counts against the budget)."""
REFUSED_RETRY_BUDGET = 4.0
"""Seconds of waiting one call spends retrying refused connections (within the budget above)."""

_ALWAYS_RETRYABLE_METHODS = frozenset({"GET", "PUT", "DELETE"})

# An error after which the request may or may not have reached the server: safe to repeat only
# for a request whose repetition changes nothing (see may_retry).
_RETRYABLE_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.PoolTimeout,
)


def may_retry(method: str, *, has_idempotency_key: bool) -> bool:
    """Whether repeating this request is harmless."""
    return method.upper() in _ALWAYS_RETRYABLE_METHODS or (
        method.upper() == "POST" and has_idempotency_key
    )


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES


def is_retryable_error(error: Exception) -> bool:
    return isinstance(error, _RETRYABLE_ERRORS)


def is_refused(error: Exception) -> bool:
    """Whether the connection was never made (refused, unreachable, a name that does not resolve):
    httpx's `ConnectError`. The request was not sent, so the server did nothing with it."""
    return isinstance(error, httpx.ConnectError)


def transport_retry_delay(
    error: Exception,
    *,
    attempt: int,
    attempts: int,
    waited: float,
    refused_waited: float,
    budget: float,
    random: Callable[[], float],
) -> float | None:
    """Seconds to wait before retrying a request that got no answer, or None to fail now.

    `attempt` is the attempt just made (from 1) of `attempts`; `waited` the seconds the call has
    waited so far, `refused_waited` those spent after refused connections. Any retryable failure
    waits the usual backoff within the call's whole `budget`; after a refused connection the
    wait is cut to what is left of `REFUSED_RETRY_BUDGET`, and none left means fail. So a server
    that refuses for 4 s fails the call, and one that is restarting gets those 4 s whatever
    the call waited before (its backoff may have reached 8 s).
    """
    if attempt >= attempts or not is_retryable_error(error):
        return None
    delay = retry_delay(attempt - 1, random=random)
    if is_refused(error):
        left = REFUSED_RETRY_BUDGET - refused_waited
        if left <= 0:
            return None
        delay = min(delay, left)
    if waited + delay > budget:
        return None
    return delay


def retry_delay(
    attempt: int,
    retry_after: str | None = None,
    *,
    random: Callable[[], float],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry)."""
    honoured = parse_retry_after(retry_after, now=now)
    if honoured is not None:
        bounded = min(honoured, MAX_RETRY_AFTER)
        return bounded + random() * bounded / 2
    ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0**attempt)
    return random() * ceiling


def parse_retry_after(
    value: str | None, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or garbled."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now()).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


class PauseGate:
    """Holds back every thread of one client until a rate-limit pause has passed."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._until = 0.0

    def pause_for(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, self._clock() + seconds)

    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self._until - self._clock())

    def wait(self) -> None:
        """Sleep until no pause is in force (a pause set meanwhile extends the wait)."""
        while (left := self.remaining()) > 0:
            self._sleep(left)
