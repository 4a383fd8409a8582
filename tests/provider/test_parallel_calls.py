"""The plugin at `sigsentry:parallelism`: more than the SDK's four calls at once, and safe so.

Each test drives the real `python -m pulumi.dynamic` plugin with many calls at once from a
thread pool of its own, as the engine does with `--parallel`. The first one is the guard of
`_workers`' mechanism: when a new Pulumi SDK serves calls in a way the provider can no longer
widen, it fails, naming the SDK version.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from typing import Any

from provider.cases import PluginFactory, emulator_config, inputs, urn
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import SigSentryClient
from sigsentry_pulumi._constants import SDK_PLUGIN_WORKERS
from tools.in_flight import answered_at, most_in_flight
from tools.plugin_driver import ProviderPlugin

LOG_SOURCES = "/v1/config/log-sources"
DELAY = 0.3
"""Seconds the `slow` fault holds each request: long enough that calls overlap on a busy box."""


def slow_requests(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"rules": [{"fault": "slow", "delaySeconds": DELAY}]})


def create_many(plugin: ProviderPlugin, count: int, prefix: str) -> list[tuple[str, str]]:
    """`count` creates at once (distinct names); (name, id) in the order of the names."""

    def create(index: int) -> tuple[str, str]:
        name = f"{prefix}-{index:02d}"
        props = inputs("datadog", name=name)
        checked = plugin.check(urn(name), {}, props)
        assert checked.failures == []
        source_id, _ = plugin.create(urn(name), checked.inputs)
        return name, source_id

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(create, range(count)))


def listed(sigsentry: SigSentryClient) -> dict[str, str]:
    return {source.id: source.name for source in sigsentry.iter_log_sources()}


def test_the_plugin_serves_more_calls_at_once_than_the_sdk_alone(
    emulator: EmulatorProcess, start_plugin: PluginFactory
) -> None:
    slow_requests(emulator)
    plugin = start_plugin(emulator_config(emulator, **{"sigsentry:parallelism": "16"}))
    emulator.clear_requests()
    create_many(plugin, 16, "wide")
    posts = [r for r in emulator.requests() if r["method"] == "POST"]
    most = most_in_flight(posts, delay=DELAY)
    assert "sigsentry:parallelism is ignored" not in plugin.output, (
        f"pulumi {version('pulumi')}: sigsentry_pulumi/_workers.py cannot find the worker pool "
        f"of this SDK's dynamic-provider plugin; the plugin said:\n{plugin.output[-2000:]}"
    )
    # 16 wanted; a busy 2-core machine may start a few of them late, never all but four.
    assert most >= 2 * SDK_PLUGIN_WORKERS, (
        f"pulumi {version('pulumi')}: at most {most} creates were in flight at once with "
        "sigsentry:parallelism=16: the widening of sigsentry_pulumi/_workers.py no longer "
        "works with this SDK's dynamic-provider plugin"
    )


def test_parallelism_4_keeps_the_sdk_s_own_limit(
    emulator: EmulatorProcess, start_plugin: PluginFactory
) -> None:
    slow_requests(emulator)
    plugin = start_plugin(emulator_config(emulator, **{"sigsentry:parallelism": "4"}))
    emulator.clear_requests()
    create_many(plugin, 8, "narrow")
    posts = [r for r in emulator.requests() if r["method"] == "POST"]
    assert most_in_flight(posts, delay=DELAY) <= SDK_PLUGIN_WORKERS


def test_a_bad_parallelism_fails_the_check_naming_the_setting(
    emulator: EmulatorProcess, start_plugin: PluginFactory
) -> None:
    plugin = start_plugin(emulator_config(emulator, **{"sigsentry:parallelism": "1000"}))
    failures = plugin.check(urn("a"), {}, inputs("datadog")).failures
    assert failures and failures[0][0] == ""
    assert "sigsentry:parallelism must be a whole number from 1 to 64" in failures[0][1]


def test_32_calls_at_once_share_the_process_state_without_corrupting_it(
    emulator: EmulatorProcess, start_plugin: PluginFactory, sigsentry: SigSentryClient
) -> None:
    # 32 concurrent calls through the shared client, the shared list walk and the accounts.
    plugin = start_plugin(emulator_config(emulator, **{"sigsentry:parallelism": "32"}))
    created = create_many(plugin, 32, "many")
    ids = [source_id for _, source_id in created]
    assert len(set(ids)) == 32, Counter(ids).most_common(3)
    assert listed(sigsentry) == {source_id: name for name, source_id in created}
    posts = [r for r in emulator.requests() if r["method"] == "POST" and r["path"] == LOG_SOURCES]
    assert len(posts) == 32 and not any(r["replayed"] for r in posts)

    def read(pair: tuple[str, str]) -> tuple[str, Any]:
        name, source_id = pair
        return name, plugin.read(source_id, urn(name), {**inputs("datadog", name=name)}).outputs

    with ThreadPoolExecutor(32) as pool:
        reads = list(pool.map(read, created))
    assert all(outputs["name"] == name for name, outputs in reads)
    # The reads shared one walk of the list (single flight), however many ran at once.
    walks = [r for r in emulator.requests() if r["method"] == "GET" and r["path"] == LOG_SOURCES]
    assert len(walks) <= 2

    def delete(pair: tuple[str, str]) -> None:
        name, source_id = pair
        plugin.delete(source_id, urn(name), inputs("datadog", name=name))

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(delete, created))
    assert listed(sigsentry) == {}


def test_32_calls_at_once_keep_to_the_key_s_rate_limit(
    emulator: EmulatorProcess, start_plugin: PluginFactory, sigsentry: SigSentryClient
) -> None:
    rate = 20.0
    plugin = start_plugin(emulator_config(emulator, **{"sigsentry:parallelism": "32"}))
    emulator.set_rate_limit(rate, burst=4)
    created = create_many(plugin, 32, "limited")
    emulator.set_rate_limit(0)
    assert len({source_id for _, source_id in created}) == 32
    assert sorted(listed(sigsentry).values()) == sorted(name for name, _ in created)
    logged = emulator.requests()
    posts = [r for r in logged if r["method"] == "POST" and r["status"] != 429]
    assert len(posts) == 32 and not any(r["replayed"] for r in posts)
    # A 429 pauses every thread of the key's client (`_retry.PauseGate`), so 32 callers
    # together, refusals included, send no faster than the key may: measured 13 to 14 a second
    # at 32 calls at once (6 at the SDK's 4) against 20 allowed.
    answered = sorted(answered_at(r) for r in logged)
    sent_per_second = len(logged) / (answered[-1] - answered[0])
    assert sent_per_second <= rate, (sent_per_second, Counter(r["status"] for r in logged))
