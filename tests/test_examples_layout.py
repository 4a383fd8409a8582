"""What the Pulumi CLI needs from the example folders, checked without the CLI: project files it
can load, a virtualenv that exists, a requirements file that installs this package, and config
keys that match what each program reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no annotations

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["quickstart", "all-types"]


def project_file(folder: Path) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    return data


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_is_a_python_project_using_the_checkouts_virtualenv(example: str) -> None:
    folder = ROOT / "examples" / example
    project = project_file(folder)
    assert project["name"] == f"sigsentry-{example}"
    runtime = project["runtime"]
    assert isinstance(runtime, dict) and runtime["name"] == "python"
    venv = (folder / runtime["options"]["virtualenv"]).resolve()
    assert venv == (ROOT / ".venv").resolve()
    assert (folder / "__main__.py").is_file()
    assert (folder / "README.md").is_file()


def test_root_project_runs_the_quickstart_with_the_same_config_namespace() -> None:
    root = project_file(ROOT)
    quickstart = project_file(ROOT / "examples" / "quickstart")
    assert (ROOT / str(root["main"])).resolve() == (ROOT / "examples" / "quickstart").resolve()
    assert root["name"] == quickstart["name"]  # `pulumi config set awsAccessKeyId` serves both
    runtime = root["runtime"]
    assert isinstance(runtime, dict) and runtime["name"] == "python"
    # A relative virtualenv would reach the dynamic provider plugin resolved against main's folder
    # (its working directory), not this one: the root project relies on the activated venv.
    assert "virtualenv" not in runtime.get("options", {})


@pytest.mark.parametrize("example", EXAMPLES)
def test_readme_sets_every_config_key_the_program_requires(example: str) -> None:
    folder = ROOT / "examples" / example
    program = (folder / "__main__.py").read_text()
    required = set(re.findall(r'config\.require(?:_secret)?\("([^"]+)"\)', program))
    assert required
    readme = (folder / "README.md").read_text()
    configured = set(re.findall(r"pulumi config set (?:--secret )?(\w+)", readme))
    assert required <= configured
    for secret in re.findall(r'config\.require_secret\("([^"]+)"\)', program):
        assert f"pulumi config set --secret {secret}" in readme
