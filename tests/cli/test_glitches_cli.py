"""A glitching list page and a proxy that strips `Idempotent-Replayed`, through the real CLI.

Each test runs Automation API stacks (the real engine and the real `python -m pulumi.dynamic`
plugin) against the emulator with the `empty` or `noReplayHeader` fault installed
(sigsentry_emulator/faults.py), and checks what a user would notice: what the state holds
after `refresh`, what the next `up` does, and what SigSentry holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cli.stacks import changes, log_source_states, writes
from raw_api import LOG_SOURCES, list_sources
from tools.fault_plans import many_sources_program
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

ONE_EMPTY_PAGE = {"rules": [{"fault": "empty", "times": 1}]}


def state_ids(pulumi_env: PulumiEnvironment, stack: Any) -> set[str]:
    return {r["id"] for r in log_source_states(pulumi_env, stack)}


def list_walks(emulator: Any, since: int) -> list[str | None]:
    """The fault of each list request after the first `since` requests (None: answered)."""
    return [
        r["fault"]
        for r in emulator.requests()[since:]
        if r["method"] == "GET" and r["path"] == LOG_SOURCES
    ]


def test_one_empty_list_page_during_refresh_drops_no_source(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack = make_stack(many_sources_program(3))
    assert changes(stack.up(show_secrets=False)) == {"create": 4}
    ids = {s["id"] for s in list_sources(api)}
    assert state_ids(pulumi_env, stack) == ids

    emulator.set_faults(ONE_EMPTY_PAGE)
    mark = len(emulator.requests())
    stack.refresh()
    assert state_ids(pulumi_env, stack) == ids  # nothing dropped
    # The sources missing from the empty page were looked for in one fresh walk.
    assert list_walks(emulator, mark) == ["empty", None]
    assert writes(emulator, mark) == []

    emulator.clear_faults()
    mark = len(emulator.requests())
    up = stack.up(show_secrets=False)
    assert changes(up) == {"same": 4}  # nothing to create again
    assert writes(emulator, mark) == []
    assert {s["id"] for s in list_sources(api)} == ids


def test_refresh_still_drops_a_source_deleted_outside_pulumi_even_beside_an_empty_page(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack = make_stack(many_sources_program(3))
    stack.up(show_secrets=False)
    first, *kept = [s["id"] for s in list_sources(api)]
    api.delete(f"{LOG_SOURCES}/{first}").raise_for_status()

    mark = len(emulator.requests())
    stack.refresh()
    assert state_ids(pulumi_env, stack) == set(kept)
    assert list_walks(emulator, mark) == [None, None]  # the first walk, one confirming walk

    # The same with a glitching page as well: the deleted one goes, the others stay.
    api.delete(f"{LOG_SOURCES}/{kept[0]}").raise_for_status()
    emulator.set_faults(ONE_EMPTY_PAGE)
    mark = len(emulator.requests())
    stack.refresh()
    assert state_ids(pulumi_env, stack) == {kept[1]}
    assert list_walks(emulator, mark) == ["empty", None]

    emulator.clear_faults()
    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": 2, "same": 2}  # made again, as the program declares
    live = {s["id"] for s in list_sources(api)}
    assert len(live) == 3 and kept[1] in live and not {first, kept[0]} & live
    assert state_ids(pulumi_env, stack) == live


def test_up_destroy_up_behind_a_proxy_that_strips_idempotent_replayed(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    emulator.set_faults({"rules": [{"method": "POST", "fault": "noReplayHeader"}]})
    stack = make_stack(many_sources_program(1))
    assert changes(stack.up(show_secrets=False)) == {"create": 2}
    [destroyed] = list_sources(api)
    stack.destroy()
    assert list_sources(api) == []

    again = stack.up(show_secrets=False)  # the same inputs: the create replays the deleted one
    assert changes(again) == {"create": 2}
    [live] = list_sources(api)
    assert live["id"] != destroyed["id"]
    assert state_ids(pulumi_env, stack) == {live["id"]}
    posts = [r for r in emulator.requests() if r["method"] == "POST" and r["path"] == LOG_SOURCES]
    # the replay happened, and the CLI's plugin never saw the header that says so
    assert [(r["replayed"], r["fault"]) for r in posts] == [
        (False, "noReplayHeader"),
        (True, "noReplayHeader"),
        (False, "noReplayHeader"),
    ]


def test_a_get_and_an_adoption_meeting_an_empty_page_still_find_their_sources(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    made = []
    for name in ("read-only", "to-adopt"):
        response = api.post(
            LOG_SOURCES,
            json={
                "type": "datadog",
                "name": name,
                "credentials": {"apiKey": "by-hand", "appKey": "by-hand"},
                "sources": ["service:old"],
            },
        )
        response.raise_for_status()
        made.append(response.json()["data"]["id"])
    read_id, adopt_id = made

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        config = pulumi.Config()
        existing = LogSource.get("existing", read_id)
        adopted = LogSource(
            "adopted",
            type="datadog",
            name="adopted",
            credentials={
                "apiKey": config.require_secret("secretA"),
                "appKey": config.require_secret("secretB"),
            },
            sources=["service:new"],
            adopt_id=adopt_id,
        )
        pulumi.export("read", existing.name)
        pulumi.export("adopted", adopted.id)

    stack = make_stack(program)
    emulator.set_faults(ONE_EMPTY_PAGE)
    mark = len(emulator.requests())
    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": 2}  # the stack and the adopted source; a read is no change
    assert {k: v.value for k, v in up.outputs.items()} == {"read": "read-only", "adopted": adopt_id}
    assert list_walks(emulator, mark) == ["empty", None]
    assert writes(emulator, mark) == [("PUT", f"{LOG_SOURCES}/{adopt_id}")]
    assert state_ids(pulumi_env, stack) == {read_id, adopt_id}
    assert {s["name"] for s in list_sources(api)} == {"read-only", "adopted"}
