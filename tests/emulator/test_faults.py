"""Injected faults: what a client sees, what gets written, and how rules match."""

from __future__ import annotations

import base64
import json
import socket
import time
from urllib.parse import unquote, unquote_plus

import httpx
import pytest

from emulator.helpers import CLOUDWATCH
from raw_api import LOG_SOURCES
from sigsentry_emulator.faults import REPEAT_CURSOR
from sigsentry_emulator.testing import EmulatorError, EmulatorProcess


def test_faults_are_off_by_default(api: httpx.Client) -> None:
    statuses = {api.get(LOG_SOURCES).status_code for _ in range(20)}
    assert statuses == {200}


def test_429_fault_answers_before_anything_is_written(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    emulator.set_faults({"rules": [{"method": "POST", "fault": "429", "retryAfter": 7}]})

    response = api.post(LOG_SOURCES, json=CLOUDWATCH)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert response.headers["Retry-After"] == "7"
    emulator.clear_faults()
    assert api.get(LOG_SOURCES).json()["data"] == []


def test_503_fault_carries_retry_after(api: httpx.Client, emulator: EmulatorProcess) -> None:
    emulator.set_faults({"rules": [{"fault": "503", "retryAfter": 2}]})
    response = api.get(LOG_SOURCES)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["Retry-After"] == "2"


def test_slow_fault_delays_then_answers_normally(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    emulator.set_faults({"rules": [{"fault": "slow", "delaySeconds": 0.6, "times": 1}]})
    started = time.monotonic()
    slow = api.post(LOG_SOURCES, json=CLOUDWATCH)
    elapsed = time.monotonic() - started
    assert slow.status_code == 201
    assert elapsed >= 0.6
    with pytest.raises(httpx.ReadTimeout):
        emulator.set_faults({"rules": [{"fault": "slow", "delaySeconds": 2}]})
        api.get(LOG_SOURCES, timeout=0.3)


def test_drop_commits_the_write_then_closes_the_connection(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    emulator.set_faults({"rules": [{"method": "POST", "fault": "drop", "times": 1}]})

    with pytest.raises(httpx.TransportError):
        api.post(LOG_SOURCES, json=CLOUDWATCH, headers={"Idempotency-Key": "dropped-once"})

    [stored] = api.get(LOG_SOURCES).json()["data"]
    assert stored["name"] == CLOUDWATCH["name"]
    retry = api.post(LOG_SOURCES, json=CLOUDWATCH, headers={"Idempotency-Key": "dropped-once"})
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["data"] == stored
    posts = [e for e in emulator.requests() if e["method"] == "POST"]
    assert [(e["status"], e["fault"], e["replayed"]) for e in posts] == [
        (201, "drop", False),
        (201, None, True),
    ]


def test_drop_on_delete_deletes(api: httpx.Client, emulator: EmulatorProcess) -> None:
    source = api.post(LOG_SOURCES, json=CLOUDWATCH).json()["data"]["id"]
    emulator.set_faults({"rules": [{"method": "DELETE", "fault": "drop"}]})
    with pytest.raises(httpx.TransportError):
        api.delete(f"{LOG_SOURCES}/{source}")
    assert api.get(LOG_SOURCES).json()["data"] == []


def test_empty_answers_one_list_page_with_no_sources_and_nothing_else(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    source = api.post(LOG_SOURCES, json=CLOUDWATCH).json()["data"]["id"]
    emulator.set_faults({"rules": [{"fault": "empty", "times": 1}]})
    # Other requests pass: the rule waits for a list GET, then is used up.
    assert api.put(f"{LOG_SOURCES}/{source}", json={}).status_code == 200
    glitch = api.get(LOG_SOURCES)
    assert glitch.status_code == 200
    assert glitch.json() == {"success": True, "data": [], "nextCursor": None}
    assert glitch.headers["X-Request-Id"]
    assert [s["id"] for s in api.get(LOG_SOURCES).json()["data"]] == [source]
    assert [(e["method"], e["fault"]) for e in emulator.requests()[1:]] == [
        ("PUT", None),
        ("GET", "empty"),
        ("GET", None),
    ]


def test_no_replay_header_answers_a_replay_without_its_header(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    key = {"Idempotency-Key": "stripped-replay"}
    first = api.post(LOG_SOURCES, json=CLOUDWATCH, headers=key)
    emulator.set_faults({"rules": [{"method": "POST", "fault": "noReplayHeader"}]})
    replay = api.post(LOG_SOURCES, json=CLOUDWATCH, headers=key)
    assert replay.status_code == 201
    assert replay.json() == first.json()  # the same record, as a replay answers it
    assert "Idempotent-Replayed" not in replay.headers
    assert replay.headers["X-Request-Id"]
    # the request log still tells the truth
    assert [(e["replayed"], e["fault"]) for e in emulator.requests()] == [
        (False, None),
        (True, "noReplayHeader"),
    ]


def test_sequence_is_played_in_order_for_matching_requests_only(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    emulator.set_faults(
        {"rules": [{"method": "POST", "path": LOG_SOURCES, "sequence": ["503", "ok", "500"]}]}
    )
    posts, gets = [], []
    for _ in range(4):
        posts.append(api.post(LOG_SOURCES, json=CLOUDWATCH).status_code)
        gets.append(api.get(LOG_SOURCES).status_code)
    assert posts == [503, 201, 500, 201]
    assert gets == [200, 200, 200, 200]


def test_path_globs_select_operations(api: httpx.Client, emulator: EmulatorProcess) -> None:
    source = api.post(LOG_SOURCES, json=CLOUDWATCH).json()["data"]["id"]
    emulator.set_faults({"rules": [{"path": f"{LOG_SOURCES}/*/test", "fault": "500"}]})
    assert api.post(f"{LOG_SOURCES}/{source}/test").status_code == 500
    assert api.put(f"{LOG_SOURCES}/{source}", json={}).status_code == 200
    assert api.get(LOG_SOURCES).status_code == 200


def test_times_caps_how_often_a_rule_fires(api: httpx.Client, emulator: EmulatorProcess) -> None:
    emulator.set_faults({"rules": [{"fault": "500", "times": 2}]})
    assert [api.get(LOG_SOURCES).status_code for _ in range(4)] == [500, 500, 200, 200]


def test_probability_with_a_seed_is_reproducible(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    spec = {"seed": 42, "rules": [{"method": "GET", "fault": "503", "probability": 0.5}]}

    runs = []
    for _ in range(2):
        emulator.set_faults(spec)
        runs.append([api.get(LOG_SOURCES).status_code for _ in range(30)])

    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}


def test_rules_are_consulted_in_order(api: httpx.Client, emulator: EmulatorProcess) -> None:
    emulator.set_faults(
        {"rules": [{"method": "GET", "fault": "503", "times": 1}, {"fault": "500", "times": 1}]}
    )
    assert [api.get(LOG_SOURCES).status_code for _ in range(3)] == [503, 500, 200]


def test_health_checks_and_admin_calls_are_never_faulted(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"rules": [{"fault": "500"}]})
    assert httpx.get(f"{emulator.url}/healthz").status_code == 200
    emulator.clear_requests()  # an admin call, through the same rule
    emulator.clear_faults()


def test_repeat_cursor_points_every_page_back_to_the_first(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    made = [
        api.post(LOG_SOURCES, json={**CLOUDWATCH, "name": f"s{i}"}).json()["data"]["id"]
        for i in range(3)
    ]
    emulator.set_faults({"rules": [{"method": "GET", "fault": "repeatCursor", "times": 2}]})
    first = api.get(LOG_SOURCES, params={"limit": 2}).json()
    again = api.get(LOG_SOURCES, params={"limit": 2, "cursor": first["nextCursor"]}).json()
    assert first["nextCursor"] == again["nextCursor"] == REPEAT_CURSOR
    assert [s["id"] for s in first["data"]] == [s["id"] for s in again["data"]] == made[:2]
    # once the rule is used up, the cursor still leads to the first page, whose own cursor
    # then leads on: a walk that stops following it ends normally
    third = api.get(LOG_SOURCES, params={"limit": 2, "cursor": REPEAT_CURSOR}).json()
    assert [s["id"] for s in third["data"]] == made[:2] and third["nextCursor"] != REPEAT_CURSOR
    assert [e["fault"] for e in emulator.requests() if e["method"] == "GET"] == [
        "repeatCursor",
        "repeatCursor",
        None,
    ]


def test_trickle_sends_the_body_a_byte_at_a_time(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    emulator.set_faults({"rules": [{"method": "GET", "fault": "trickle", "delaySeconds": 0.02}]})
    started = time.monotonic()
    with api.stream("GET", LOG_SOURCES) as response:
        assert response.status_code == 200  # the headers came at once
        chunks = list(response.iter_raw())
    took = time.monotonic() - started
    body = b"".join(chunks)
    assert json.loads(body) == {"success": True, "data": [], "nextCursor": None}
    assert len(chunks) > len(body) / 2  # arrived in pieces, not at once
    assert took >= 0.02 * len(body)


def test_trickle_stops_when_the_client_hangs_up(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"rules": [{"method": "GET", "fault": "trickle", "delaySeconds": 1}]})
    host, port = emulator.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            f"GET {LOG_SOURCES} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            f"{emulator.api_key}\r\n\r\n".encode()
        )
        assert raw.recv(4096).startswith(b"HTTP/1.1 200")

    # a whole answer would take about 50 s; the emulator stops at the hang-up and logs it
    # (a request of an earlier test, still being answered slowly, may be logged meanwhile)
    def trickled() -> list[str]:
        return [e["method"] for e in emulator.requests() if e["fault"] == "trickle"]

    deadline = time.monotonic() + 5
    while not trickled() and time.monotonic() < deadline:
        time.sleep(0.1)  # the server logs the hang-up when it notices it, on its own time
    assert trickled() == ["GET"]


def test_echo_answers_with_the_request_in_every_encoding(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    emulator.set_faults({"rules": [{"method": "POST", "fault": "echo"}]})
    secret = 'échoed-"value"\\'
    response = api.post(LOG_SOURCES, json={**CLOUDWATCH, "credentials": {"k": secret}})
    assert response.status_code == 400
    bearer = f"Bearer {emulator.api_key}"
    assert response.headers["X-Request-Id"] == bearer
    error = response.json()["error"]
    sent = f"{bearer}\n{response.request.content.decode()}"
    assert error["code"] == "VALIDATION_ERROR" and error["message"].endswith(sent)
    echoes = {d["field"]: d["issue"] for d in error["details"]}
    assert json.loads(echoes["echo.json"]) == sent
    assert unquote(echoes["echo.url"]) == unquote_plus(echoes["echo.url+"]) == sent
    for lead in range(3):
        assert base64.b64decode(echoes[f"echo.base64/{lead}"])[lead:].decode() == sent
        assert base64.urlsafe_b64decode(echoes[f"echo.base64url/{lead}"])[lead:].decode() == sent
    emulator.clear_faults()
    assert api.get(LOG_SOURCES).json()["data"] == []  # nothing executed


@pytest.mark.parametrize(
    "spec",
    [
        {"rules": [{"fault": "418"}]},
        {"rules": [{"method": "GET"}]},
        {"rules": [{"fault": "500", "sequence": ["500"]}]},
        {"rules": [{"fault": "500", "probability": 2}]},
        {"rules": [{"fault": "500", "colour": "red"}]},
        {"rules": [{"fault": "empty", "sequence": ["empty"]}]},
    ],
)
def test_invalid_specs_are_refused(emulator: EmulatorProcess, spec: dict[str, object]) -> None:
    with pytest.raises(EmulatorError, match="400"):
        emulator.set_faults(spec)
