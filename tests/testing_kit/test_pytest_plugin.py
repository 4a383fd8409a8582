"""The emulator's pytest plugin as a user's project meets it: found through its entry point with
nothing in conftest.py, its fixtures giving a reset emulator and its stack config, loaded at no
cost to runs that do not use it, and naming the extra to install when the emulator's
dependencies are missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from testing_kit.user_project import RunPytest, user_env

HEAVY = ("fastapi", "uvicorn", "cryptography", "starlette")

USER_TESTS = """
import httpx
from pulumi import automation as auto


def test_a_fresh_emulator_and_its_stack_config(sigsentry_emulator):
    assert sigsentry_emulator.url.startswith("http://127.0.0.1:")
    assert sigsentry_emulator.api_key not in repr(sigsentry_emulator)
    config = sigsentry_emulator.stack_config()
    assert set(config) == {"sigsentry:apiUrl", "sigsentry:apiKey", "sigsentry:projectId"}
    assert all(isinstance(value, auto.ConfigValue) for value in config.values())
    key = config["sigsentry:apiKey"]
    assert key.secret and key.value == sigsentry_emulator.api_key
    assert not config["sigsentry:apiUrl"].secret
    assert config["sigsentry:apiUrl"].value == sigsentry_emulator.url
    assert config["sigsentry:projectId"].value == sigsentry_emulator.project_id
    assert sigsentry_emulator.api_key not in repr(config)
    assert set(sigsentry_emulator.stack_config("tenantb")) == {
        "tenantb:apiUrl", "tenantb:apiKey", "tenantb:projectId"
    }
    assert sigsentry_emulator.log_sources() == []
    response = httpx.post(
        f"{sigsentry_emulator.url}/v1/config/log-sources",
        headers={"Authorization": f"Bearer {sigsentry_emulator.api_key}"},
        json={"type": "datadog", "name": "left-behind", "sources": ["service:x"],
              "credentials": {"apiKey": "k", "appKey": "a"}},
    )
    assert response.status_code == 201, response.text
    assert [s["name"] for s in sigsentry_emulator.log_sources()] == ["left-behind"]
    assert ("POST", 201) in [(r["method"], r["status"]) for r in sigsentry_emulator.requests()]
    reader = sigsentry_emulator.create_key(permissions=["config:read"])
    assert reader.api_key not in repr(reader)
    refused = httpx.delete(
        f"{sigsentry_emulator.url}/v1/config/log-sources/{response.json()['data']['id']}",
        headers={"Authorization": f"Bearer {reader.api_key}"},
    )
    assert refused.status_code == 403
    sigsentry_emulator.set_faults({"rules": [{"method": "GET", "fault": "503"}]})


def test_the_next_test_gets_it_reset(sigsentry_emulator, sigsentry_emulator_process):
    assert sigsentry_emulator.process is sigsentry_emulator_process  # one per session
    assert sigsentry_emulator.log_sources() == []  # no source, no fault left behind
    assert [r["method"] for r in sigsentry_emulator.requests()] == ["GET"]
"""

NO_EXTRA_CONFTEST = """
import sys

# As if `pip install sigsentry-pulumi` had been run without the `emulator` extra.
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"fastapi", "uvicorn", "cryptography", "starlette"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
"""

NO_EXTRA_TESTS = """
def test_without_the_fixture():
    assert True


def test_with_the_fixture(sigsentry_emulator):
    raise AssertionError("never reached")
"""


def test_importing_the_plugin_loads_none_of_the_emulators_dependencies(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "import sigsentry_emulator.pytest_plugin\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=user_env(tmp_path, None),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = json.loads(result.stdout)
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []
    ours = [m for m in loaded if m.startswith("sigsentry_emulator.")]
    assert ours == ["sigsentry_emulator.pytest_plugin"]  # no server module either


def test_a_users_tests_get_a_reset_emulator_from_the_entry_point(run_pytest: RunPytest) -> None:
    result = run_pytest({"test_with_emulator.py": USER_TESTS})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_without_the_extra_only_tests_using_the_fixture_fail_and_say_what_to_install(
    run_pytest: RunPytest,
) -> None:
    result = run_pytest({"conftest.py": NO_EXTRA_CONFTEST, "test_no_extra.py": NO_EXTRA_TESTS})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 1 error" in result.stdout
    assert "pip install 'sigsentry-pulumi[emulator]'" in result.stdout
    assert "never reached" not in result.stdout
