"""Property tests of the emulator's request validation, in-process and deterministic.

Whatever JSON a client sends (any type in any field, lone surrogates, nesting, unknown fields),
the backend either accepts it or answers an `ApiError` whose envelope is small, valid UTF-8 JSON
naming fields; nothing else escapes, so the HTTP layer never has a 500 to give. Every run draws
the same examples (`derandomize`), so a failure is reproducible, never a one-off; the larger runs
are marked slow.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.helpers import CLOUDWATCH
from sigsentry_emulator.backend import Backend, Caller
from sigsentry_emulator.crypto import CredentialCipher
from sigsentry_emulator.errors import MAX_DETAILS, ApiError, ValidationFailed
from sigsentry_emulator.models import (
    CREDENTIAL_KEYS,
    LOG_SOURCE_TYPES,
    decode_json,
)
from sigsentry_emulator.store import Store

FAST = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
LARGE = settings(FAST, max_examples=1_000)

CALLER = Caller("key_props", "tnt_props", "prj_props", frozenset({"config:read", "config:write"}))
CREDENTIAL_NAMES = sorted({k for keys in CREDENTIAL_KEYS.values() for part in keys for k in part})

lone_surrogates = st.sampled_from(["\ud800", "\udfff", "a\udc00b", "\ud83d"])
texts = st.text(max_size=12) | lone_surrogates
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=16,
)
credentials = st.dictionaries(
    st.sampled_from(CREDENTIAL_NAMES) | texts,
    st.sampled_from(["https://logs.example.com", "secret-value", ""]) | json_values,
    max_size=5,
)
fields_of_a_body = {
    "type": st.sampled_from(LOG_SOURCE_TYPES) | json_values,
    "name": texts | st.just(" " * 3) | st.text(min_size=250, max_size=260) | json_values,
    "credentials": credentials | json_values,
    "sources": st.lists(texts | json_values, max_size=6) | json_values,
    "isActive": st.booleans() | json_values,
}
create_bodies = st.fixed_dictionaries(
    {},
    optional={**fields_of_a_body, "extra": json_values},
)
update_bodies = st.fixed_dictionaries({}, optional=fields_of_a_body)
# a valid body with one field replaced: most draws get past the other rules
one_field_off = st.builds(
    lambda field, value: {**CLOUDWATCH, field: value},
    st.sampled_from(sorted(fields_of_a_body)),
    json_values,
)


_BACKEND = Backend(Store(":memory:"), CredentialCipher.generate(), quota=100_000)


def new_backend() -> Backend:
    """The module's in-memory backend, emptied (building one per example is most of the cost)."""
    _BACKEND.reset()
    return _BACKEND


def assert_a_proper_refusal(error: ApiError) -> None:
    envelope = error.envelope()
    encoded = json.dumps(envelope, ensure_ascii=False).encode("utf-8")  # no lone surrogate
    assert len(encoded) < 10_000
    assert 400 <= error.status < 500
    body = envelope["error"]
    assert isinstance(body, dict)
    details = body.get("details", [])
    assert len(details) <= MAX_DETAILS
    assert all(d["field"] and d["issue"] for d in details)


def as_request(body: object) -> bytes:
    # ensure_ascii: a lone surrogate travels as a \ud800 escape, as a hostile client sends it
    return json.dumps(body).encode()


def create_property(body: Any) -> None:
    backend = new_backend()
    try:
        result = backend.create_log_source(CALLER, as_request(body), None)
    except ApiError as error:
        assert_a_proper_refusal(error)
        return
    assert result.status == 201
    listed, _ = backend.list_log_sources(CALLER, None, None)
    assert listed == [result.record]
    json.dumps(listed, ensure_ascii=False).encode("utf-8")


def update_property(body: Any) -> None:
    backend = new_backend()
    source_id = str(backend.create_log_source(CALLER, as_request(CLOUDWATCH), None).record["id"])
    try:
        backend.update_log_source(CALLER, source_id, as_request(body))
    except ApiError as error:
        assert_a_proper_refusal(error)
        return
    listed, _ = backend.list_log_sources(CALLER, None, None)
    json.dumps(listed, ensure_ascii=False).encode("utf-8")


# each property twice: in every run, and at length under the slow marker
test_any_create_body_is_accepted_or_refused_with_a_4xx = FAST(given(create_bodies)(create_property))
test_any_create_body_at_length = pytest.mark.slow(LARGE(given(create_bodies)(create_property)))
test_a_body_with_one_field_off_is_refused_with_a_4xx = FAST(given(one_field_off)(create_property))
test_a_body_with_one_field_off_at_length = pytest.mark.slow(
    LARGE(given(one_field_off)(create_property))
)
test_any_update_body_is_accepted_or_refused_with_a_4xx = FAST(given(update_bodies)(update_property))
test_any_update_body_at_length = pytest.mark.slow(LARGE(given(update_bodies)(update_property)))


@FAST
@given(st.binary(max_size=200) | st.text(max_size=60).map(str.encode))
def test_any_bytes_are_json_or_a_400_naming_the_body(raw: bytes) -> None:
    try:
        decode_json(raw)
    except ValidationFailed as error:
        assert_a_proper_refusal(error)
        assert [d.field for d in error.details] == ["body"]


@FAST
@given(
    st.integers(min_value=1, max_value=3_000),
    st.sampled_from(["[", '{"a":']),
    st.sampled_from(["sources", "credentials", "name", "extra"]),
)
def test_any_nesting_in_any_field_is_refused_with_a_4xx(
    levels: int, opening: str, field: str
) -> None:
    closing = "]" if opening == "[" else "}"
    nested = opening * levels + "1" + closing * levels
    raw = json.dumps({**CLOUDWATCH, field: "@"}).replace('"@"', nested).encode()
    with pytest.raises(ValidationFailed) as refusal:
        new_backend().create_log_source(CALLER, raw, None)
    assert_a_proper_refusal(refusal.value)


def test_an_update_of_an_unknown_source_is_still_validated_first() -> None:
    # the body is judged before existence (the rule order), without touching the store
    backend = new_backend()
    with pytest.raises(ValidationFailed):
        backend.update_log_source(CALLER, f"ls_{uuid.UUID(int=7)}", as_request({"isActive": 1}))
