"""SigSentryClient on httpx.MockTransport: retries, Retry-After, idempotency, errors, secrets."""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx
import pytest

from client.fakes import API_KEY, FakeClock, ScriptedAPI, envelope, error, make_client, page, record
from sigsentry_pulumi import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    SigSentryClient,
    UnexpectedResponseError,
    __version__,
    _runtime,
)
from sigsentry_pulumi._constants import LOG_SOURCES_PATH
from sigsentry_pulumi._retry import PauseGate, retry_delay

CREDENTIALS = {"accessKeyId": "AKIA-CLIENT-TEST", "secretAccessKey": "wJalr-very-secret-value"}
SECRETS = [API_KEY, *CREDENTIALS.values()]

RETRYABLE = [429, 500, 502, 503, 504]
NOT_RETRYABLE = [400, 401, 403, 404, 409]
# (method, idempotency key?) -> may it be repeated
METHODS = [
    ("GET", False, True),
    ("PUT", False, True),
    ("DELETE", False, True),
    ("POST", True, True),
    ("POST", False, False),
]


def send(client: SigSentryClient, method: str, with_key: bool) -> httpx.Response:
    return client._send(
        method,
        f"{LOG_SOURCES_PATH}/ls_00000000-0000-4000-8000-000000000000",
        json={} if method in ("PUT", "POST") else None,
        idempotency_key="key-1" if with_key else None,
    )


@pytest.mark.parametrize("status", RETRYABLE + NOT_RETRYABLE)
@pytest.mark.parametrize(("method", "with_key", "repeatable"), METHODS)
def test_retry_table(status: int, method: str, with_key: bool, repeatable: bool) -> None:
    api = ScriptedAPI(error(status, "ANY"), error(status, "ANY"), envelope({"ok": True}))
    clock = FakeClock()
    client = make_client(api, clock, max_retries=3)
    should_retry = repeatable and status in RETRYABLE
    if should_retry:
        assert send(client, method, with_key).status_code == 200
        assert len(api.requests) == 3
        assert len(clock.sleeps) == 2
    else:
        with pytest.raises(APIStatusError) as caught:
            send(client, method, with_key)
        assert caught.value.status == status
        assert len(api.requests) == 1
        assert clock.sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadError("reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
    ],
)
@pytest.mark.parametrize(("method", "with_key", "repeatable"), METHODS)
def test_connection_errors_are_retried_only_when_repeating_is_safe(
    failure: Exception, method: str, with_key: bool, repeatable: bool
) -> None:
    api = ScriptedAPI(failure, envelope({"ok": True}))
    client = make_client(api)
    if repeatable:
        assert send(client, method, with_key).status_code == 200
        assert len(api.requests) == 2
    else:
        with pytest.raises(APIConnectionError):
            send(client, method, with_key)
        assert len(api.requests) == 1


def test_retries_stop_after_max_retries_with_the_last_error() -> None:
    api = ScriptedAPI(*[error(503, "SERVICE_UNAVAILABLE")] * 10)
    client = make_client(api, max_retries=2)
    with pytest.raises(InternalServerError) as caught:
        client.delete_log_source("ls_00000000-0000-4000-8000-000000000000")
    assert len(api.requests) == 3
    assert caught.value.code == "SERVICE_UNAVAILABLE"


def test_timeouts_exhausted_raise_a_timeout_error_naming_the_call() -> None:
    api = ScriptedAPI(*[httpx.ReadTimeout("timed out")] * 5)
    client = make_client(api, max_retries=1)
    with pytest.raises(APITimeoutError, match=r"GET /v1/config/log-sources timed out after 2"):
        client.list_log_sources()


def test_backoff_is_exponential_full_jitter_and_capped() -> None:
    api = ScriptedAPI(*[error(500, "INTERNAL_ERROR")] * 6, envelope({"deleted": True}))
    clock = FakeClock()
    make_client(api, clock, max_retries=6, jitter=1.0).delete_log_source("ls_x")
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert retry_delay(3, random=lambda: 0.25) == 1.0  # a quarter of the 4 s ceiling
    assert retry_delay(0, random=lambda: 0.0) == 0.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 4.5), ("0.5", 0.75), ("3600", 90.0), ("garbage", 0.5), ("-4", 0.0)],
)
def test_retry_after_is_honoured_and_capped(header: str, expected: float) -> None:
    api = ScriptedAPI(error(503, "SERVICE_UNAVAILABLE", **{"Retry-After": header}), envelope({}))
    clock = FakeClock()
    make_client(api, clock, jitter=1.0).update_log_source("ls_x", name="n")
    assert clock.sleeps == [expected]


