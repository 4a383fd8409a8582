"""Refresh cost: reading N sources in one plugin process walks the list about ceil(N/500) times,
and once more when some are missing (a miss is confirmed by one fresh walk, shared by all)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from provider.cases import CREDENTIALS, PROVIDER, urn
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import SigSentryClient
from tools.plugin_driver import ProviderPlugin

COUNT = 300


def list_requests(emulator: EmulatorProcess) -> list[dict[str, object]]:
    return [
        r
        for r in emulator.requests()
        if r["method"] == "GET" and r["path"] == "/v1/config/log-sources"
    ]


@pytest.mark.slow
def test_refreshing_300_sources_costs_one_list_walk(
    plugin: ProviderPlugin, emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    emulator.set_quota(COUNT + 10)
    emulator.set_rate_limit(0)
    states = bulk_states(sigsentry, COUNT, "cloudwatch")
    emulator.clear_requests()

    def refresh(id_: str) -> str:
        read = plugin.read(id_, urn(id_), states[id_], states[id_])
        assert read.outputs["name"] == states[id_]["name"]
        return read.id

    # the engine reads up to four resources at once; send more than that to contend
    with ThreadPoolExecutor(max_workers=8) as pool:
        read_ids = list(pool.map(refresh, states))
    assert read_ids == list(states)
    walks = list_requests(emulator)
    assert len(walks) == 1  # ceil(300 / 500)
    assert walks[0]["query"] == "limit=500"

    # a write in the process invalidates the walk; the next reads share one new walk, and the
    # deleted source's miss is confirmed by one more
    first = next(iter(states))
    plugin.delete(first, urn(first), states[first])
    emulator.clear_requests()
    with ThreadPoolExecutor(max_workers=8) as pool:
        after = list(pool.map(lambda i: plugin.read(i, urn(i), states[i], states[i]).id, states))
    assert after[0] == "" and all(after[1:])
    assert len(list_requests(emulator)) == 2


def bulk_states(
    sigsentry: SigSentryClient, count: int, kind: str = "datadog"
) -> dict[str, dict[str, object]]:
    """`count` sources made through the API, by id, each with the state a stack records."""
    states: dict[str, dict[str, object]] = {}
    for index in range(count):
        sources = [f"/aws/lambda/fn-{index}" if kind == "cloudwatch" else f"service:{index}"]
        record = sigsentry.create_log_source(
            type=kind, name=f"bulk-{index}", credentials=CREDENTIALS[kind], sources=sources
        )
        states[record.id] = {
            "__provider": PROVIDER,
            "type": kind,
            "name": f"bulk-{index}",
            "credentials": CREDENTIALS[kind],
            "sources": sources,
            "isActive": True,
            "verify": False,
            "projectId": record.project_id,
            "tenantId": record.tenant_id,
            "createdAt": record.created_at,
        }
    return states


@pytest.mark.parametrize("glitch", [False, True], ids=["clean", "one-empty-page"])
def test_a_refresh_dropping_k_sources_costs_two_walks_not_k(
    plugin: ProviderPlugin, emulator: EmulatorProcess, sigsentry: SigSentryClient, glitch: bool
) -> None:
    emulator.set_rate_limit(0)
    states = bulk_states(sigsentry, 40)
    deleted = list(states)[::8]  # 5, spread over the refresh
    for id_ in deleted:
        sigsentry.delete_log_source(id_)
    emulator.clear_requests()
    if glitch:
        emulator.set_faults({"rules": [{"fault": "empty", "times": 1}]})

    def refresh(id_: str) -> str:
        return plugin.read(id_, urn(id_), states[id_], states[id_]).id

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = dict(zip(states, pool.map(refresh, states), strict=True))
    assert {id_ for id_, read in found.items() if not read} == set(deleted)
    assert all(read == id_ for id_, read in found.items() if id_ not in deleted)
    assert len(list_requests(emulator)) == 2


@pytest.mark.slow
def test_a_walk_crosses_pages_when_a_project_has_more_than_500(
    plugin: ProviderPlugin, emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    emulator.set_quota(600)
    emulator.set_rate_limit(0)
    ids = [
        sigsentry.create_log_source(
            type="datadog", name=f"n{i}", credentials=CREDENTIALS["datadog"], sources=["s"]
        ).id
        for i in range(501)
    ]
    emulator.clear_requests()
    last = {"__provider": PROVIDER, "type": "datadog", "credentials": CREDENTIALS["datadog"]}
    assert plugin.read(ids[-1], urn("last"), last, last).id == ids[-1]
    assert plugin.read(ids[0], urn("first"), last, last).id == ids[0]
    assert len(list_requests(emulator)) == 2  # ceil(501 / 500), shared by both reads
