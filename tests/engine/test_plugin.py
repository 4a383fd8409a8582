"""The gRPC driver for one real ``python -m pulumi.dynamic`` plugin process."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from samples import unknown

from sigsentry_pulumi.testing import ProviderCallError, ProviderPlugin, Secret

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from engine_stub_provider import WidgetProvider, journal, plugin_env  # noqa: E402

URN = "urn:pulumi:dev::proj::pulumi-python:dynamic/stub:Widget::w"
PROVIDER = serialize_provider(WidgetProvider())


@pytest.fixture
def plugin(tmp_path: Path, store: Path) -> Iterator[ProviderPlugin]:
    with ProviderPlugin(cwd=tmp_path, env=plugin_env()) as running:
        running.configure({"stub:storeDir": str(store), "stub:token": "open-sesame"})
        yield running


def props(**values: object) -> dict[str, object]:
    return {"__provider": PROVIDER, **values}


def test_configure_reports_what_the_plugin_accepts(plugin: ProviderPlugin) -> None:
    assert plugin.accept_secrets is False
    assert plugin.supports_preview is False


def test_full_lifecycle_round_trips_plain_python(plugin: ProviderPlugin, store: Path) -> None:
    checked = plugin.check(URN, {}, props(name="a", kind="plain"))
    assert checked.failures == []
    assert checked.inputs == props(name="a", kind="plain")

    id_, outputs = plugin.create(URN, checked.inputs)
    assert outputs["name"] == "a" and outputs["authorized"] is True
    assert outputs["__provider"] == PROVIDER
    assert isinstance(outputs["revision"], float)  # protobuf Struct numbers

    news = props(name="b", kind="plain")
    diff = plugin.diff(id_, URN, outputs, news)
    assert diff.changes is True and diff.replaces == ()
    updated = plugin.update(id_, URN, outputs, news)
    assert updated["name"] == "b"

    read = plugin.read(id_, URN, updated, news)
    assert read.id == id_
    assert read.inputs == {"name": "b", "kind": "plain", "__provider": PROVIDER}

    plugin.delete(id_, URN, updated)
    assert plugin.read(id_, URN, updated, news).id == ""
    assert [call[0] for call in journal(store)] == [
        "check",
        "create",
        "diff",
        "update",
        "read",
        "delete",
        "read",
    ]


def test_diff_reports_replacement_and_delete_before_replace(plugin: ProviderPlugin) -> None:
    id_, outputs = plugin.create(URN, props(name="a", kind="plain"))
    diff = plugin.diff(id_, URN, outputs, props(name="a", kind="fancy", delete_before_replace=True))
    assert diff.changes is True
    assert "kind" in diff.replaces
    assert diff.delete_before_replace is True
    same = plugin.diff(id_, URN, outputs, props(name="a", kind="plain"))
    assert same.changes is False


def test_check_failures_name_the_property(plugin: ProviderPlugin) -> None:
    checked = plugin.check(URN, {}, props(name=""))
    assert checked.failures == [("name", "name is required: set `name` to a non-empty string")]


def test_unknowns_reach_check_and_diff_as_the_sdk_decodes_them(plugin: ProviderPlugin) -> None:
    checked = plugin.check(URN, {}, props(name="a", ref=unknown()))
    assert checked.failures == []
    assert isinstance(checked.inputs["ref"], Unknown)
    id_, outputs = plugin.create(URN, props(name="a", ref="x"))
    diff = plugin.diff(id_, URN, outputs, props(name="a", ref=unknown()))
    assert diff.changes is True


def test_secret_marks_are_stripped_before_sending(plugin: ProviderPlugin, store: Path) -> None:
    wrapped = {
        "__provider": rpc.wrap_rpc_secret(PROVIDER),
        "name": "a",
        "token": Secret("tok-123"),
        "ref": rpc.wrap_rpc_secret({"nested": Secret("x")}),
    }
    id_, outputs = plugin.create(URN, wrapped)
    assert outputs["token"] == "tok-123"
    assert outputs["ref"] == {"nested": "x"}
    assert '"token": "tok-123"' in (store / f"{id_}.json").read_text()


def test_provider_exception_becomes_a_typed_error(plugin: ProviderPlugin) -> None:
    with pytest.raises(ProviderCallError) as caught:
        plugin.create(URN, props(name="a", token="reject-me"))
    assert caught.value.method == "Create"
    assert caught.value.code == grpc.StatusCode.UNKNOWN
    assert caught.value.message == (
        "ValueError: the API refused the token (HTTP 401): rotate it and retry"
    )
    assert "Traceback" in caught.value.details


def test_output_keeps_stdout_and_stderr(plugin: ProviderPlugin) -> None:
    id_, _ = plugin.create(URN, props(name="loud"))
    expected = ("created widget loud", f"stderr note for {id_}", "widget provider configured")
    # stdout and stderr are drained by separate threads: wait for both, not only the last line
    deadline = time.monotonic() + 5
    while not all(line in plugin.output for line in expected) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "created widget loud" in plugin.output
    assert f"stderr note for {id_}" in plugin.output
    assert "widget provider configured" in plugin.output


def test_calls_before_configure_are_refused(tmp_path: Path) -> None:
    with (
        ProviderPlugin(cwd=tmp_path, env=plugin_env()) as fresh,
        pytest.raises(RuntimeError, match="call configure\\(\\) first"),
    ):
        fresh.check(URN, {}, props(name="a"))


def test_stop_ends_the_process(tmp_path: Path) -> None:
    running = ProviderPlugin(cwd=tmp_path, env=plugin_env()).start()
    pid = running.pid
    assert pid is not None
    running.stop()
    running.stop()  # idempotent
    assert not _alive(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_no_orphan_plugin_survives_a_killed_parent(tmp_path: Path) -> None:
    parent_code = (
        "import sys, time\n"
        "from sigsentry_pulumi.testing import ProviderPlugin\n"
        "p = ProviderPlugin().start()\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    plugin_pid = int(parent.stdout.readline())
    assert _alive(plugin_pid)
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while _alive(plugin_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(plugin_pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