def test_retry_after_as_an_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 4, 25, 14, 30, 0, tzinfo=UTC)
    delay = retry_delay(0, "Sat, 25 Apr 2026 14:30:07 GMT", random=lambda: 0.0, now=lambda: now)
    assert delay == 7.0


def test_a_429_pauses_every_thread_of_the_client() -> None:
    clock = FakeClock()
    api = ScriptedAPI(error(429, "RATE_LIMITED", **{"Retry-After": "5"}))
    client = make_client(api, clock)
    other_thread: dict[str, Any] = {}

    def while_first_thread_waits(seconds: float) -> None:
        # Another thread calls in while the first is waiting out the 429: it must wait too,
        # before sending anything.
        sent_before = len(api.requests)

        def other() -> None:
            client.list_log_sources()
            other_thread["slept"] = list(clock.sleeps)

        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
        other_thread["sent_before"] = sent_before

    api.script.append(page([]))  # the other thread's answer
    api.script.append(envelope({"updated": True}))  # the first thread's retry
    clock.on_sleep = while_first_thread_waits
    client.update_log_source("ls_x", is_active=False)
    # the other thread slept before its GET: Retry-After 5 s plus up to half of it (jitter 1.0)
    assert other_thread["slept"] == [7.5]
    assert [r.method for r in api.requests] == ["PUT", "GET", "PUT"]
    assert other_thread["sent_before"] == 1


def test_pause_gate_extends_to_the_latest_deadline() -> None:
    clock = FakeClock()
    gate = PauseGate(clock.monotonic, clock.sleep)
    gate.pause_for(2)
    gate.pause_for(5)
    gate.pause_for(1)
    gate.wait()
    assert clock.sleeps == [5.0]
    gate.wait()
    assert clock.sleeps == [5.0]


def test_create_reuses_one_idempotency_key_on_every_retry() -> None:
    api = ScriptedAPI(
        error(503, "SERVICE_UNAVAILABLE"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        envelope(record(1), status=201),
        envelope(record(2), status=201),
    )
    client = make_client(api)
    kwargs: dict[str, Any] = {
        "type": "cloudwatch",
        "name": "n",
        "credentials": CREDENTIALS,
        "sources": ["/a"],
    }
    first = client.create_log_source(**kwargs)
    second = client.create_log_source(**kwargs)
    keys = [r.headers["Idempotency-Key"] for r in api.requests]
    assert keys[0] == keys[1] == keys[2]
    assert keys[3] != keys[0]
    assert first.id.endswith("1") and second.id.endswith("2")
    assert api.bodies()[0] == {
        "type": "cloudwatch",
        "name": "n",
        "credentials": CREDENTIALS,
        "sources": ["/a"],
    }


def test_a_caller_chosen_idempotency_key_is_sent_as_is() -> None:
    api = ScriptedAPI(envelope(record(), status=201))
    make_client(api).create_log_source(
        type="datadog",
        name="n",
        credentials={"apiKey": "a", "appKey": "b"},
        sources=["s"],
        idempotency_key="deploy-42",
    )
    assert api.requests[0].headers["Idempotency-Key"] == "deploy-42"


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "VALIDATION_ERROR", BadRequestError),
        (401, "UNAUTHORIZED", AuthenticationError),
        (403, "FORBIDDEN", PermissionDeniedError),
        (403, "QUOTA_EXCEEDED", QuotaExceededError),
        (404, "NOT_FOUND", NotFoundError),
        (409, "IDEMPOTENCY_CONFLICT", ConflictError),
        (429, "RATE_LIMITED", RateLimitError),
        (500, "INTERNAL_ERROR", InternalServerError),
        (503, "SERVICE_UNAVAILABLE", InternalServerError),
        (418, "TEAPOT", APIStatusError),
    ],
)
def test_error_mapping(status: int, code: str, cls: type[APIStatusError]) -> None:
    details = [{"field": "credentials.apiKey", "issue": "required for type datadog"}]
    api = ScriptedAPI(error(status, code, "it went wrong", details))
    with pytest.raises(APIStatusError) as caught:
        make_client(api, max_retries=0).list_log_sources()
    exc = caught.value
    assert type(exc) is cls
    assert (exc.status, exc.code, exc.message, exc.request_id) == (
        status,
        code,
        "it went wrong",
        "req_server_1",
    )
    assert exc.details == details
    assert "credentials.apiKey: required for type datadog" in str(exc)
    assert "req_server_1" in str(exc)


