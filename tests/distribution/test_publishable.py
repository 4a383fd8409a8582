"""What a package index shows of the built sdist and wheel: `twine check --strict` passes on
both, the licence file matches the declared licence, the project's URLs point at its
repository, and every link of the long description works from the index's page (absolute, or
an anchor of the page itself), each naming a file the repository has."""

from __future__ import annotations

import email.parser
import email.policy
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message

import pytest

from distribution.wheelhouse import ROOT, Distributions
from documentation.markdown import anchors, links

pytestmark = pytest.mark.xdist_group("distribution")

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SOURCE: str = PROJECT["urls"]["Source"]
BLOB = f"{SOURCE}/blob/main/"


def wheel_metadata(distributions: Distributions) -> Message:
    with zipfile.ZipFile(distributions.wheel) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        text = wheel.read(name).decode()
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text)


def sdist_metadata(distributions: Distributions) -> Message:
    with tarfile.open(distributions.sdist) as sdist:
        extracted = sdist.extractfile(
            distributions.sdist.name.removesuffix(".tar.gz") + "/PKG-INFO"
        )
        assert extracted is not None
        text = extracted.read().decode()
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text)


def description(metadata: Message) -> str:
    body = metadata.get_payload()
    assert isinstance(body, str)
    return body


def test_twine_check_strict_passes_on_the_sdist_and_the_wheel(
    distributions: Distributions,
) -> None:
    checked = subprocess.run(
        [
            *(sys.executable, "-m", "twine", "check", "--strict"),
            *(str(distributions.sdist), str(distributions.wheel)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout
    assert "WARNING" not in checked.stdout + checked.stderr


def test_the_licence_file_is_the_declared_apache_licence(distributions: Distributions) -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert PROJECT["license"] == "Apache-2.0"
    assert "Apache License\n                           Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    assert "Copyright 2026 The sigsentry-pulumi authors" in licence
    metadata = wheel_metadata(distributions)
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    with zipfile.ZipFile(distributions.wheel) as wheel:
        shipped = wheel.read("sigsentry_pulumi-0.1.0.dist-info/licenses/LICENSE").decode()
    with tarfile.open(distributions.sdist) as sdist:
        extracted = sdist.extractfile("sigsentry_pulumi-0.1.0/LICENSE")
        assert extracted is not None
        in_sdist = extracted.read().decode()
    assert shipped == in_sdist == licence


def test_the_project_urls_point_at_the_repository(distributions: Distributions) -> None:
    urls = dict(
        entry.split(", ", 1) for entry in wheel_metadata(distributions).get_all("Project-URL", [])
    )
    assert set(urls) == {"Homepage", "Source", "Documentation", "Changelog", "Issues"}
    assert SOURCE.startswith("https://github.com/")
    assert all(url == SOURCE or url.startswith(SOURCE + "/") for url in urls.values()), urls
    assert urls["Changelog"] == BLOB + "CHANGELOG.md"
    assert (ROOT / "CHANGELOG.md").is_file()
    assert urls["Documentation"] == f"{SOURCE}/tree/main/docs"


def test_every_link_of_the_long_description_works_from_a_package_index(
    distributions: Distributions,
) -> None:
    wheel = wheel_metadata(distributions)
    text = description(wheel)
    assert wheel["Description-Content-Type"] == "text/markdown"
    assert description(sdist_metadata(distributions)) == text
    readme = (ROOT / "README.md").read_text()
    found = list(links(text))
    assert len(found) == len(list(links(readme))) > 10  # every README link, none lost
    relative = [t for t in found if not t.startswith(("https://", "http://", "#"))]
    assert not relative, relative
    broken = []
    for target in found:
        if not target.startswith(BLOB):
            continue
        path, _, fragment = target.removeprefix(BLOB).partition("#")
        file = ROOT / path
        if not file.exists():
            broken.append(f"{target}: no such file in the repository")
        elif fragment and fragment not in anchors(file.read_text()):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, broken
    assert any(t.startswith(BLOB + "docs/") for t in found)
    # The text itself is README's: only link targets differ.
    assert text.replace(BLOB, "") == readme
