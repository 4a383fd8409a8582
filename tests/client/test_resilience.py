"""The client under faults and hostile values: the retry policy, progress lines, idempotency keys
derived from the resource, redaction by whole values, and exceptions that carry no transport
text (httpx.MockTransport and a fake clock: nothing waits)."""

from __future__ import annotations

import traceback

import httpx
import pytest

from client.fakes import (
    API_KEY,
    BASE_URL,
    FakeClock,
    ScriptedAPI,
    envelope,
    error,
    make_client,
    record,
)
from sigsentry_pulumi import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    RouteNotFoundError,
    SigSentryClient,
)
from sigsentry_pulumi._client import derive_idempotency_key, redact
from sigsentry_pulumi._errors import error_for_status


def client_for(
    api: ScriptedAPI,
    clock: FakeClock,
    lines: list[str],
    *,
    max_retries: int = 9,
    budget: float = 120.0,
    jitter: float = 1.0,
) -> SigSentryClient:
    return make_client(
        api,
        clock,
        jitter=jitter,
        max_retries=max_retries,
        retry_budget=budget,
        notify=lines.append,
    )


def test_each_retry_prints_one_line_naming_status_method_source_and_attempt() -> None:
    api = ScriptedAPI(error(503, "SERVICE_UNAVAILABLE"), error(500, "INTERNAL_ERROR"))
    lines: list[str] = []
    client_for(api, FakeClock(), lines).update_log_source("ls_abc", name="n")
    assert lines == [
        "SigSentry answered 503 to PUT ls_abc; retrying in 0.5 s (attempt 2 of 10)",
        "SigSentry answered 500 to PUT ls_abc; retrying in 1.0 s (attempt 3 of 10)",
    ]
    assert [r.method for r in api.requests] == ["PUT"] * 3


def test_ten_attempts_then_the_error_and_the_waits_follow_the_backoff() -> None:
    api = ScriptedAPI(*[error(500, "INTERNAL_ERROR") for _ in range(12)])
    clock, lines = FakeClock(), list[str]()
    with pytest.raises(Exception, match="500 INTERNAL_ERROR"):
        client_for(api, clock, lines).delete_log_source("ls_abc")
    assert len(api.requests) == 10 and len(lines) == 9
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 8.0]


def test_the_time_budget_stops_retrying_before_the_attempts_run_out() -> None:
    api = ScriptedAPI(*[error(503, "SERVICE_UNAVAILABLE") for _ in range(12)])
    clock, lines = FakeClock(), list[str]()
    with pytest.raises(Exception, match="503"):
        client_for(api, clock, lines, budget=4.0).delete_log_source("ls_abc")
    assert clock.sleeps == [0.5, 1.0, 2.0]  # the next wait (4 s) would pass 4 s in all
    assert len(api.requests) == 4


def test_a_429_waits_as_told_without_using_up_attempts() -> None:
    api = ScriptedAPI(
        *[error(429, "RATE_LIMITED", **{"Retry-After": "1"}) for _ in range(12)],
        envelope({"updated": True}),
    )
    clock, lines = FakeClock(), list[str]()
    client_for(api, clock, lines, max_retries=2, jitter=0.0).update_log_source("ls_a", name="n")
    assert len(api.requests) == 13  # more 429s than attempts, and still it went through
    assert clock.sleeps == [1.0] * 12
    assert lines[0] == (
        "SigSentry answered 429 (rate limited) to PUT ls_a; waiting 1.0 s before retrying "
        "(attempt 1 of 3)"
    )


def test_429_waits_stop_at_the_budget_and_max_retries_zero_means_none() -> None:
    api = ScriptedAPI(*[error(429, "RATE_LIMITED", **{"Retry-After": "30"}) for _ in range(9)])
    clock = FakeClock()
    with pytest.raises(RateLimitError):
        client_for(api, clock, [], jitter=0.0).update_log_source("ls_a", name="n")
    assert clock.sleeps == [30.0] * 4  # 120 s of waiting, then the error
    once = ScriptedAPI(error(429, "RATE_LIMITED", **{"Retry-After": "1"}))
    with pytest.raises(RateLimitError):
        client_for(once, FakeClock(), [], max_retries=0).update_log_source("ls_a", name="n")
    assert len(once.requests) == 1


def test_a_create_line_names_the_source_being_created() -> None:
    api = ScriptedAPI(httpx.ReadError("boom"), envelope(record(), 201))
    lines: list[str] = []
    client_for(api, FakeClock(), lines).create_log_source(
        type="cloudwatch", name="prod-cw", credentials={"k": "v"}, sources=["s"]
    )
    assert lines == [
        "SigSentry did not answer POST log-sources (name 'prod-cw') (connection closed without "
        "an answer); retrying in 0.5 s (attempt 2 of 10)"
    ]


