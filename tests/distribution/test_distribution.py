"""What `python -m build` puts in the sdist and the wheel: the typed package, the guardrail
policies as an importable module, the declared dependencies, and nothing from the checkout that
is not part of the product."""

from __future__ import annotations

import tarfile
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from distribution.wheelhouse import ROOT, Distributions, wheel_requirements

pytestmark = pytest.mark.xdist_group("distribution")

POLICY_NAMES = (
    "https_hosts",
    "cloudwatch_session_token",
    "verify_enabled",
    "name_pattern",
    "no_catch_all_sources",
    "max_sources",
    "unique_type_and_name",
)


def test_wheel_holds_the_typed_package_the_policies_and_the_emulator(
    distributions: Distributions,
) -> None:
    with zipfile.ZipFile(distributions.wheel) as wheel:
        names = set(wheel.namelist())
        policies = wheel.read("sigsentry_pulumi/policies.py").decode()
    assert distributions.wheel.name == "sigsentry_pulumi-0.1.0-py3-none-any.whl"
    for required in (
        "sigsentry_pulumi/__init__.py",
        "sigsentry_pulumi/py.typed",
        "sigsentry_pulumi/policies.py",
        "sigsentry_pulumi/provider.py",
        "sigsentry_pulumi/resource.py",
        "sigsentry_emulator/__main__.py",
    ):
        assert required in names
    for name in POLICY_NAMES:
        assert f"\n{name} = " in policies
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"sigsentry_pulumi", "sigsentry_emulator", "sigsentry_pulumi-0.1.0.dist-info"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    entry_points = [n for n in names if n.endswith("entry_points.txt")]
    assert len(entry_points) == 1


def test_wheel_declares_its_dependencies_and_the_policy_extra(
    distributions: Distributions,
) -> None:
    requirements = wheel_requirements(distributions.wheel)
    base = sorted(r.split("<")[0].split(">")[0] for r in requirements if ";" not in r)
    assert base == ["httpx", "pulumi", "pydantic"]
    assert any(r.startswith("pulumi-policy") and 'extra == "policy"' in r for r in requirements)


def test_sdist_holds_what_the_wheel_is_built_from(distributions: Distributions) -> None:
    with tarfile.open(distributions.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for required in (
        "pyproject.toml",
        "README.md",
        "PKG-INFO",
        "sigsentry_pulumi/py.typed",
        "sigsentry_pulumi/policies.py",
        "sigsentry_emulator/app.py",
    ):
        assert required in names


@pytest.mark.parametrize("example", ["quickstart", "all-types"])
def test_example_requirements_name_the_package_and_accept_the_built_wheel(
    example: str, distributions: Distributions
) -> None:
    lines = [
        line.strip()
        for line in (ROOT / "examples" / example / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert not [line for line in lines if line.startswith(("-", ".", "/")) or "://" in line]
    requirements = {str(canonicalize_name(r.name)): r for r in map(Requirement, lines)}
    assert set(requirements) == {"sigsentry-pulumi", "pulumi"}
    built_version = distributions.wheel.name.split("-")[1]
    assert requirements["sigsentry-pulumi"].specifier.contains(built_version)
