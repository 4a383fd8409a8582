"""The built wheel, installed into a fresh virtualenv outside the checkout, runs
examples/quickstart through the real Pulumi CLI against the emulator.

The program and the dynamic-provider plugin both run on the fresh virtualenv's Python
(`PULUMI_RUNTIME_VIRTUALENV`), with no path into the checkout: each reports where it imported
`sigsentry_pulumi` from, and both answers must be the installed wheel.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from distribution.wheelhouse import ROOT
from raw_api import connect
from tools.pulumi_cli import PulumiEnvironment

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("distribution")]

DRIVER = Path(__file__).with_name("quickstart_driver.py")
QUICKSTART = ROOT / "examples" / "quickstart"
PROJECT = "sigsentry-quickstart"
DRIVER_TIMEOUT_SECONDS = 240
LOG_SOURCES = "/v1/config/log-sources"


def driver_env(pulumi: PulumiEnvironment, venv: Path) -> dict[str, str]:
    """The CLI's private environment, with the fresh virtualenv in place of the checkout's."""
    env = pulumi.env
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(name, None)
    outside = [p for p in env["PATH"].split(os.pathsep) if p and not p.startswith(str(ROOT))]
    env["PATH"] = os.pathsep.join([str(pulumi.cli.parent), str(venv / "bin"), *outside])
    env["PULUMI_RUNTIME_VIRTUALENV"] = str(venv)
    return env


def run_driver(
    venv: Path, env: dict[str, str], cwd: Path, request: dict[str, Any]
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = subprocess.run(
        [str(venv / "bin" / "python"), str(cwd / "driver.py")],
        input=json.dumps(request),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return result, summary


def test_installed_wheel_runs_quickstart_outside_the_checkout(
    installed_venv: Path, emulator: Any, tmp_path: Path, pulumi_cli: Path
) -> None:
    site = next((installed_venv / "lib").glob("python3*/site-packages"))
    installed_package = site / "sigsentry_pulumi"
    assert (installed_package / "py.typed").is_file()

    # The user's copy of the example, and the driver, outside the checkout.
    project = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, project)
    shutil.copy2(DRIVER, project / "driver.py")
    pulumi = PulumiEnvironment(tmp_path / "pulumi", cli=pulumi_cli)
    env = driver_env(pulumi, installed_venv)
    access_key = "wheel-test-akid-" + secrets.token_hex(8)
    secret_key = "wheel-test-secret-" + secrets.token_hex(8)
    request: dict[str, Any] = {
        "action": "up",
        "program": str(project / "__main__.py"),
        "project": PROJECT,
        "stack": "dev",
        "work_dir": str(project),
        "cli_root": str(pulumi.cli.parent.parent),
        "backend_url": pulumi.backend_url,
        "config": {"sigsentry:apiUrl": emulator.url},
        "secrets": {
            "sigsentry:apiKey": emulator.api_key,
            f"{PROJECT}:awsAccessKeyId": access_key,
            f"{PROJECT}:awsSecretAccessKey": secret_key,
        },
    }

    up, summary = run_driver(installed_venv, env, project, request)

    assert summary["program_python"] == str(installed_venv)
    # The stack, the quickstart's LogSource and the probe.
    assert summary["changes"] == {"create": 3}
    outputs = summary["outputs"]
    assert Path(outputs["program_module"]) == installed_package / "__init__.py"
    assert Path(outputs["plugin_module"]) == installed_package / "__init__.py"
    assert Path(outputs["plugin_prefix"]) == installed_venv
    assert outputs["credentials"] == "[secret]"
    state_files = [p for d in (pulumi.state, pulumi.home) for p in d.rglob("*") if p.is_file()]
    assert state_files
    for path in state_files:
        text = path.read_text(errors="replace")
        for secret in (emulator.api_key, access_key, secret_key):
            assert secret not in text, f"a secret appears in plain text in {path.name}"

    with connect(emulator.url, emulator.api_key) as api:
        listed = api.get(LOG_SOURCES).json()["data"]
        assert [(s["name"], s["type"], s["sources"]) for s in listed] == [
            (
                "prod-cloudwatch",
                "cloudwatch",
                ["/aws/lambda/checkout-api", "/aws/lambda/billing-worker"],
            )
        ]
        assert outputs["log_source_id"] == listed[0]["id"]

        destroy, destroyed = run_driver(
            installed_venv, env, project, {**request, "action": "destroy"}
        )
        assert destroyed["changes"] == {"delete": 3}
        assert api.get(LOG_SOURCES).json()["data"] == []

    writes = [(r["method"], r["path"].rsplit("/", 1)[0]) for r in emulator.requests()]
    assert ("POST", "/v1/config") in writes
    assert ("DELETE", LOG_SOURCES) in writes
    for text in (up.stdout, up.stderr, destroy.stdout, destroy.stderr):
        for secret in (emulator.api_key, access_key, secret_key):
            assert secret not in text