def test_an_error_without_the_envelope_still_maps_by_status() -> None:
    api = ScriptedAPI(httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(InternalServerError) as caught:
        make_client(api, max_retries=0).list_log_sources()
    assert caught.value.code == "HTTP_502"


def test_a_success_without_the_contracts_shape_is_an_unexpected_response() -> None:
    api = ScriptedAPI(envelope({"id": "ls_x"}, status=201))
    with pytest.raises(UnexpectedResponseError, match="LogSourceRecord"):
        make_client(api).create_log_source(
            type="datadog", name="n", credentials={"apiKey": "a", "appKey": "b"}, sources=["s"]
        )


def test_secrets_echoed_by_a_server_never_reach_exceptions_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    leak = f"bad key {API_KEY} for {CREDENTIALS['secretAccessKey']}"
    api = ScriptedAPI(
        error(400, "VALIDATION_ERROR", leak, [{"field": "credentials", "issue": leak}]),
    )
    client = make_client(api)
    caplog.set_level(logging.DEBUG, logger="sigsentry_pulumi")
    with pytest.raises(BadRequestError) as caught:
        client.create_log_source(
            type="cloudwatch", name="n", credentials=CREDENTIALS, sources=["/a"]
        )
    texts = [str(caught.value), repr(caught.value), repr(client), caplog.text]
    texts += [str(d) for d in caught.value.details]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    assert "[redacted]" in str(caught.value)


def test_connection_errors_hold_no_secret() -> None:
    api = ScriptedAPI(httpx.ConnectError(f"refused while sending {API_KEY}"))
    with pytest.raises(APIConnectionError) as caught:
        make_client(api, max_retries=0)._send("POST", "/v1/x")
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value)


def test_requests_carry_user_agent_bearer_and_project_header() -> None:
    api = ScriptedAPI(page([]), page([]))
    client = make_client(api, project_id="prj_default")
    client.list_log_sources()
    client.list_log_sources(project_id="prj_other")
    first, second = api.requests
    assert first.headers["User-Agent"] == f"sigsentry-pulumi/{__version__}"
    assert first.headers["Authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in str(first.url)
    assert first.headers["X-Project-Id"] == "prj_default"
    assert second.headers["X-Project-Id"] == "prj_other"
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_no_project_header_without_a_project() -> None:
    api = ScriptedAPI(page([]))
    make_client(api).list_log_sources()
    assert "X-Project-Id" not in api.requests[0].headers


def test_iter_walks_every_page_at_the_largest_page_size() -> None:
    api = ScriptedAPI(page([record(1), record(2)], next_cursor="c1"), page([record(3)]))
    ids = [r.id[-1] for r in make_client(api).iter_log_sources()]
    assert ids == ["1", "2", "3"]
    assert [dict(r.url.params) for r in api.requests] == [
        {"limit": "500"},
        {"limit": "500", "cursor": "c1"},
    ]


def test_update_sends_only_the_fields_given() -> None:
    api = ScriptedAPI(envelope({"updated": True}))
    make_client(api).update_log_source("ls_x", sources=["/b"], is_active=False)
    assert api.bodies() == [{"sources": ["/b"], "isActive": False}]
    assert api.requests[0].method == "PUT"


def test_verification_result_parses_both_answers() -> None:
    api = ScriptedAPI(
        envelope({"ok": True, "message": "fine", "sample": ["line"]}),
        envelope({"ok": False, "message": "host unreachable"}),
    )
    client = make_client(api)
    assert client.test_log_source("ls_x").sample == ["line"]
    assert client.test_log_source("ls_x").ok is False


def test_client_repr_hides_the_key() -> None:
    client = make_client(ScriptedAPI())
    assert API_KEY not in repr(client) and "<hidden>" in repr(client)


def test_client_reads_the_environment_when_arguments_are_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGSENTRY_API_KEY", "ss_secret_env")
    monkeypatch.setenv("SIGSENTRY_API_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("SIGSENTRY_PROJECT_ID", "prj_env")
    client = SigSentryClient()
    assert (client.base_url, client.project_id) == ("http://127.0.0.1:9", "prj_env")
    assert SigSentryClient("ss_secret_arg", project_id="prj_arg").project_id == "prj_arg"


def test_client_without_any_key_says_how_to_give_one() -> None:
    with pytest.raises(ConfigurationError, match=r"api_key=.*SIGSENTRY_API_KEY"):
        SigSentryClient()


def test_clients_without_a_transport_share_one_http_client_per_process() -> None:
    seen: list[httpx.Client] = []

    def grab() -> None:
        seen.append(_runtime.shared_http_client())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 1
    assert seen[0].headers["User-Agent"].startswith("sigsentry-pulumi/")
