"""Hostile bodies get a 4xx in bounded time, never a 500, and never hold up other requests.

Each test here is named after what an attacker's probe did to the emulator before: a wrong JSON
type answered 500 (TypeError), a recursion bomb inside `serviceAccountJson` answered 500
(RecursionError), a lone surrogate answered 500 (UnicodeEncodeError in the store), a 38 MB POST
took 85 s and 4.5 GB, and 5 MB of duplicate sources built an 80 MB error body while holding the
store lock, stalling every other request for seconds.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.helpers import CLOUDWATCH, VALID_BODIES
from raw_api import LOG_SOURCES, auth
from sigsentry_emulator.backend import Backend, Caller
from sigsentry_emulator.crypto import CredentialCipher
from sigsentry_emulator.errors import MAX_BODY_BYTES, MAX_DETAILS, ValidationFailed
from sigsentry_emulator.store import Store
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import BadRequestError, SigSentryClient

# far above what the fixed code needs on a loaded machine, far below what the old code took
STALL_BOUND_SECONDS = 1.5
SOCKET_TIMEOUT_SECONDS = 10.0


def refused(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """The error of a refusal with `status`; the answer is small and in the error envelope."""
    assert response.status_code == status, response.text[:500]
    assert len(response.content) < 8_000
    body = response.json()
    assert body["success"] is False
    error: dict[str, Any] = body["error"]
    assert error["code"] == ("VALIDATION_ERROR" if status == 400 else "PAYLOAD_TOO_LARGE")
    return error


def fields(error: dict[str, Any]) -> list[str]:
    return [d["field"] for d in error.get("details", [])]


# every wrong JSON type for every field


JSON_VALUES: dict[str, Any] = {
    "null": None,
    "true": True,
    "zero": 0,
    "float": 1.5,
    "text": "text",
    "empty list": [],
    "empty map": {},
    "list of numbers": [1],
    "map of numbers": {"a": 1},
    "nested list": [[]],
}


def _wrong_for(right: type) -> list[str]:
    # bool is an int in Python, and a JSON number is never a boolean nor a string
    def fits(value: Any) -> bool:
        if right is bool:
            return isinstance(value, bool)
        return isinstance(value, right) and not isinstance(value, bool)

    return [name for name, value in JSON_VALUES.items() if not fits(value)]


CREATE_FIELDS = {"type": str, "name": str, "credentials": dict, "sources": list}
WRONG_ON_CREATE = [
    (field, value) for field, right in CREATE_FIELDS.items() for value in _wrong_for(right)
]
UPDATE_FIELDS = {"name": str, "credentials": dict, "sources": list, "isActive": bool}
WRONG_ON_UPDATE = [
    (field, value) for field, right in UPDATE_FIELDS.items() for value in _wrong_for(right)
]


@pytest.mark.parametrize(("field", "value"), WRONG_ON_CREATE)
def test_every_wrong_json_type_on_create_is_400_naming_the_field(
    api: httpx.Client, field: str, value: str
) -> None:
    error = refused(api.post(LOG_SOURCES, json={**CLOUDWATCH, field: JSON_VALUES[value]}))
    assert field in fields(error)


@pytest.mark.parametrize(("field", "value"), WRONG_ON_UPDATE)
def test_every_wrong_json_type_on_update_is_400_naming_the_field(
    api: httpx.Client, source_id: str, field: str, value: str
) -> None:
    response = api.put(f"{LOG_SOURCES}/{source_id}", json={field: JSON_VALUES[value]})
    assert field in fields(refused(response))


@pytest.mark.parametrize("value", [v for v in JSON_VALUES if v != "text"])
def test_a_credential_or_source_of_the_wrong_type_is_400_naming_it(
    api: httpx.Client, value: str
) -> None:
    wrong = JSON_VALUES[value]
    credentials = {**CLOUDWATCH["credentials"], "accessKeyId": wrong}
    error = refused(api.post(LOG_SOURCES, json={**CLOUDWATCH, "credentials": credentials}))
    assert "credentials.accessKeyId" in fields(error)
    error = refused(api.post(LOG_SOURCES, json={**CLOUDWATCH, "sources": ["/ok", wrong]}))
    assert "sources[1]" in fields(error)


def test_type_given_as_a_list_or_a_map_is_400_not_500(api: httpx.Client) -> None:
    for wrong in ([], {}, ["cloudwatch"], {"cloudwatch": True}):
        error = refused(api.post(LOG_SOURCES, json={**CLOUDWATCH, "type": wrong}))
        assert fields(error) == ["type"]


# recursion bombs and deep nesting


def test_a_service_account_json_recursion_bomb_is_400_naming_it(api: httpx.Client) -> None:
    body = {**VALID_BODIES["gcp_logging"], "credentials": {"serviceAccountJson": "[" * 100_000}}
    error = refused(api.post(LOG_SOURCES, json=body))
    assert fields(error) == ["credentials.serviceAccountJson"]


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_a_body_that_is_a_recursion_bomb_is_400(api: httpx.Client, opener: bytes) -> None:
    error = refused(api.post(LOG_SOURCES, content=opener * 100_000))
    assert fields(error) == ["body"]


DEEP: list[tuple[str, int, str]] = [
    ("sources", 3, "sources[0]"),
    ("sources", 500, "sources[0]"),
    ("credentials", 500, "credentials.accessKeyId"),
    ("extra", 500, "extra"),
    ("sources", 100_000, "body"),  # past what the parser takes: a recursion bomb
]


@pytest.mark.parametrize(("field", "levels", "named"), DEEP)
def test_deep_nesting_in_any_field_is_400_naming_it(
    api: httpx.Client, field: str, levels: int, named: str
) -> None:
    nested = "[" * levels + "]" * levels
    if field == "credentials":
        nested = f'{{"accessKeyId": {nested}, "secretAccessKey": "s"}}'
    members = {**CLOUDWATCH, field: "@"}
    raw = json.dumps(members).replace('"@"', nested)
    error = refused(api.post(LOG_SOURCES, content=raw.encode()))
    assert named in fields(error)


# text that is not Unicode


SURROGATE_BODIES: list[tuple[str, str, str]] = [
    ("name", '"name": "prod-\\ud800"', "name"),
    ("a source", '"sources": ["/ok", "\\udfff"]', "sources[1]"),
    ("a credential value", '"credentials": {"accessKeyId": "\\udc00x"}', "credentials.accessKeyId"),
    ("a credential key", '"credentials": {"\\ud800": "x"}', "credentials"),
    ("an unknown field's name", '"\\ud83d": 1', "body"),
]


@pytest.mark.parametrize(
    ("member", "field"),
    [c[1:] for c in SURROGATE_BODIES],
    ids=[c[0] for c in SURROGATE_BODIES],
)
def test_a_lone_surrogate_is_400_naming_the_field(
    api: httpx.Client, source_id: str, member: str, field: str
) -> None:
    create = refused(api.post(LOG_SOURCES, content=f'{{"type": "cloudwatch", {member}}}'.encode()))
    assert fields(create) == [field]
    update = refused(api.put(f"{LOG_SOURCES}/{source_id}", content=f"{{{member}}}".encode()))
    assert fields(update) == [field]
    assert [s["name"] for s in api.get(LOG_SOURCES).json()["data"]] == [CLOUDWATCH["name"]]


def test_a_surrogate_pair_is_ordinary_text(api: httpx.Client) -> None:
    body = json.dumps({**CLOUDWATCH, "name": "prod-\U0001f680"})  # ensure_ascii: "\ud83d\ude80"
    assert "\\ud83d\\ude80" in body
    assert api.post(LOG_SOURCES, content=body.encode()).status_code == 201
    assert api.get(LOG_SOURCES).json()["data"][0]["name"] == "prod-\U0001f680"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "\xff"}',  # not UTF-8 at all
        b'{"name": "\xed\xa0\x80"}',  # a surrogate encoded as if it were a character
        json.dumps(CLOUDWATCH).encode("utf-16"),  # JSON, but not in UTF-8
        b"\xef\xbb\xbf" + json.dumps(CLOUDWATCH).encode(),  # a byte-order mark first
        json.dumps(CLOUDWATCH).encode()[:-1] + b', "x": 1e400}',  # no float holds it
    ],
    ids=["invalid byte", "encoded surrogate", "utf-16", "byte-order mark", "number overflow"],
)
def test_a_body_that_is_not_utf8_json_is_400(api: httpx.Client, raw: bytes) -> None:
    assert fields(refused(api.post(LOG_SOURCES, content=raw))) == ["body"]


# size


def _raw_exchange(emulator: EmulatorProcess, head: str, body_part: bytes) -> bytes:
    """Send a request head and part of its body, then read what the server answers."""
    host, port = emulator.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=SOCKET_TIMEOUT_SECONDS) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n" + body_part)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_a_body_announced_over_the_limit_is_413_before_it_is_sent(
    emulator: EmulatorProcess,
) -> None:
    # the old server read all 38 MB, then parsed them: 85 s and 4.5 GB. Only 1 KB is sent here,
    # so an answer at all proves the body was neither waited for nor parsed.
    head = (
        f"POST {LOG_SOURCES} HTTP/1.1\r\nHost: emulator\r\n"
        f"Authorization: Bearer {emulator.api_key}\r\nContent-Type: application/json\r\n"
        "X-Request-Id: too-large-1\r\nContent-Length: 38000000"
    )
    answer = _raw_exchange(emulator, head, b"[" * 1024)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    error = json.loads(rest.partition(b"\r\n\r\n")[2])["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    assert str(MAX_BODY_BYTES) in error["message"]
    assert [(r["status"], r["requestId"]) for r in emulator.requests()] == [(413, "too-large-1")]


def test_a_38_mb_post_is_413_at_once_and_the_server_stays_small(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    body = b'{"type": "cloudwatch", "name": "' + b"x" * 38_000_000 + b'"}'
    started = time.monotonic()
    error = refused(api.post(LOG_SOURCES, content=body, timeout=60), 413)
    assert time.monotonic() - started < 30
    assert "larger than" in error["message"]
    assert api.get(LOG_SOURCES).json()["data"] == []
    # the server drops the upload as it arrives instead of holding it: its peak memory stays far
    # below the 38 MB body times the parsing overhead that took the old server to 4.5 GB
    assert _peak_rss_bytes(emulator) < 300 * 1024 * 1024


def _peak_rss_bytes(emulator: EmulatorProcess) -> int:
    status = Path(f"/proc/{emulator.pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


def test_a_chunked_body_over_the_limit_is_413(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        yield b'{"type": "cloudwatch", "sources": ['
        for _ in range(40):
            yield b'"a",' * 16_384

    error = refused(api.post(LOG_SOURCES, content=chunks()), 413)
    assert error["message"]


def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_not(api: httpx.Client) -> None:
    valid = json.dumps(CLOUDWATCH).encode()
    at_limit = valid + b" " * (MAX_BODY_BYTES - len(valid))
    assert api.post(LOG_SOURCES, content=at_limit).status_code == 201
    refused(api.post(LOG_SOURCES, content=at_limit + b" "), 413)
    assert len(api.get(LOG_SOURCES).json()["data"]) == 1


def test_the_limit_applies_to_updates_too(api: httpx.Client, source_id: str) -> None:
    body = json.dumps({"name": "x" * (MAX_BODY_BYTES + 1)}).encode()
    refused(api.put(f"{LOG_SOURCES}/{source_id}", content=body), 413)


# the size of an error, and the store lock


def test_five_mb_of_duplicate_sources_is_a_small_413(api: httpx.Client) -> None:
    # the old server answered 400 with one detail per duplicate: an 80 MB error body
    body = json.dumps({**CLOUDWATCH, "sources": ["a"] * 1_000_000}).encode()
    assert len(body) > 4_000_000
    refused(api.post(LOG_SOURCES, content=body), 413)


def test_a_megabyte_of_duplicate_sources_is_one_issue(api: httpx.Client) -> None:
    body = json.dumps({**CLOUDWATCH, "sources": ["a"] * 200_000}).encode()
    assert len(body) < MAX_BODY_BYTES
    error = refused(api.post(LOG_SOURCES, content=body))
    assert error["details"] == [
        {"field": "sources", "issue": "must have 1-100 entries, not 200000"}
    ]


def test_details_list_the_first_issues_and_the_message_gives_the_total(
    api: httpx.Client,
) -> None:
    duplicates = refused(api.post(LOG_SOURCES, json={**CLOUDWATCH, "sources": ["a"] * 100}))
    assert fields(duplicates) == [f"sources[{i}]" for i in range(1, MAX_DETAILS + 1)]
    assert duplicates["message"].endswith(f"(99 issues; details lists the first {MAX_DETAILS})")

    unknown = {f"field{i:05d}": 1 for i in range(50_000)}
    error = refused(api.post(LOG_SOURCES, json={**CLOUDWATCH, **unknown}))
    assert fields(error) == [f"field{i:05d}" for i in range(MAX_DETAILS)]
    assert f"(50000 issues; details lists the first {MAX_DETAILS})" in error["message"]


def test_a_long_unknown_field_name_is_cut_in_details(api: httpx.Client) -> None:
    error = refused(api.post(LOG_SOURCES, json={**CLOUDWATCH, "k" * 500_000: 1}))
    (field,) = fields(error)
    assert field.startswith("kkk") and field.endswith("...") and len(field) <= 100


def test_a_concurrent_get_is_not_held_up_by_large_bad_bodies(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    # the old server validated inside the store lock: a concurrent GET waited 4-11 s
    emulator.set_rate_limit(0)
    bad_bodies = [
        json.dumps({**CLOUDWATCH, "sources": ["a"] * 1_000_000}).encode(),  # 5 MB: 413
        json.dumps({**CLOUDWATCH, **{f"f{i}": 1 for i in range(70_000)}}).encode(),  # 400
        json.dumps({**CLOUDWATCH, "sources": [[0]] * 200_000}).encode(),  # 400
    ]
    assert all(len(body) < MAX_BODY_BYTES for body in bad_bodies[1:])
    statuses: list[int] = []
    done = threading.Event()

    def attack() -> None:
        with httpx.Client(base_url=emulator.url, headers=auth(emulator.api_key), timeout=60) as c:
            for _ in range(3):
                statuses.extend(c.post(LOG_SOURCES, content=b).status_code for b in bad_bodies)
        done.set()

    attacker = threading.Thread(target=attack, daemon=True)
    attacker.start()
    slowest = 0.0
    gets = 0
    while not done.wait(0.02) and gets < 500:
        started = time.monotonic()
        assert api.get(LOG_SOURCES).status_code == 200
        slowest = max(slowest, time.monotonic() - started)
        gets += 1
    attacker.join(timeout=60)

    assert statuses == [413, 400, 400] * 3
    assert gets >= 3
    assert slowest < STALL_BOUND_SECONDS


def test_a_bad_body_is_refused_while_another_request_holds_the_store(tmp_path: Path) -> None:
    # deterministic form of the stall above: with the store locked by another request, a bad
    # create or update body is still refused at once, because validation never waits for it
    store = Store(tmp_path / "lock.db")
    backend = Backend(store, CredentialCipher.generate())
    caller = Caller("key_1", "tnt_1", "prj_1", frozenset({"config:read", "config:write"}))
    bad_create = json.dumps({**CLOUDWATCH, "sources": ["a", "a"] * 50}).encode()
    bad_update = json.dumps({"sources": [1] * 150_000}).encode()
    outcomes: list[Exception] = []

    def refuse() -> None:
        for call in (
            lambda: backend.create_log_source(caller, bad_create, None),
            lambda: backend.update_log_source(caller, f"ls_{uuid.UUID(int=1)}", bad_update),
        ):
            try:
                call()
            except Exception as exc:  # collected for the assertion below
                outcomes.append(exc)

    with store.transaction():
        worker = threading.Thread(target=refuse, daemon=True)
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive(), "validation waited for the store lock"
    assert [type(o) for o in outcomes] == [ValidationFailed, ValidationFailed]
    store.close()


def test_an_admin_body_with_a_lone_surrogate_is_400_and_the_faults_stay_readable(
    anonymous: httpx.Client, emulator: EmulatorProcess
) -> None:
    # the admin API keeps what it is sent (fault rules) and echoes it later: a surrogate kept
    # there once made every later GET /_admin/faults a 500
    admin = {"X-Admin-Token": emulator.admin_token}
    rule = b'{"rules": [{"method": "\\ud800", "fault": "500"}]}'
    error = refused(anonymous.put("/_admin/faults", content=rule, headers=admin))
    assert fields(error) == ["body"]
    faults = anonymous.get("/_admin/faults", headers=admin)
    assert faults.status_code == 200
    assert faults.json()["data"]["rules"] == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"type": []}, "type"),
        (
            {"type": "gcp_logging", "credentials": {"serviceAccountJson": "[" * 100_000}},
            "credentials.serviceAccountJson",
        ),
    ],
    ids=["type is a list", "serviceAccountJson recursion bomb"],
)
def test_the_provider_client_sends_a_hostile_body_once_and_names_the_field(
    emulator: EmulatorProcess, overrides: dict[str, Any], field: str
) -> None:
    # a 500 was retried four times by the client; a 400 is final and says what to fix
    body = {**CLOUDWATCH, **overrides}
    client = SigSentryClient(emulator.api_key, base_url=emulator.url, sleep=lambda _: None)
    with pytest.raises(BadRequestError) as refusal:
        client.create_log_source(**body)
    assert refusal.value.status == 400
    assert [d["field"] for d in refusal.value.details] == [field]
    assert [(r["method"], r["status"]) for r in emulator.requests()] == [("POST", 400)]
