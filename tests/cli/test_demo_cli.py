"""`make demo` end to end: scripts/demo.py runs as `make demo` runs it, in its own process, with
the real Pulumi CLI against its own emulator; the assertions read what a user reads."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tools.pulumi_cli import pinned_version

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scripts" / "demo.py"
DEMO_TIMEOUT_SECONDS = 180

# One worker runs the whole module (`--dist loadgroup`), so the demo runs once per test session.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]

HEADINGS = [
    "Starting the SigSentry emulator",
    "1. pulumi up: create the log source",
    "2. pulumi up again: nothing to change",
    "3. pulumi up: rotate the AWS keys (an update in place)",
    "4. pulumi up: move the source to another project (a replacement)",
    "5. pulumi refresh: find a change made behind Pulumi's back",
    "6. pulumi destroy: tear it down",
]
# How the CLI names the quick start's log source in its progress lines: type token, then name.
TYPE_AND_NAME = "pulumi-python:dynamic/sigsentry:LogSource prod-cloudwatch"
LOG_SOURCE = re.escape(TYPE_AND_NAME)
SOURCE_ID = r"ls_[0-9a-f-]{36}"
# The demo's API keys come from the emulator (ss_secret_...); its made-up AWS keys carry these
# prefixes precisely so that a leak can be found from outside.
SECRET_MARKERS = ("ss_secret_", "AKIADEMO", "demo-secret-")


def run_demo(cli: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The demo as `make demo` runs it, with the CLI the suite runs (make exports it too)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGSENTRY_", "PULUMI_"))}
    env["SIGSENTRY_PULUMI_CLI"] = str(cli)
    return subprocess.run(
        [sys.executable, str(DEMO), *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_SECONDS,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_run(pulumi_cli: Path) -> subprocess.CompletedProcess[str]:
    return run_demo(pulumi_cli)


@pytest.fixture(scope="module")
def steps(demo_run: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert demo_run.returncode == 0, demo_run.stdout[-4000:] + demo_run.stderr[-2000:]
    return sections(demo_run.stdout)


def sections(output: str) -> dict[str, str]:
    """The output split at the demo's `=== heading ===` lines, keyed by heading."""
    parts = re.split(r"^=== (.+) ===$", output, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def lines(pattern: str, text: str) -> list[str]:
    """Each line matching `pattern`: its first group, or the whole match without one."""
    return [m.group(1 if m.re.groups else 0) for m in re.finditer(pattern, text, re.MULTILINE)]


def pairs(pattern: str, text: str) -> list[tuple[str, str]]:
    """The two groups of each line matching `pattern`."""
    return [(m.group(1), m.group(2)) for m in re.finditer(pattern, text, re.MULTILINE)]


def emulator_check(text: str) -> dict[str, str]:
    """The demo's `Emulator check: project P holds ...` lines: what each project held."""
    return dict(pairs(r"^Emulator check: project (prj_\w+) holds (.+)$", text))


def test_demo_exits_zero_within_a_minute(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert demo_run.returncode == 0, demo_run.stdout[-4000:] + demo_run.stderr[-2000:]
    assert "demo failed" not in demo_run.stdout
    (seconds,) = lines(
        r"^Demo finished in (\d+\.\d) s: all six steps as expected\.$", demo_run.stdout
    )
    assert float(seconds) < 60


def test_the_cli_version_comes_first(
    demo_run: subprocess.CompletedProcess[str], pulumi_cli: Path
) -> None:
    version = subprocess.run(
        [str(pulumi_cli), "version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    assert demo_run.stdout.splitlines()[0] == f"Pulumi CLI {version} ({pulumi_cli})"


def test_every_step_has_its_heading_in_order(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert lines(r"^=== (.+) ===$", demo_run.stdout) == HEADINGS


def test_create_shows_the_cli_creating_one_source_with_secret_credentials(
    steps: dict[str, str],
) -> None:
    create = steps[HEADINGS[1]]
    assert lines(rf"^ \+ +{LOG_SOURCE} created \(", create)
    assert lines(r"^ +\+ 2 created$", create)
    assert lines(r"^ +credentials +: \[secret\]$", create)
    (output_id,) = lines(rf'^ +log_source_id +: "({SOURCE_ID})"$', create)
    first, second = emulator_check(create).values()
    assert first == f"{output_id} (cloudwatch, 'prod-cloudwatch')"
    assert second == "no log source"


def test_second_up_changes_nothing(steps: dict[str, str]) -> None:
    again = steps[HEADINGS[2]]
    assert lines(r"^ +2 unchanged$", again)
    assert not re.search(r"\b(created|updated|replaced|deleted)\b", again)


def test_key_rotation_is_one_update_in_place(steps: dict[str, str]) -> None:
    update = steps[HEADINGS[3]]
    assert lines(rf"^ ~ +{LOG_SOURCE} updated \(", update)
    assert lines(r"^ +~ 1 updated$", update)
    assert lines(r"^ +1 unchanged$", update)
    assert "The emulator received one PUT" in update
    assert emulator_check(update) == emulator_check(steps[HEADINGS[1]])  # same id, same project


def test_project_move_is_a_replacement_create_before_delete(steps: dict[str, str]) -> None:
    replace = steps[HEADINGS[4]]
    created = replace.index(f"{TYPE_AND_NAME} created replacement")
    deleted = replace.index(f"{TYPE_AND_NAME} deleted original")
    assert created < deleted
    assert lines(r"^ +\+-1 replaced$", replace)
    ((old_id, new_id),) = pairs(
        rf'^ +~ log_source_id +: "({SOURCE_ID})" => "({SOURCE_ID})"$', replace
    )
    first, second = emulator_check(replace).values()
    assert first == "no log source"
    assert second == f"{new_id} (cloudwatch, 'prod-cloudwatch')"
    assert old_id in steps[HEADINGS[1]] and old_id != new_id


def test_refresh_shows_the_rename_made_behind_pulumis_back(steps: dict[str, str]) -> None:
    refresh = steps[HEADINGS[5]]
    assert "Refreshing (dev)" in refresh
    (diff,) = lines(rf"^ ~ +{LOG_SOURCE} updated \([\d.]+s\) \[diff: (.+)\]$", refresh)
    assert "~name" in diff
    assert lines(r"^ +~ 1 updated$", refresh)
    # A refresh writes nothing to the API; it records the drift in the state.
    assert list(emulator_check(refresh).values())[1].endswith("'renamed-outside-pulumi')")
    assert "The stack state now records the name 'renamed-outside-pulumi'" in refresh


def test_destroy_empties_the_emulator(steps: dict[str, str]) -> None:
    destroy = steps[HEADINGS[6]]
    assert lines(rf"^ - +{LOG_SOURCE} deleted \(", destroy)
    assert lines(r"^ +- 2 deleted$", destroy)
    assert set(emulator_check(destroy).values()) == {"no log source"}


def test_no_api_key_or_credential_is_printed(demo_run: subprocess.CompletedProcess[str]) -> None:
    output = demo_run.stdout + demo_run.stderr
    for marker in SECRET_MARKERS:
        assert marker not in output
    assert "The stack state was checked after every step: no secret in plain text." in output


def test_a_failed_emulator_check_stops_the_demo_and_names_the_step(pulumi_cli: Path) -> None:
    # Every list request answers 500: the CLI's create succeeds (it only POSTs), and the demo's
    # own look at the emulator afterwards fails.
    faults = '{"rules": [{"method": "GET", "path": "/v1/config/log-sources", "fault": "500"}]}'
    run = run_demo(pulumi_cli, "--emulator-faults", faults)
    assert run.returncode == 1
    assert lines(r"^ +\+ 2 created$", run.stdout)
    (failure,) = lines(r"^demo failed: (.+)$", run.stdout)
    assert re.fullmatch(
        r"step 1 \(pulumi up: create the log source\): listing the sources of prj_\w+ answered "
        r"HTTP 500 INTERNAL_ERROR",
        failure,
    )
    assert HEADINGS[2] not in run.stdout
    assert "Demo finished" not in run.stdout
    assert not any(marker in run.stdout + run.stderr for marker in SECRET_MARKERS)


def test_a_cli_run_past_its_time_limit_is_stopped_and_named(pulumi_cli: Path) -> None:
    # Every create hangs in the emulator for 10 s; the demo allows each CLI run 5 s.
    faults = '{"rules": [{"method": "POST", "fault": "slow", "delaySeconds": 10}]}'
    started = time.monotonic()
    run = run_demo(pulumi_cli, "--emulator-faults", faults, "--command-timeout", "5")
    assert run.returncode == 1
    assert lines(r"^demo failed: (.+)$", run.stdout) == [
        "step 1 (pulumi up: create the log source): `pulumi up` was still running after 5 s "
        "and was stopped"
    ]
    assert "SIGTERM received; cancelling" in run.stdout  # the CLI's own word: it was asked to stop
    assert time.monotonic() - started < 60


def test_without_a_cli_the_demo_says_how_to_get_one(tmp_path: Path) -> None:
    run = run_demo(tmp_path / "bin" / "pulumi")
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        f"demo failed: no Pulumi CLI at {tmp_path / 'bin' / 'pulumi'}: run `make cli` to build "
        f"Pulumi {pinned_version()} into .tools/bin/ (needs Go and the Go module proxy), or set "
        "SIGSENTRY_PULUMI_CLI to a `pulumi` binary at least as new"
    ]
    assert run.stderr == ""


def load_demo_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("sigsentry_demo_script", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_secret_reaching_the_output_is_masked_and_counted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = load_demo_module(monkeypatch)
    console = demo.Console()
    console.hide(["ss_secret_leaked-key"])
    console.say("a CLI line with ss_secret_leaked-key in it")
    console.say("a clean line")
    assert capsys.readouterr().out == "a CLI line with [secret] in it\na clean line\n"
    assert console.leaks == 1