def test_derived_idempotency_keys_depend_on_identity_body_generation_and_api_key() -> None:
    body = {"type": "loki", "name": "a", "credentials": {"host": "h"}, "sources": ["s"]}
    key = derive_idempotency_key(API_KEY, "proj/dev/sigsentry:LogSource/a", body)
    assert key == derive_idempotency_key(API_KEY, "proj/dev/sigsentry:LogSource/a", dict(body))
    others = {
        derive_idempotency_key(API_KEY, "proj/prod/sigsentry:LogSource/a", body),
        derive_idempotency_key(API_KEY, "proj/dev/sigsentry:LogSource/a", {**body, "name": "b"}),
        derive_idempotency_key(API_KEY, "proj/dev/sigsentry:LogSource/a", body, 1),
        derive_idempotency_key("another-key", "proj/dev/sigsentry:LogSource/a", body),
    }
    assert key not in others and len(others) == 4
    assert key.startswith("sigsentry-pulumi-v1-") and len(key) <= 255 and key.isascii()


def test_replayed_creates_are_reported() -> None:
    api = ScriptedAPI(envelope(record(), 201, **{"Idempotent-Replayed": "true"}))
    client = client_for(api, FakeClock(), [])
    created = client.create_log_source(
        type="cloudwatch", name="n", credentials={"k": "v"}, sources=["s"], idempotency_key="k1"
    )
    assert created.replayed is True and created.id == record()["id"]
    assert api.requests[0].headers["Idempotency-Key"] == "k1"


@pytest.mark.parametrize("bad", ["ss_secret_abc\nInjected: 1", "ss_secret_\r\x00", "clé-ß"])
def test_a_key_that_cannot_be_a_header_is_refused_without_being_echoed(bad: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SigSentryClient(bad, base_url=BASE_URL)
    text = "".join(traceback.format_exception(caught.value))
    for shown in (bad, repr(bad)[1:-1], "ss_secret_abc", "Injected", "clé"):
        assert shown not in text
    assert "HTTP header" in str(caught.value)
    with pytest.raises(ConfigurationError, match="projectId"):
        SigSentryClient(API_KEY, base_url=BASE_URL, project_id="prj_1\nX: y")


def test_a_transport_failure_carries_no_text_of_the_original_exception() -> None:
    leaked = f"Illegal header value b'Bearer {API_KEY}\\n'"
    api = ScriptedAPI(httpx.LocalProtocolError(leaked))
    with pytest.raises(APIConnectionError) as caught:
        client_for(api, FakeClock(), []).list_log_sources()
    rendered = "".join(traceback.format_exception(caught.value))
    assert API_KEY not in rendered and "Illegal header" not in rendered
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "could not be sent (LocalProtocolError)" in str(caught.value)


def test_a_timeout_names_the_setting_to_raise() -> None:
    api = ScriptedAPI(*[httpx.ReadTimeout("read timed out") for _ in range(3)])
    with pytest.raises(APITimeoutError) as caught:
        client_for(api, FakeClock(), [], max_retries=2).list_log_sources()
    message = str(caught.value)
    assert "timed out after 3 attempt(s): the last took longer than `sigsentry:timeout`" in message
    assert "(30 s, from connecting to the last byte of the answer)" in message
    assert "sigsentry:timeout" in str(caught.value)


def test_redaction_replaces_whole_values_only() -> None:
    # a one-letter value is not cut out of words, whose gaps would spell it
    assert redact("Illegal header value a", ["a"]) == "Illegal header value [redacted]"
    assert redact("Illegal header", ["a", "e"]) == "Illegal header"
    # a long value goes wherever it is, in its escaped forms too
    secret = "line-one\nline-two"
    assert redact(f"got b'Bearer {repr(secret)[1:-1]}'", [secret]) == "got b'Bearer [redacted]'"
    assert redact('{"k": "line-one\\nline-two"}', [secret]) == '{"k": "[redacted]"}'
    assert redact("xxss_secret_long_valuexx", ["ss_secret_long_value"]) == "xx[redacted]xx"


def test_errors_read_with_the_public_module_and_say_each_hint_once() -> None:
    quota = error_for_status(
        403, "QUOTA_EXCEEDED", "quota of 50 reached; delete one or raise the plan"
    )
    assert isinstance(quota, QuotaExceededError)
    line = traceback.format_exception_only(quota)[-1]
    assert line.startswith("sigsentry_pulumi.QuotaExceededError: SigSentry API error 403")
    assert line.count("raise the plan") == 1
    bare = error_for_status(403, "QUOTA_EXCEEDED", "quota reached")
    assert str(bare).count("raise the plan") == 1  # the hint, when the server gave none


def test_a_404_outside_the_api_routes_says_to_check_the_api_url() -> None:
    api = ScriptedAPI(error(404, "NOT_FOUND", "no such endpoint"))
    client = SigSentryClient(
        API_KEY, base_url=BASE_URL + "/v1", transport=httpx.MockTransport(api), max_retries=0
    )
    with pytest.raises(RouteNotFoundError) as caught:
        client.list_log_sources()
    assert not isinstance(caught.value, NotFoundError)  # never taken for a missing source
    assert "check `sigsentry:apiUrl`" in str(caught.value)
    assert "does not exist" not in str(caught.value)

    gone = ScriptedAPI(error(404, "NOT_FOUND", "no log source ls_a"))
    with pytest.raises(NotFoundError) as missing:
        client_for(gone, FakeClock(), []).delete_log_source("ls_a")
    assert not isinstance(missing.value, RouteNotFoundError)
    assert "does not exist" in str(missing.value)
