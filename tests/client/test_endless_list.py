"""A list that never ends: a `nextCursor` seen before, or more pages than any project could fill,
stops the walk with an error that names the cursor and the request id (httpx.MockTransport)."""

from __future__ import annotations

import httpx
import pytest

from client.fakes import API_KEY, ScriptedAPI, make_client, record
from sigsentry_pulumi import UnexpectedResponseError
from sigsentry_pulumi import _client as client_module
from sigsentry_pulumi._constants import LIST_PAGE_LIMIT, MAX_LIST_PAGES


def page(index: int, next_cursor: str | None, request_id: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={"success": True, "data": [record(index)], "nextCursor": next_cursor},
        headers={"X-Request-Id": request_id},
    )


def test_a_cursor_given_twice_in_a_row_stops_the_walk_naming_it_and_the_request_id() -> None:
    api = ScriptedAPI(page(0, "cur_A", "req_1"), *[page(1, "cur_A", "req_2")] * 5)
    with pytest.raises(UnexpectedResponseError) as caught:
        list(make_client(api).iter_log_sources())
    assert len(api.requests) == 2
    message = str(caught.value)
    assert "gave nextCursor 'cur_A' a second time [request id req_2]" in message
    assert "report the cursor and request id to SigSentry support" in message


def test_a_cursor_pointing_back_to_an_earlier_page_stops_the_walk() -> None:
    api = ScriptedAPI(
        page(0, "cur_A", "req_1"), page(1, "cur_B", "req_2"), page(2, "cur_A", "req_3")
    )
    with pytest.raises(UnexpectedResponseError, match=r"'cur_A' a second time \[request id req_3"):
        list(make_client(api).iter_log_sources())
    assert [r.url.params.get("cursor") for r in api.requests] == [None, "cur_A", "cur_B"]


def test_the_create_replay_lookup_stops_too() -> None:
    api = ScriptedAPI(page(0, "cur_A", "req_1"), *[page(1, "cur_A", "req_2")] * 5)
    with pytest.raises(UnexpectedResponseError, match="a second time"):
        make_client(api).find_log_source("ls_not-there")


def test_a_walk_of_new_cursors_stops_at_the_page_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_LIST_PAGES", 5)
    api = ScriptedAPI(*[page(i, f"cur_{i}", f"req_{i}") for i in range(10)])
    with pytest.raises(UnexpectedResponseError) as caught:
        list(make_client(api).iter_log_sources())
    assert len(api.requests) == 5
    assert "had not ended after 5 pages (last nextCursor 'cur_4') [request id req_4]" in str(
        caught.value
    )


def test_the_page_cap_is_far_beyond_any_project() -> None:
    # a million sources at the largest page: only a list that never ends meets the cap
    assert MAX_LIST_PAGES * LIST_PAGE_LIMIT >= 1_000_000


def test_a_list_that_ends_on_its_last_page_is_walked_whole() -> None:
    api = ScriptedAPI(page(0, "cur_A", "req_1"), page(1, "cur_B", "req_2"), page(2, None, "req_3"))
    assert len(list(make_client(api).iter_log_sources())) == 3


def test_a_request_id_echoing_the_key_is_scrubbed_from_the_endless_list_error() -> None:
    api = ScriptedAPI(page(0, "cur_A", "req_1"), page(1, "cur_A", f"Bearer {API_KEY}"))
    with pytest.raises(UnexpectedResponseError) as caught:
        list(make_client(api).iter_log_sources())
    assert API_KEY not in str(caught.value)
    assert "[request id Bearer [redacted]]" in str(caught.value)
