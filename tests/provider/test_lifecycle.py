"""Every provider operation through the real plugin over gRPC, against the emulator, per type."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from provider.cases import (
    CREDENTIALS,
    PROVIDER,
    ROTATED,
    SOURCES,
    TYPES,
    PluginFactory,
    emulator_config,
    inputs,
    secret_values,
    urn,
)
from samples import unknown
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import SigSentryClient
from tools.plugin_driver import ProviderCallError, ProviderPlugin


def create(plugin: ProviderPlugin, name: str, news: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Check then Create, as `pulumi up` does for a new resource."""
    checked = plugin.check(urn(name), {}, news)
    assert checked.failures == []
    return plugin.create(urn(name), checked.inputs)


def calls(emulator: EmulatorProcess) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in emulator.requests()]


def assert_no_secret_in(text: str, emulator: EmulatorProcess) -> None:
    for secret in [*secret_values(), emulator.api_key]:
        assert secret not in text


@pytest.mark.parametrize("source_type", TYPES)
def test_full_lifecycle_per_type(
    source_type: str, plugin: ProviderPlugin, emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    news = inputs(source_type)
    id_, outputs = create(plugin, "src", news)

    # create: outputs echo every input (credentials too) plus what SigSentry computed
    assert outputs["credentials"] == CREDENTIALS[source_type]
    assert outputs["sources"] == SOURCES[source_type]
    assert (outputs["type"], outputs["name"]) == (source_type, f"test-{source_type}")
    assert (outputs["isActive"], outputs["verify"]) == (True, False)
    assert outputs["tenantId"] == emulator.tenant_id
    assert outputs["projectId"] == emulator.project_id
    assert outputs["createdAt"]
    live = sigsentry.find_log_source(id_)
    assert live is not None and live.name == f"test-{source_type}"

    # a second `up` with the same program: no change
    same = plugin.diff(id_, urn("src"), outputs, plugin.check(urn("src"), news, news).inputs)
    assert same.changes is False and same.replaces == ()

    # rename, new sources, rotated credentials: an in-place update
    changed = inputs(
        source_type, name="renamed", sources=["extra-source"], credentials=ROTATED[source_type]
    )
    diff = plugin.diff(id_, urn("src"), outputs, changed)
    assert diff.changes is True and diff.replaces == ()
    emulator.clear_requests()
    updated = plugin.update(id_, urn("src"), outputs, changed)
    assert calls(emulator) == [f"PUT /v1/config/log-sources/{id_}"]
    assert updated["credentials"] == ROTATED[source_type]
    assert updated["tenantId"] == outputs["tenantId"]
    assert updated["createdAt"] == outputs["createdAt"]
    live = sigsentry.find_log_source(id_)
    assert live is not None and (live.name, live.sources) == ("renamed", ["extra-source"])

    # refresh: the live record, with credentials carried over from state
    read = plugin.read(id_, urn("src"), updated, changed)
    assert read.id == id_
    assert read.outputs["name"] == "renamed"
    assert read.outputs["credentials"] == ROTATED[source_type]
    assert read.inputs is not None and read.inputs["sources"] == ["extra-source"]

    # type change: replacement
    other = "datadog" if source_type != "datadog" else "splunk"
    diff = plugin.diff(id_, urn("src"), updated, inputs(other))
    assert diff.changes is True and "type" in diff.replaces

    # destroy
    plugin.delete(id_, urn("src"), updated)
    assert sigsentry.find_log_source(id_) is None
    assert_no_secret_in(plugin.output, emulator)


@pytest.mark.parametrize("source_type", TYPES)
def test_verify_runs_the_test_call_after_create(
    source_type: str, plugin: ProviderPlugin, emulator: EmulatorProcess
) -> None:
    id_, outputs = create(plugin, "v", inputs(source_type, verify=True))
    assert outputs["verify"] is True
    assert calls(emulator) == [
        "POST /v1/config/log-sources",
        f"POST /v1/config/log-sources/{id_}/test",
    ]


@pytest.mark.parametrize("source_type", TYPES)
def test_a_failed_verification_rolls_the_create_back(
    source_type: str, plugin: ProviderPlugin, emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    credentials = dict(CREDENTIALS[source_type])
    if "host" in credentials:
        credentials["host"] = "https://logs.invalid"  # the emulator cannot resolve it
        expected = "does not resolve"
        test_calls = 1
    elif source_type != "gcp_logging":
        credentials[sorted(credentials)[0]] = "invalid"  # the emulator rejects this value
        expected = "authentication failed"
        test_calls = 1
    else:
        # a service account cannot be made to fail the simulated test; fail the call itself
        emulator.set_faults(
            {"rules": [{"method": "POST", "path": "/v1/config/log-sources/*/test", "fault": "500"}]}
        )
        expected = "500 INTERNAL_ERROR"
        test_calls = 3  # the first attempt and sigsentry:maxRetries=2 retries
    news = inputs(source_type, credentials=credentials, verify=True)
    checked = plugin.check(urn("bad"), {}, news)
    assert checked.failures == []
    with pytest.raises(ProviderCallError) as caught:
        plugin.create(urn("bad"), checked.inputs)
    assert expected in caught.value.message
    methods = [r["method"] for r in emulator.requests()]
    assert methods == ["POST"] + ["POST"] * test_calls + ["DELETE"]  # create, test, roll back
    emulator.clear_faults()
    assert list(sigsentry.iter_log_sources()) == []
    assert_no_secret_in(caught.value.details + plugin.output, emulator)


def test_a_rejected_verification_says_what_to_do(
    plugin: ProviderPlugin, emulator: EmulatorProcess
) -> None:
    credentials = {**CREDENTIALS["datadog"], "appKey": "invalid"}
    checked = plugin.check(urn("bad"), {}, inputs("datadog", credentials=credentials, verify=True))
    with pytest.raises(ProviderCallError) as caught:
        plugin.create(urn("bad"), checked.inputs)
    assert "could not verify" in caught.value.message
    assert "verify=False" in caught.value.message


def test_inactive_source_is_created_then_paused(
    plugin: ProviderPlugin, emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    id_, outputs = create(plugin, "paused", inputs("splunk", isActive=False))
    assert outputs["isActive"] is False
    assert calls(emulator) == ["POST /v1/config/log-sources", f"PUT /v1/config/log-sources/{id_}"]
    live = sigsentry.find_log_source(id_)
    assert live is not None and live.is_active is False


def test_a_failed_pause_rolls_the_create_back(
    plugin: ProviderPlugin, emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    emulator.set_faults({"rules": [{"method": "PUT", "path": "*", "fault": "500"}]})
    checked = plugin.check(urn("paused"), {}, inputs("loki", isActive=False))
    with pytest.raises(ProviderCallError) as caught:
        plugin.create(urn("paused"), checked.inputs)
    assert "500 INTERNAL_ERROR" in caught.value.message
    methods = [r["method"] for r in emulator.requests()]
    assert methods == ["POST", "PUT", "PUT", "PUT", "DELETE"]  # maxRetries 2, then roll back
    emulator.clear_faults()
    assert list(sigsentry.iter_log_sources()) == []


def test_a_dropped_create_is_retried_with_the_same_key_and_makes_one_source(
    plugin: ProviderPlugin, emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    emulator.set_faults(
        {"rules": [{"method": "POST", "path": "/v1/config/log-sources", "sequence": ["drop"]}]}
    )
    id_, _ = create(plugin, "once", inputs("datadog"))
    log = emulator.requests()
    assert [(r["method"], r["replayed"]) for r in log] == [("POST", False), ("POST", True)]
    assert [r.id for r in sigsentry.iter_log_sources()] == [id_]


def test_rate_limited_create_waits_and_succeeds(
    plugin: ProviderPlugin, emulator: EmulatorProcess
) -> None:
    emulator.set_faults(
        {"rules": [{"method": "POST", "fault": "429", "retryAfter": 1, "times": 1}]}
    )
    create(plugin, "slow", inputs("cloudwatch"))
    assert [r["status"] for r in emulator.requests()] == [429, 201]


def test_update_sends_nothing_when_only_verify_is_turned_off(
    plugin: ProviderPlugin, emulator: EmulatorProcess
) -> None:
    id_, outputs = create(plugin, "quiet", inputs("datadog", verify=True))
    news = inputs("datadog", verify=False)
    diff = plugin.diff(id_, urn("quiet"), outputs, news)
    assert diff.changes is True and diff.replaces == ()
    emulator.clear_requests()
    updated = plugin.update(id_, urn("quiet"), outputs, news)
    assert updated["verify"] is False
    assert emulator.requests() == []


def test_turning_verify_on_sends_the_programs_credentials_then_tests_them(
    plugin: ProviderPlugin, emulator: EmulatorProcess
) -> None:
    # Credentials are write-only: only sending them makes the tested ones the program's.
    id_, outputs = create(plugin, "check", inputs("elastic"))
    emulator.clear_requests()
    plugin.update(id_, urn("check"), outputs, inputs("elastic", verify=True))
    assert calls(emulator) == [
        f"PUT /v1/config/log-sources/{id_}",
        f"POST /v1/config/log-sources/{id_}/test",
    ]


def test_a_failed_verification_after_an_update_puts_the_old_values_back(
    plugin: ProviderPlugin, emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    id_, outputs = create(plugin, "undo", inputs("loki"))
    news = inputs("loki", name="renamed", credentials={"host": "https://logs.invalid"}, verify=True)
    emulator.clear_requests()
    with pytest.raises(ProviderCallError) as caught:
        plugin.update(id_, urn("undo"), outputs, news)
    assert "Its previous name, credentials were put back, as the stack records them" in (
        caught.value.message
    )
    path = f"/v1/config/log-sources/{id_}"
    assert calls(emulator) == [f"PUT {path}", f"POST {path}/test", f"PUT {path}"]
    live = sigsentry.find_log_source(id_)
    assert live is not None and live.name == outputs["name"]
    assert sigsentry.test_log_source(id_).ok  # the old credentials again
    assert_no_secret_in(caught.value.message, emulator)


def test_a_failed_restore_names_the_source_and_what_sigsentry_holds(
    start_plugin: PluginFactory, emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    plugin = start_plugin(emulator_config(emulator, **{"sigsentry:maxRetries": "0"}))
    id_, outputs = create(plugin, "stuck", inputs("loki"))
    emulator.set_faults({"rules": [{"method": "PUT", "sequence": ["ok", "500"]}]})
    news = inputs("loki", credentials={"host": "https://logs.invalid"}, verify=True)
    with pytest.raises(ProviderCallError) as caught:
        plugin.update(id_, urn("stuck"), outputs, news)
    message = caught.value.message
    assert f"could not verify log source {id_} after updating it" in message
    assert "SigSentry holds the new, unverified values" in message
    assert "run `pulumi up` with verify=True" in message
    assert not sigsentry.test_log_source(id_).ok
    assert_no_secret_in(message, emulator)


def test_pausing_sends_only_is_active(plugin: ProviderPlugin, emulator: EmulatorProcess) -> None:
    id_, outputs = create(plugin, "p", inputs("loki"))
    emulator.clear_requests()
    updated = plugin.update(id_, urn("p"), outputs, inputs("loki", isActive=False))
    assert calls(emulator) == [f"PUT /v1/config/log-sources/{id_}"]
    assert updated["isActive"] is False


def test_update_of_a_source_deleted_outside_pulumi_says_to_refresh(
    plugin: ProviderPlugin, sigsentry: SigSentryClient
) -> None:
    id_, outputs = create(plugin, "gone", inputs("cloudwatch"))
    sigsentry.delete_log_source(id_)
    with pytest.raises(ProviderCallError) as caught:
        plugin.update(id_, urn("gone"), outputs, inputs("cloudwatch", name="new"))
    assert "deleted outside Pulumi" in caught.value.message
    assert "pulumi refresh" in caught.value.message


def test_read_of_a_deleted_source_reports_it_gone(
    plugin: ProviderPlugin, sigsentry: SigSentryClient
) -> None:
    id_, outputs = create(plugin, "gone", inputs("splunk"))
    sigsentry.delete_log_source(id_)
    read = plugin.read(id_, urn("gone"), outputs, inputs("splunk"))
    assert read.id == ""


def test_refresh_records_drift_in_outputs_and_inputs(
    plugin: ProviderPlugin, sigsentry: SigSentryClient
) -> None:
    id_, outputs = create(plugin, "drift", inputs("cloudwatch"))
    sigsentry.update_log_source(id_, name="renamed-in-console", sources=["/aws/x"], is_active=False)
    read = plugin.read(id_, urn("drift"), outputs, inputs("cloudwatch"))
    for values in (read.outputs, read.inputs or {}):
        assert values["name"] == "renamed-in-console"
        assert values["sources"] == ["/aws/x"]
        assert values["isActive"] is False
        assert values["credentials"] == CREDENTIALS["cloudwatch"]
    # the next `up` with the original program puts the declared values back
    diff = plugin.diff(id_, urn("drift"), read.outputs, inputs("cloudwatch"))
    assert diff.changes is True and diff.replaces == ()


def test_get_reads_an_existing_source_by_id(
    plugin: ProviderPlugin, sigsentry: SigSentryClient
) -> None:
    record = sigsentry.create_log_source(
        type="datadog", name="made-elsewhere", credentials=CREDENTIALS["datadog"], sources=["s"]
    )
    # `LogSource.get` sends a Read with the id and only the registration's inputs
    read = plugin.read(record.id, urn("imported"), None, {"__provider": PROVIDER})
    assert read.id == record.id
    assert read.outputs["name"] == "made-elsewhere"
    assert read.outputs["tenantId"] == record.tenant_id
    assert "credentials" not in read.outputs


def test_delete_of_a_missing_source_succeeds(
    plugin: ProviderPlugin, sigsentry: SigSentryClient
) -> None:
    id_, outputs = create(plugin, "twice", inputs("loki"))
    sigsentry.delete_log_source(id_)
    plugin.delete(id_, urn("twice"), outputs)


def test_check_reports_every_problem_with_field_and_fix(plugin: ProviderPlugin) -> None:
    news = inputs("elastic", name=" ", sources=["a", "a"], credentials={"host": "es.local"})
    checked = plugin.check(urn("bad"), {}, news)
    assert dict(checked.failures).keys() == {
        "name",
        "sources[1]",
        "credentials.host",
        "credentials",
    }
    assert all(reason for _, reason in checked.failures)


def test_check_fills_defaults_and_skips_unknowns_in_preview(plugin: ProviderPlugin) -> None:
    news = inputs("cloudwatch", credentials=unknown(), sources=["/a", unknown()])
    checked = plugin.check(urn("preview"), {}, news)
    assert checked.failures == []
    assert (checked.inputs["isActive"], checked.inputs["verify"]) == (True, False)
    assert isinstance(checked.inputs["credentials"], Unknown)


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({"name": unknown()}, ()),
        ({"credentials": {"accessKeyId": unknown(), "secretAccessKey": "x"}}, ()),
        ({"type": unknown()}, ("type",)),
        ({"projectId": unknown()}, ("projectId",)),
        ({"projectId": "prj_somewhere_else"}, ("projectId",)),
    ],
)
def test_diff_counts_unknowns_as_changes_and_replaces_on_type_or_project(
    plugin: ProviderPlugin, change: dict[str, Any], replaces: tuple[str, ...]
) -> None:
    id_, outputs = create(plugin, "d", inputs("cloudwatch"))
    diff = plugin.diff(id_, urn("d"), outputs, inputs("cloudwatch", **change))
    assert diff.changes is True
    assert diff.replaces == replaces


def test_an_absent_project_id_is_no_change(
    plugin: ProviderPlugin, emulator: EmulatorProcess
) -> None:
    id_, outputs = create(plugin, "d", inputs("cloudwatch"))
    assert outputs["projectId"] == emulator.project_id
    diff = plugin.diff(id_, urn("d"), outputs, inputs("cloudwatch"))
    assert diff.changes is False
    same_project = inputs("cloudwatch", projectId=emulator.project_id)
    assert plugin.diff(id_, urn("d"), outputs, same_project).changes is False


def test_diff_ignores_a_different_provider_pickle(plugin: ProviderPlugin) -> None:
    # State written by an older release holds another `__provider` string: not a change.
    id_, outputs = create(plugin, "d", inputs("cloudwatch"))
    older = {**outputs, "__provider": "gASVKwAAAAAAAACMBW9sZGVylIwITG9nU291cmNllJOUKYGULg=="}
    assert plugin.diff(id_, urn("d"), older, inputs("cloudwatch")).changes is False


def test_a_tenant_scoped_key_uses_the_configured_project(
    emulator: EmulatorProcess, start_plugin: PluginFactory
) -> None:
    key = emulator.create_key(project_id=None)
    project = emulator.create_project()
    config = emulator_config(emulator, **{"sigsentry:projectId": project})
    config["sigsentry:apiKey"] = key.api_key
    plugin = start_plugin(config)
    id_, outputs = create(plugin, "t", inputs("datadog"))
    assert outputs["projectId"] == project
    assert plugin.diff(id_, urn("t"), outputs, inputs("datadog")).changes is False
    read = plugin.read(id_, urn("t"), outputs, inputs("datadog"))
    assert read.id == id_
    plugin.delete(id_, urn("t"), outputs)


def test_a_tenant_scoped_key_takes_the_project_from_the_resource(
    emulator: EmulatorProcess, start_plugin: PluginFactory
) -> None:
    key = emulator.create_key(project_id=None)
    project = emulator.create_project()
    config = emulator_config(emulator)
    config["sigsentry:apiKey"] = key.api_key
    plugin = start_plugin(config)
    id_, outputs = create(plugin, "t", inputs("splunk", projectId=project))
    assert outputs["projectId"] == project
    updated = plugin.update(id_, urn("t"), outputs, inputs("splunk", projectId=project, name="x"))
    assert updated["name"] == "x"
    plugin.delete(id_, urn("t"), updated)
    # without any project the API's answer explains the fix
    with pytest.raises(ProviderCallError) as caught:
        create(plugin, "t2", inputs("splunk"))
    assert "400 VALIDATION_ERROR" in caught.value.message
    assert "sigsentry:projectId" in caught.value.message


def test_a_missing_api_key_names_both_ways_to_set_it(start_plugin: PluginFactory) -> None:
    plugin = start_plugin({"sigsentry:apiUrl": "http://127.0.0.1:9"})
    # check (so a preview) fails offline with the message the first API call gives
    checked = plugin.check(urn("k"), {}, inputs("cloudwatch"))
    ((field, reason),) = checked.failures
    assert field == ""
    with pytest.raises(ProviderCallError) as caught:
        plugin.create(urn("k"), checked.inputs)
    assert reason in caught.value.message
    assert "pulumi config set --secret sigsentry:apiKey" in reason
    assert "SIGSENTRY_API_KEY" in reason


def test_the_environment_supplies_the_key_when_config_does_not(
    emulator: EmulatorProcess, start_plugin: PluginFactory
) -> None:
    plugin = start_plugin(
        {}, env={"SIGSENTRY_API_KEY": emulator.api_key, "SIGSENTRY_API_URL": emulator.url}
    )
    id_, _ = create(plugin, "env", inputs("datadog"))
    assert id_.startswith("ls_")


def test_a_wrong_key_fails_with_the_fix_and_without_the_key(
    emulator: EmulatorProcess, start_plugin: PluginFactory
) -> None:
    wrong = "ss_secret_not-a-real-key-0451"
    config = emulator_config(emulator)
    config["sigsentry:apiKey"] = wrong
    plugin = start_plugin(config)
    with pytest.raises(ProviderCallError) as caught:
        create(plugin, "w", inputs("cloudwatch"))
    assert "401 UNAUTHORIZED" in caught.value.message
    assert "sigsentry:apiKey" in caught.value.message
    assert wrong not in caught.value.details and wrong not in plugin.output


def test_quota_exceeded_explains_the_limit(
    plugin: ProviderPlugin, emulator: EmulatorProcess
) -> None:
    emulator.set_quota(1)
    create(plugin, "one", inputs("cloudwatch"))
    with pytest.raises(ProviderCallError) as caught:
        create(plugin, "two", inputs("cloudwatch"))
    assert "QUOTA_EXCEEDED" in caught.value.message
    assert "logSourcesPerProject" in caught.value.message


def test_concurrent_creates_share_the_plugins_client_safely(
    plugin: ProviderPlugin, emulator: EmulatorProcess, sigsentry: SigSentryClient
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def make(index: int) -> str:
        source_type = TYPES[index % len(TYPES)]
        return create(plugin, f"c{index}", inputs(source_type, name=f"c{index}"))[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(make, range(12)))
    assert len(set(ids)) == 12
    assert sorted(r.name for r in sigsentry.iter_log_sources()) == sorted(
        f"c{i}" for i in range(12)
    )
    assert [r["method"] for r in emulator.requests()].count("POST") == 12
