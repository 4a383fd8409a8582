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


def _declared_bounds() -> dict[str, str]:
    """pyproject.toml's version ranges by package: the dependencies and the `policy` extra."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["policy"]]
    return {r.name: str(r.specifier) for r in map(Requirement, declared)}


@pytest.mark.parametrize(
    "requirements",
    [
        "examples/quickstart/requirements.txt",
        "examples/all-types/requirements.txt",
        "templates/sigsentry-python/requirements.txt",
        "policy/requirements.txt",
        "sigsentry_pulumi/cli.py",  # REQUIREMENTS, what `sigsentry-pulumi import` writes
    ],
)
def test_every_requirements_file_asks_for_the_ranges_pyproject_declares(requirements: str) -> None:
    from packaging.requirements import Requirement

    if requirements.endswith(".py"):
        from sigsentry_pulumi.cli import REQUIREMENTS

        lines = REQUIREMENTS.splitlines()
    else:
        lines = (ROOT / requirements).read_text().splitlines()
    named = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    bounds = _declared_bounds()
    asked = {r.name: str(r.specifier) for r in named if r.name in bounds}
    assert asked  # it names at least one of them
    assert asked == {name: bounds[name] for name in asked}
