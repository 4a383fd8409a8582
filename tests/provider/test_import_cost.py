"""The provider plugin's first call stays cheap: importing the provider loads no HTTP stack.

The Pulumi plugin imports `sigsentry_pulumi.provider` when it unpickles `__provider` on the first
call of every deployment, a preview's Check included, which sends no request. The HTTP client
(httpx) and the response models (pydantic) are loaded by the first call that sends a request.
A fresh interpreter is the only honest place to ask what an import loads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sigsentry_pulumi

HEAVY = ("httpx", "httpcore", "pydantic", "pydantic_core")


def modules_after(code: str) -> set[str]:
    """The top-level packages loaded in a fresh interpreter after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


@pytest.mark.parametrize(
    "code",
    [
        "import sigsentry_pulumi.provider",
        # what the plugin's unpickling of `__provider` does
        "import pulumi.dynamic.dynamic as d, sigsentry_pulumi.provider as p\n"
        "import base64, dill\n"
        "dill.loads(base64.b64decode(d.serialize_provider(p.LogSourceProvider())))",
        "import sigsentry_pulumi",
    ],
    ids=["provider-module", "unpickled-provider", "package"],
)
def test_loading_the_provider_loads_no_http_client_or_models(code: str) -> None:
    loaded = modules_after(code)
    assert "sigsentry_pulumi" in loaded
    assert not loaded & set(HEAVY), f"{code!r} loaded {sorted(loaded & set(HEAVY))}"


def test_check_and_diff_of_a_preview_load_no_http_client_or_models() -> None:
    """A preview's configure, check and diff (settings given, valid inputs) stay offline."""
    code = """
from pulumi.dynamic import Config, ConfigureRequest
from sigsentry_pulumi.provider import LogSourceProvider

provider = LogSourceProvider()
config = {"sigsentry:apiUrl": "http://127.0.0.1:9", "sigsentry:apiKey": "ss_secret_probe_0000"}
provider.configure(ConfigureRequest(Config(raw_config=config, project_name="probe")))
news = {"type": "datadog", "name": "probe", "sources": ["service:probe"],
        "credentials": {"apiKey": "a", "appKey": "b"}}
checked = provider.check({}, news)
assert not checked.failures, checked.failures
olds = {**checked.inputs, "id": "ls_probe"}
assert provider.diff("ls_probe", olds, checked.inputs).changes is False
"""
    loaded = modules_after(code)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_client_still_comes_with_its_name() -> None:
    """The names load on first use: asking for the client loads httpx and pydantic then."""
    loaded = modules_after("from sigsentry_pulumi import SigSentryClient, LogSourceRecord")
    assert {"httpx", "pydantic"} <= loaded


def test_type_checkers_still_see_every_name_and_refuse_a_misspelt_one(tmp_path: Path) -> None:
    """The names load lazily at run time, yet mypy types them and flags a name that is not there."""
    package = Path(sigsentry_pulumi.__file__).parent
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sigsentry_pulumi").symlink_to(package, target_is_directory=True)
    program = tmp_path / "program.py"
    program.write_text(
        "import sigsentry_pulumi\n"
        "from sigsentry_pulumi import LogSource, SigSentryClient\n"
        "reveal_type(SigSentryClient)\n"
        "reveal_type(sigsentry_pulumi.LogSourceRecord)\n"
        "from sigsentry_pulumi import LogSorce\n"
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "c"),
            "program.py",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = completed.stdout
    assert "sigsentry_pulumi._client.SigSentryClient" in out, out
    assert "def (" in out and "LogSourceRecord" in out, out
    assert 'program.py:5: error: Module "sigsentry_pulumi" has no attribute "LogSorce"' in out, out
    assert out.count("error:") == 1, out
