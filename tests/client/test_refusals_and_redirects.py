"""Retries that depend on the failure, and redirects that are named, not followed.

A refused connection (nothing listens, the host cannot be reached or resolved: httpx's
`ConnectError`) was never sent: it is retried within `REFUSED_RETRY_BUDGET` seconds of waiting,
so a wrong `sigsentry:apiUrl` or a down API fails within about 5 s. A lost answer (a connection
reset or closed after the request was written, a read timeout) may have been carried out: it
keeps the whole budget, as 5xx and 429 do, because the idempotent replay of a create relies on
those retries. A 3xx is not followed (the API key would go where it leads): its message names
the target and `sigsentry:apiUrl`.
"""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from client.fakes import API_KEY, FakeClock, ScriptedAPI, envelope, make_client, record
from sigsentry_pulumi import APIConnectionError, APIStatusError, RedirectError, SigSentryClient
from sigsentry_pulumi._constants import DEFAULT_MAX_RETRIES, LOG_SOURCES_PATH
from sigsentry_pulumi._retry import (
    DEFAULT_RETRY_BUDGET,
    REFUSED_RETRY_BUDGET,
    is_refused,
    transport_retry_delay,
)

REFUSED = httpx.ConnectError("[Errno 111] Connection refused")
LOST_ANSWERS = [
    httpx.ReadError("connection reset by peer"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.ReadTimeout("timed out"),
    httpx.WriteError("broken pipe"),
]


def client_for(
    api: ScriptedAPI, clock: FakeClock, lines: list[str], *, jitter: float = 1.0
) -> SigSentryClient:
    return make_client(
        api, clock, jitter=jitter, max_retries=DEFAULT_MAX_RETRIES, notify=lines.append
    )


# -- the decision, pure -------------------------------------------------------------------------


def delay_after(
    error: Exception, attempt: int, *, waited: float = 0.0, refused: float = 0.0
) -> float | None:
    return transport_retry_delay(
        error,
        attempt=attempt,
        attempts=10,
        waited=waited,
        refused_waited=refused,
        budget=DEFAULT_RETRY_BUDGET,
        random=lambda: 1.0,
    )


def test_only_a_connection_never_made_counts_as_refused() -> None:
    assert is_refused(REFUSED)
    for lost in [*LOST_ANSWERS, httpx.ConnectTimeout("timed out"), httpx.PoolTimeout("full")]:
        assert not is_refused(lost), lost


@pytest.mark.parametrize(
    ("refused_so_far", "attempt", "expected"),
    [
        (0.0, 1, 0.5),  # the backoff as for any failure ...
        (0.5, 2, 1.0),
        (1.5, 3, 2.0),
        (3.5, 4, 0.5),  # ... cut to what is left of 4 s of waiting on refusals
        (3.0, 2, 1.0),  # exactly up to the budget
        (4.0, 5, None),  # nothing left: fail
    ],
)
def test_a_refused_connection_is_retried_within_its_own_budget(
    refused_so_far: float, attempt: int, expected: float | None
) -> None:
    assert delay_after(REFUSED, attempt, waited=refused_so_far, refused=refused_so_far) == expected


@pytest.mark.parametrize("lost", LOST_ANSWERS, ids=lambda e: type(e).__name__)
def test_a_lost_answer_keeps_the_whole_budget(lost: Exception) -> None:
    # far past the refusals' budget, well inside the call's
    assert delay_after(lost, 5, waited=50.0, refused=3.9) == 8.0
    assert delay_after(lost, 9, waited=50.0) == 8.0
    assert delay_after(lost, 10, waited=50.0) is None  # the attempts are used up
    assert delay_after(lost, 5, waited=DEFAULT_RETRY_BUDGET - 1) is None  # the time budget too


def test_waits_after_other_failures_do_not_use_up_the_refusals_budget() -> None:
    # a server restarting: 503s for a minute (the backoff at 8 s), then refusing as it starts
    assert delay_after(REFUSED, 6, waited=60.0, refused=0.0) == REFUSED_RETRY_BUDGET
    assert delay_after(REFUSED, 7, waited=61.0, refused=1.0) == 3.0
    assert delay_after(REFUSED, 8, waited=64.0, refused=REFUSED_RETRY_BUDGET) is None


# -- the client, on a mock transport ------------------------------------------------------------


def test_a_refused_connection_fails_after_4_seconds_of_waiting_naming_the_address() -> None:
    api = ScriptedAPI(*[REFUSED] * 12)
    clock, lines = FakeClock(), list[str]()
    with pytest.raises(APIConnectionError) as caught:
        client_for(api, clock, lines).delete_log_source("ls_abc")
    assert clock.sleeps == [0.5, 1.0, 2.0, 0.5]  # 4 s: the last wait cut to fit
    assert len(api.requests) == 5 and len(lines) == 4
    message = str(caught.value)
    assert message.startswith(
        "SigSentry DELETE /v1/config/log-sources/ls_abc could not connect to "
        "https://api.sigsentry.test (connection refused or unreachable; 5 attempt(s) in 4.0 s)"
    )
    assert "Check sigsentry:apiUrl (or SIGSENTRY_API_URL) and that the API is up" in message


def test_the_address_named_holds_no_user_password_path_or_query() -> None:
    api = ScriptedAPI(REFUSED)
    client = SigSentryClient(
        API_KEY,
        base_url="https://user:pa55word@api.sigsentry.test:8443/base?token=t0k3n",
        transport=httpx.MockTransport(api),
        max_retries=0,
    )
    with pytest.raises(APIConnectionError) as caught:
        client.list_log_sources()
    message = str(caught.value)
    assert "could not connect to https://api.sigsentry.test:8443 (" in message
    for hidden in ("user", "pa55word", "/base", "t0k3n"):
        assert hidden not in message.split("could not connect to")[1]


@pytest.mark.parametrize("lost", LOST_ANSWERS, ids=lambda e: type(e).__name__)
def test_a_lost_answer_is_retried_past_the_refusals_budget(lost: Exception) -> None:
    # a create whose answers are lost five times: its sixth attempt is replayed
    api = ScriptedAPI(*[lost] * 5, envelope(record(1), 201))
    clock = FakeClock()
    made = client_for(api, clock, []).create_log_source(
        type="cloudwatch",
        name="n",
        credentials={"accessKeyId": "a", "secretAccessKey": "b"},
        sources=["/a"],
        idempotency_key="key-1",
    )
    assert made.id == record(1)["id"]
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]  # 15.5 s: past 4, as before
    assert {r.headers["Idempotency-Key"] for r in api.requests} == {"key-1"}


