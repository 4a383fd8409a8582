"""The command line: first-line port report, --demo, seed files, errors, and no orphan servers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.helpers import CLOUDWATCH
from raw_api import LOG_SOURCES, auth

COMMAND = [sys.executable, "-m", "sigsentry_emulator", "--host", "127.0.0.1"]


@pytest.fixture
def launched() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def launch(
    launched: list[subprocess.Popen[str]], *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [*COMMAND, *args, "--exit-with-parent", str(os.getpid())],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )
    launched.append(process)
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("sigsentry-emulator listening on http://127.0.0.1:"), first
    return process, first.rsplit(" ", 1)[1].strip()


def test_demo_prints_a_working_key_and_project(
    launched: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    process, url = launch(launched, "--port", "0", "--demo", "--db", str(tmp_path / "demo.db"))
    assert process.stdout is not None
    key_line, project_line = process.stdout.readline(), process.stdout.readline()
    api_key = key_line.split(": ", 1)[1].strip()
    project = project_line.split(": ", 1)[1].strip()
    assert key_line.startswith("demo API key: ss_secret_")
    assert project == "prj_demo"

    created = httpx.post(f"{url}{LOG_SOURCES}", json=CLOUDWATCH, headers=auth(api_key))

    assert created.status_code == 201
    assert created.json()["data"]["projectId"] == project


def test_without_admin_there_are_no_admin_endpoints(launched: list[subprocess.Popen[str]]) -> None:
    _, url = launch(launched, "--port", "0")
    assert httpx.post(f"{url}/_admin/reset", headers={"X-Admin-Token": "x"}).status_code == 404
    openapi = httpx.get(f"{url}/openapi.json").json()
    assert not any(path.startswith("/_admin") for path in openapi["paths"])


def test_admin_endpoints_need_the_token(launched: list[subprocess.Popen[str]]) -> None:
    _, url = launch(
        launched, "--port", "0", "--admin", env={"SIGSENTRY_EMULATOR_ADMIN_TOKEN": "t0k"}
    )
    for headers in ({}, {"X-Admin-Token": "wrong"}):
        response = httpx.post(f"{url}/_admin/reset", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert httpx.post(f"{url}/_admin/reset", headers={"X-Admin-Token": "t0k"}).status_code == 200


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_seed_file_creates_tenants_projects_and_keys(
    launched: list[subprocess.Popen[str]], tmp_path: Path, suffix: str
) -> None:
    seed = tmp_path / f"seed{suffix}"
    writer, reader, tenant_wide = (
        "ss_secret_writer-key-0001",
        "ss_secret_reader-key-0002",
        "ss_secret_tenant-key-0003",
    )
    if suffix == ".toml":
        seed.write_text(
            textwrap.dedent(
                f"""
                [[tenants]]
                id = "tnt_acme"
                projects = ["prj_web", "prj_data"]

                [[tenants.keys]]
                key = "{writer}"
                project = "prj_web"
                permissions = ["config:read", "config:write"]

                [[tenants.keys]]
                key = "{reader}"
                project = "prj_web"
                permissions = ["config:read"]

                [[tenants.keys]]
                key = "{tenant_wide}"
                permissions = ["config:read", "config:write"]
                """
            )
        )
    else:
        seed.write_text(
            json.dumps(
                {
                    "tenants": [
                        {
                            "id": "tnt_acme",
                            "projects": ["prj_web", "prj_data"],
                            "keys": [
                                {
                                    "key": writer,
                                    "project": "prj_web",
                                    "permissions": ["config:read", "config:write"],
                                },
                                {
                                    "key": reader,
                                    "project": "prj_web",
                                    "permissions": ["config:read"],
                                },
                                {
                                    "key": tenant_wide,
                                    "permissions": ["config:read", "config:write"],
                                },
                            ],
                        }
                    ]
                }
            )
        )
    _, url = launch(launched, "--port", "0", "--seed", str(seed), "--db", str(tmp_path / "s.db"))

    created = httpx.post(f"{url}{LOG_SOURCES}", json=CLOUDWATCH, headers=auth(writer))
    assert created.status_code == 201
    assert created.json()["data"]["tenantId"] == "tnt_acme"
    assert (
        httpx.post(f"{url}{LOG_SOURCES}", json=CLOUDWATCH, headers=auth(reader)).status_code == 403
    )
    in_data = auth(tenant_wide, **{"X-Project-Id": "prj_data"})
    assert httpx.get(f"{url}{LOG_SOURCES}", headers=in_data).json()["data"] == []
    in_web = auth(tenant_wide, **{"X-Project-Id": "prj_web"})
    assert len(httpx.get(f"{url}{LOG_SOURCES}", headers=in_web).json()["data"]) == 1


def test_a_bad_seed_file_is_a_clear_error_without_the_key(tmp_path: Path) -> None:
    seed = tmp_path / "seed.toml"
    seed.write_text(
        '[[tenants]]\nid = "tnt_a"\n[[tenants.keys]]\nkey = "ss_secret_abcdefgh12345"\n'
        'project = "prj_missing"\npermissions = ["config:admin"]\n'
    )
    result = subprocess.run(
        [*COMMAND, "--port", "0", "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "permissions" in result.stderr and str(seed) in result.stderr
    assert "ss_secret_abcdefgh12345" not in result.stderr + result.stdout


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*COMMAND, "--port", str(port)], capture_output=True, text=True, timeout=60, check=False
        )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--port", "70000", "70000 is out of range: use from 0 to 65535"),
        ("--port", "http", "'http' is not an integer"),
        ("--quota", "-1", "-1 is out of range: use 0 or more"),
    ],
)
def test_out_of_range_flags_are_usage_errors(flag: str, value: str, expected: str) -> None:
    result = subprocess.run(
        [*COMMAND, flag, value], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert f"argument {flag}: {expected}" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_script_serves_like_python_dash_m(
    launched: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    script = Path(sys.executable).with_name("sigsentry-emulator")
    db = tmp_path / "script.db"
    process = subprocess.Popen(
        [
            str(script),
            "--port",
            "0",
            "--demo",
            "--db",
            str(db),
            "--exit-with-parent",
            str(os.getpid()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    launched.append(process)
    assert process.stdout is not None
    url = process.stdout.readline().rsplit(" ", 1)[1].strip()
    api_key = process.stdout.readline().split(": ", 1)[1].strip()

    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    created = httpx.post(f"{url}{LOG_SOURCES}", json=CLOUDWATCH, headers=auth(api_key))
    assert created.status_code == 201
    assert db.exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_the_server_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent_script = textwrap.dedent(
        """
        import time
        from sigsentry_emulator.testing import EmulatorProcess
        emulator = EmulatorProcess().start()
        print(emulator.pid, flush=True)
        time.sleep(600)  # a parent that lives until the test kills it
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        assert is_running(server_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 20
        while is_running(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)  # polling a real process's exit: no hook reports it
        assert not is_running(server_pid), "the emulator outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")
