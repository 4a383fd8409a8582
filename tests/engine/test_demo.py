"""`make demo` end to end: the script runs as a user runs it, in its own process."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scripts" / "demo.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run() -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGSENTRY_", "PULUMI_"))}
    return subprocess.run(
        [sys.executable, str(DEMO)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def sections(output: str) -> dict[str, str]:
    """The output split at the demo's `=== heading ===` lines, keyed by heading."""
    parts = re.split(r"^=== (.+) ===$", output, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_demo_exits_zero(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert demo_run.returncode == 0, demo_run.stdout[-3000:] + demo_run.stderr[-3000:]
    assert "all steps as expected" in demo_run.stdout
    assert "demo failed" not in demo_run.stdout


def test_demo_says_which_engine_it_used(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert (
        "engine stand-in" in demo_run.stdout or "Deploying with the Pulumi CLI" in demo_run.stdout
    )


def test_first_up_creates_and_shows_secret_outputs(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    first_up = sections(demo_run.stdout)["pulumi up: create the log source"]
    assert re.search(r"^ \+ +\S*sigsentry:LogSource +prod-cloudwatch +created", first_up, re.M)
    assert re.search(r"^ +credentials +: \[secret\]$", first_up, re.M)
    assert re.search(r'^ +log_source_id +: "ls_[0-9a-f-]{36}"$', first_up, re.M)
    assert re.search(r"^ +\+ \d+ created$", first_up, re.M)
    assert "Emulator now holds 1 log source" in first_up
    assert "Stack state checked: the API key and credentials are stored only encrypted" in first_up


def test_second_up_changes_nothing(demo_run: subprocess.CompletedProcess[str]) -> None:
    second_up = sections(demo_run.stdout)["pulumi up, again: nothing to change"]
    assert re.search(r"^ +\d+ unchanged$", second_up, re.M)
    assert not re.search(r"\b(created|updated|replaced|deleted)\b", second_up)


def test_destroy_empties_the_emulator(demo_run: subprocess.CompletedProcess[str]) -> None:
    destroy = sections(demo_run.stdout)["pulumi destroy: tear it down"]
    assert re.search(r"^ +- \d+ deleted$", destroy, re.M)
    assert "Emulator now holds 0 log sources" in destroy


def test_no_api_key_or_credential_is_printed(demo_run: subprocess.CompletedProcess[str]) -> None:
    # The demo's key comes from the emulator (ss_secret_...); its made-up AWS keys carry the
    # AKIADEMO and demo-secret- prefixes precisely so that this check can find them.
    output = demo_run.stdout + demo_run.stderr
    for marker in ("ss_secret_", "AKIADEMO", "demo-secret-"):
        assert marker not in output


def load_demo_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("sigsentry_demo_script", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_failed_step_exits_one_and_says_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = load_demo_module(monkeypatch)

    def failing_run(emulator: Any, secrets: Any, workdir: Path, view: Any) -> None:
        raise demo.DemoFailure("after the first up the emulator holds 0 sources, not 1")

    monkeypatch.setattr(demo, "run_with_stand_in", failing_run)
    assert demo.main(["--engine", "stand-in"]) == 1
    assert "demo failed: after the first up the emulator holds 0 sources" in capsys.readouterr().out


def test_a_secret_reaching_the_output_is_masked_and_fails_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = load_demo_module(monkeypatch)

    def leaky_run(emulator: Any, secrets: Any, workdir: Path, view: Any) -> None:
        demo.console.say(f"oops: {secrets.api_key} {secrets.aws_secret_access_key}")

    monkeypatch.setattr(demo, "run_with_stand_in", leaky_run)
    assert demo.main(["--engine", "stand-in"]) == 1
    output = capsys.readouterr().out
    assert "oops: [secret] [secret]" in output
    assert "a secret reached 1 line(s) of output" in output
    assert "ss_secret_" not in output and "demo-secret-" not in output


def test_engine_cli_without_the_pulumi_binary_is_a_usage_error() -> None:
    env = {"PATH": str(Path(sys.executable).parent), "HOME": os.environ.get("HOME", "/tmp")}
    if shutil.which("pulumi", path=env["PATH"]):
        pytest.skip("a pulumi binary sits beside this interpreter")
    run = subprocess.run(
        [sys.executable, str(DEMO), "--engine", "cli"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "--engine cli needs the `pulumi` binary on PATH" in run.stdout
