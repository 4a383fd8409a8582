"""CHANGELOG.md keeps the Keep a Changelog form: an Unreleased section, then one entry per
released version, newest first, each a semantic version with its date, the version in
pyproject.toml among them, under the format's own section names."""

from __future__ import annotations

import re
import tomllib

from documentation.markdown import ROOT

CHANGELOG = (ROOT / "CHANGELOG.md").read_text()
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
# semver.org's own pattern for a version, without build metadata.
SEMVER = r"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?"
RELEASE = re.compile(rf"^## \[({SEMVER})\] - (\d{{4}}-\d{{2}}-\d{{2}})$")
SECTIONS = frozenset({"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"})


def headings(level: int) -> list[str]:
    return re.findall(rf"^{'#' * level} (?!#)(.*)$", CHANGELOG, flags=re.MULTILINE)


def test_the_changelog_follows_keep_a_changelog_and_semantic_versioning() -> None:
    assert headings(1) == ["Changelog"]
    assert "https://keepachangelog.com/en/1.1.0/" in CHANGELOG
    assert "https://semver.org/spec/v2.0.0.html" in CHANGELOG
    releases = headings(2)
    assert releases[0] == "[Unreleased]"
    matches = [RELEASE.match(f"## {heading}") for heading in releases[1:]]
    assert all(matches), releases
    versions = [tuple(map(int, m[1].split("-")[0].split("."))) for m in matches if m]
    dates = [m[2] for m in matches if m]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    assert dates == sorted(dates, reverse=True)
    assert set(headings(3)) <= SECTIONS, headings(3)


def test_the_version_in_pyproject_has_its_entry() -> None:
    released = [m[1] for m in map(RELEASE.match, (f"## {h}" for h in headings(2))) if m]
    assert VERSION in released, (VERSION, released)
    entry = CHANGELOG.split(f"## [{VERSION}]", 1)[1].split("\n## ", 1)[0]
    assert "### Added" in entry or "### Changed" in entry or "### Fixed" in entry