def test_a_server_that_comes_back_within_the_refusals_budget_answers() -> None:
    api = ScriptedAPI(REFUSED, REFUSED, envelope({"ok": True, "message": "fine"}))
    clock = FakeClock()
    assert client_for(api, clock, [], jitter=0.5).test_log_source("ls_abc").ok
    assert clock.sleeps == [0.25, 0.5]


def test_a_real_closed_port_fails_within_about_5_seconds() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # released on leaving: nothing listens there
    client = SigSentryClient(API_KEY, base_url=f"http://127.0.0.1:{port}", notify=lambda _: None)
    started = time.monotonic()
    with pytest.raises(APIConnectionError) as caught:
        client.list_log_sources()
    took = time.monotonic() - started
    assert took < REFUSED_RETRY_BUDGET + 1.5, took  # was 10 attempts, 25-33 s
    assert f"could not connect to http://127.0.0.1:{port} (connection refused" in str(caught.value)


# -- redirects ----------------------------------------------------------------------------------


def redirect(status: int, location: str | None) -> httpx.Response:
    return httpx.Response(status, headers={"Location": location} if location else {})


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_and_names_its_target_and_the_setting(status: int) -> None:
    api = ScriptedAPI(redirect(status, "https://api.sigsentry.com/v1/config/log-sources?limit=1"))
    with pytest.raises(RedirectError) as caught:
        client_for(api, FakeClock(), []).list_log_sources()
    assert len(api.requests) == 1  # not followed: the key goes nowhere else
    assert isinstance(caught.value, APIStatusError) and caught.value.status == status
    assert str(caught.value) == (
        f"SigSentry answered {status} redirecting to "
        "https://api.sigsentry.com/v1/config/log-sources: set `sigsentry:apiUrl` (or "
        "SIGSENTRY_API_URL) to the API's own address, such as https://api.sigsentry.com "
        "(redirects are not followed, so the API key goes only where that setting says)"
    )


def test_a_relative_redirect_is_named_as_an_absolute_url_without_secrets() -> None:
    api = ScriptedAPI(redirect(302, f"/login?next=%2F&key={API_KEY}"))
    with pytest.raises(RedirectError) as caught:
        client_for(api, FakeClock(), []).delete_log_source("ls_abc")
    assert caught.value.location == "https://api.sigsentry.test/login"
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value)

    echoed = ScriptedAPI(redirect(307, f"https://elsewhere.test/{API_KEY}/x"))
    with pytest.raises(RedirectError) as again:
        client_for(echoed, FakeClock(), []).delete_log_source("ls_abc")
    assert again.value.location == "https://elsewhere.test/[redacted]/x"


def test_a_redirect_without_a_location_says_so() -> None:
    api = ScriptedAPI(redirect(302, None))
    with pytest.raises(RedirectError, match="SigSentry answered 302 without a Location: set"):
        client_for(api, FakeClock(), []).update_log_source("ls_abc", name="n")
    assert [r.url.path for r in api.requests] == [f"{LOG_SOURCES_PATH}/ls_abc"]
