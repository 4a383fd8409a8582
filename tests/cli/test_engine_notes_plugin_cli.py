"""The engine notes' claims about the plugin process, checked against the real CLI."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cli.engine_notes_support import FAKE_API_KEY, FAKE_CREDENTIAL, PROBE_VALUE, PROJECT, Bench
from cli.recording_provider import PROGRAM_ENV, Recorded, RecordingProvider
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow


@pytest.fixture
def bench(pulumi_env: PulumiEnvironment) -> Bench:
    return Bench(pulumi_env)


def two_resources() -> None:
    Recorded("first", {"label": "one"})
    Recorded("second", {"label": "two"})


def test_cli_up_runs_a_preview_process_and_an_update_process(bench: Bench) -> None:
    stack = bench.stack(two_resources)
    done = bench.cli_program(stack, two_resources, "up", "--yes")
    assert done.returncode == 0, done.stderr
    checks = bench.calls("check")
    creates = bench.calls("create")
    assert len(checks) == 4 and len(creates) == 2  # two checks in the preview, two in the update
    preview_pid = {c["pid"] for c in checks[:2]}
    update_pid = {c["pid"] for c in checks[2:]} | {c["pid"] for c in creates}
    assert len(preview_pid) == 1 and len(update_pid) == 1
    assert preview_pid != update_pid
    # each process deserialised and configured the (one) provider once
    assert sorted(c["pid"] for c in bench.calls("configure")) == sorted(preview_pid | update_pid)


def test_automation_api_up_skips_the_preview_and_starts_one_process(bench: Bench) -> None:
    stack = bench.stack(two_resources)
    stack.up()
    assert sorted(bench.methods()) == ["check", "check", "create", "create"]
    assert len({c["pid"] for c in bench.calls()}) == 1


def test_plugin_runs_in_the_program_folder_with_the_cli_environment(bench: Bench) -> None:
    def program() -> None:
        os.environ[PROGRAM_ENV] = "set-by-program"
        try:
            Recorded("first", {"label": "one"})
        finally:
            os.environ.pop(PROGRAM_ENV, None)

    stack = bench.stack(program)
    stack.up()
    (configure,) = bench.calls("configure")
    # The program's folder is the project's `main`, which the Automation API sets to the folder
    # the calling process was in: the plugin runs there, not in the workspace the CLI runs in.
    project_file = Path(stack.workspace.work_dir, "Pulumi.yaml").read_text()
    assert f"main: {os.getcwd()}" in project_file.splitlines()
    assert configure["cwd"] == os.getcwd() != stack.workspace.work_dir
    assert configure["executable"] == f"{sys.prefix}/bin/python"
    assert configure["probe_env"] == PROBE_VALUE  # set in the CLI's environment
    assert configure["program_env"] is None  # set by the program: not seen
    # its own process group, apart from the test's (and so the CLI's)
    assert configure["pgid"] == configure["pid"] != os.getpgid(0)


def test_configure_sees_the_whole_stack_config_with_secrets_in_plaintext(bench: Bench) -> None:
    stack = bench.stack(two_resources)
    stack.up()
    (configure,) = bench.calls("configure")
    config = configure["config"]
    assert config["sigsentry:apiKey"] == FAKE_API_KEY
    assert config[f"{PROJECT}:secretA"] == FAKE_CREDENTIAL
    assert config[f"{PROJECT}:plain"] == "plain-value"
    assert configure["unqualified_secret_a"] == FAKE_CREDENTIAL
    assert configure["get_stack"] == {"value": "stack"}
    assert configure["pulumi_config"] == {"value": None}


def test_refresh_and_destroy_configure_the_provider_with_the_settings_of_the_last_up(
    bench: Bench,
) -> None:
    from pulumi import automation as auto

    stack = bench.stack(two_resources)
    stack.up()

    def configured_key(operation: Callable[[], object]) -> str:
        bench.clear()
        operation()
        keys: set[str] = {c["config"]["sigsentry:apiKey"] for c in bench.calls("configure")}
        (key,) = keys  # every process of the operation was configured alike
        return key

    def rotate(key: str) -> None:
        stack.set_config("sigsentry:apiKey", auto.ConfigValue(key, secret=True))

    # The default provider's entry in the state records the config of the last up (or of a
    # refresh that ran the program); a refresh or destroy that does not run the program
    # configures the provider from that entry, not from the stack's config of today.
    rotate("rotated-once")
    assert configured_key(stack.refresh) == FAKE_API_KEY
    assert configured_key(stack.preview) == "rotated-once"
    assert configured_key(lambda: stack.refresh(run_program=True)) == "rotated-once"
    rotate("rotated-twice")
    assert configured_key(stack.destroy) == "rotated-once"


def test_at_most_four_calls_run_at_once(bench: Bench) -> None:
    def program() -> None:
        provider = RecordingProvider(create_sleep=1.0)
        for index in range(8):
            Recorded(f"slow-{index}", {"label": str(index)}, provider)

    stack = bench.stack(program)
    stack.up()
    creates = bench.calls("create")
    assert len(creates) == 8
    events = sorted([(c["start"], 1) for c in creates] + [(c["end"], -1) for c in creates])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak == 4
    assert len({c["thread"] for c in creates}) == 4
    # one provider object served them all, from four threads at once
    assert len({c["instance"] for c in creates}) == 1
    assert len(bench.calls("configure")) == 1


def test_one_configured_provider_per_distinct_pickled_provider(bench: Bench) -> None:
    def program() -> None:
        Recorded("a", {"label": "a"}, RecordingProvider(flavour="x"))
        Recorded("b", {"label": "b"}, RecordingProvider(flavour="x"))
        Recorded("c", {"label": "c"}, RecordingProvider(flavour="y"))

    stack = bench.stack(program)
    stack.up()
    assert len(bench.calls("create")) == 3
    assert len(bench.calls("configure")) == 2


def test_provider_stdout_and_stderr_reach_the_user(bench: Bench) -> None:
    def program() -> None:
        Recorded("loud", {"label": "one"}, RecordingProvider(say="hello-from-the-provider"))

    stack = bench.stack(program)
    result = stack.up()
    assert "stdout: hello-from-the-provider" in result.stdout
    assert "stderr: hello-from-the-provider" in result.stdout


def test_engine_log_shows_no_handshake_and_configure_before_the_first_check(bench: Bench) -> None:
    stack = bench.stack(lambda: Recorded("res", {"label": "one"}))
    preview = stack.preview(log_verbosity=9, log_to_std_err=True)
    log = preview.stderr
    plugin = bench.pulumi_env.cli.parent / "pulumi-resource-pulumi-python"
    steps = [
        f"Launching plugin 'pulumi-python (resource)' from '{plugin}'",
        f"Handshake: not supported by '{plugin}'",
        ".GetPluginInfo() executing",
        ".CheckConfig(urn:pulumi:dev::engine-notes::pulumi:providers:pulumi-python::default) "
        "unimplemented rpc",
        ".Configure() executing (#vars=4)",  # the whole stack config: four keys
        ".Check(urn:pulumi:dev::engine-notes::pulumi-python:dynamic/enginenotes:Recorded::res)",
        ".Create(urn:pulumi:dev::engine-notes::pulumi-python:dynamic/enginenotes:Recorded::res)",
    ]
    positions = [log.find(step) for step in steps]
    assert -1 not in positions, [s for s, p in zip(steps, positions, strict=True) if p == -1]
    assert positions == sorted(positions)
    # the engine steps through a Create in the preview, but the plugin answered
    # supportsPreview=False, so the call never reaches the provider
    assert bench.methods() == ["check"]
