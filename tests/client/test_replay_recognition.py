"""Whether a create's answer is a replay, surely new, or neither; and the delete that holds
until its source's second of creation has passed, which makes "surely new" sure
(httpx.MockTransport and a fake clock: nothing waits)."""

from __future__ import annotations

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
from sigsentry_pulumi import NotFoundError, RouteNotFoundError, SigSentryClient
from sigsentry_pulumi._client import DELETE_HOLD_LIMIT_SECONDS

CREATED = "2026-04-25T14:30:12Z"


def http_date(second: int) -> str:
    """The `Date` header for 14:30:<second> on the day `CREATED` was stamped."""
    return f"Sat, 25 Apr 2026 14:30:{second:02d} GMT"


@pytest.mark.parametrize(
    ("headers", "replayed", "new"),
    [
        ({"Date": http_date(12)}, False, True),  # made in the second it was answered
        ({"Date": http_date(11)}, False, True),  # `Date` a second behind `createdAt`'s clock
        ({"Date": http_date(13)}, False, False),  # a second later: a replay cannot be ruled out
        ({"Date": http_date(15)}, True, False),  # well before its answer: a replay
        ({"Date": http_date(12), "Idempotent-Replayed": "true"}, True, False),
        ({}, False, False),  # no `Date`: nothing tells
        ({"Date": "yesterday"}, False, False),
    ],
)
def test_a_created_record_is_new_only_without_the_header_and_in_the_second_of_its_answer(
    headers: dict[str, str], replayed: bool, new: bool
) -> None:
    api = ScriptedAPI(envelope(record(createdAt=CREATED), 201, **headers))
    created = make_client(api).create_log_source(
        type="cloudwatch", name="n", credentials={"k": "v"}, sources=["s"], identity="p/s/n"
    )
    assert (created.replayed, created.new) == (replayed, new)


@pytest.mark.parametrize(
    ("answered", "held"),
    [
        (12, 1.0),  # the second of the create: the clock may stand anywhere in it
        (13, None),  # a second later: nothing to wait for
        (11, 2.0),  # `Date`'s clock a second behind `createdAt`'s
        (5, DELETE_HOLD_LIMIT_SECONDS),  # clocks far apart: bounded
    ],
)
def test_a_delete_within_a_second_of_its_create_holds_until_that_second_has_passed(
    answered: int, held: float | None
) -> None:
    api = ScriptedAPI(envelope({"deleted": True}, Date=http_date(answered)))
    clock = FakeClock()
    make_client(api, clock).delete_log_source("ls_1", created_at=CREATED)
    assert clock.sleeps == ([] if held is None else [held])


def test_a_delete_finding_its_young_source_gone_holds_too_then_says_so() -> None:
    # the source may have gone with an earlier attempt of this delete whose answer was lost
    api = ScriptedAPI(error(404, "NOT_FOUND", Date=http_date(12)))
    clock = FakeClock()
    with pytest.raises(NotFoundError):
        make_client(api, clock).delete_log_source("ls_1", created_at=CREATED)
    assert clock.sleeps == [1.0]


def test_a_delete_holds_at_most_its_limit_without_a_date_and_not_at_all_without_created_at() -> (
    None
):
    clock = FakeClock()
    client = make_client(
        ScriptedAPI(envelope({"deleted": True}), envelope({"deleted": True})), clock
    )
    client.delete_log_source("ls_1", created_at=CREATED)
    client.delete_log_source("ls_2")  # a script deleting by id alone
    client.delete_log_source("ls_3", created_at="not a time")  # a hand-edited state
    assert clock.sleeps == [DELETE_HOLD_LIMIT_SECONDS]


def test_a_delete_at_a_wrong_url_fails_at_once_without_holding() -> None:
    api = ScriptedAPI(httpx.Response(404, text="no such page", headers={"Date": http_date(12)}))
    clock = FakeClock()
    client = SigSentryClient(
        API_KEY, base_url=BASE_URL + "/v1", transport=httpx.MockTransport(api), sleep=clock.sleep
    )
    with pytest.raises(RouteNotFoundError):
        client.delete_log_source("ls_1", created_at=CREATED)
    assert clock.sleeps == []
