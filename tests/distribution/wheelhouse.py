"""Build the package as users get it, and a wheelhouse to install it from without an index.

`build_distributions` copies what the sdist needs (pyproject.toml, README.md, the two packages)
out of the checkout and runs ``python -m build --no-isolation`` there: an sdist, then a wheel
built from that sdist, as `python -m build` makes them for a release, and nothing written into
the checkout.

`wheelhouse` repacks, as wheels, the distributions installed in this virtualenv that a
requirement list needs (its dependencies, transitively). ``pip install --no-index
--find-links <wheelhouse> <built wheel>`` then resolves the built wheel's declared dependencies
exactly as it would from an index, offline and in seconds: a dependency the wheel forgets to
declare is missing from the fresh virtualenv, and one it declares but this virtualenv lacks makes
the install fail.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SDIST_INPUTS = (
    "pyproject.toml",
    "setup.py",
    "README.md",
    "LICENSE",
    "sigsentry_pulumi",
    "sigsentry_emulator",
)
BUILD_TIMEOUT_SECONDS = 180
INSTALL_TIMEOUT_SECONDS = 180
_SKIPPED_METADATA = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


@dataclass(frozen=True)
class Distributions:
    sdist: Path
    wheel: Path


def copy_sources(workdir: Path) -> Path:
    """A copy of what a build reads (`SDIST_INPUTS`) in ``workdir/source``; returns it."""
    source = workdir / "source"
    source.mkdir(parents=True)
    for name in SDIST_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    return source


def build_distributions(workdir: Path) -> Distributions:
    """``python -m build`` (sdist, then the wheel from it) on a copy of the sources."""
    source = copy_sources(workdir)
    dist = workdir / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        check=True,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    return Distributions(sdist=sdist, wheel=wheel)


def wheel_requirements(wheel: Path) -> list[str]:
    """The `Requires-Dist` lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(name).decode()
    return [
        line.split(":", 1)[1].strip()
        for line in text.splitlines()
        if line.startswith("Requires-Dist:")
    ]


def _needed(requirements: Iterable[str], extras: frozenset[str]) -> list[Requirement]:
    wanted = []
    for line in requirements:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in extras | {""}):
            wanted.append(requirement)
    return wanted


def dependency_closure(requirements: Iterable[str]) -> list[metadata.Distribution]:
    """The installed distributions `requirements` need, transitively (extras followed)."""
    found: dict[str, metadata.Distribution] = {}
    pending = [(r, frozenset[str]()) for r in _needed(requirements, frozenset())]
    seen_extras: dict[str, frozenset[str]] = {}
    while pending:
        requirement, _ = pending.pop()
        key = canonicalize_name(requirement.name)
        extras = frozenset(requirement.extras) | seen_extras.get(key, frozenset())
        if key in found and extras == seen_extras.get(key):
            continue
        seen_extras[key] = extras
        dist = metadata.distribution(requirement.name)
        found[key] = dist
        pending.extend((r, extras) for r in _needed(dist.requires or [], extras))
    return sorted(found.values(), key=lambda d: canonicalize_name(d.metadata["Name"]))


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def repack(dist: metadata.Distribution, into: Path) -> Path:
    """An installed distribution as a wheel again: its files under site-packages, a new RECORD."""
    files = dist.files
    if files is None:
        raise RuntimeError(f"{dist.metadata['Name']} has no RECORD: it cannot be repacked")
    info = next(f for f in files if f.parts[0].endswith(".dist-info")).parts[0]
    wheel_text = Path(str(dist.locate_file(f"{info}/WHEEL"))).read_text()
    tag = next(
        line.split(":", 1)[1].strip() for line in wheel_text.splitlines() if line.startswith("Tag:")
    )
    name = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    target = into / f"{name}-{dist.version}-{tag}.whl"
    rows: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            path = file.as_posix()
            skipped = path.startswith("..") or "__pycache__" in file.parts or path.endswith(".pyc")
            if skipped or (file.parts[0] == info and file.name in _SKIPPED_METADATA):
                continue
            data = Path(str(dist.locate_file(file))).read_bytes()
            archive.writestr(path, data)
            rows.append((path, _record_hash(data), str(len(data))))
        record = io.StringIO()
        writer = csv.writer(record, lineterminator="\n")
        writer.writerows([*rows, (f"{info}/RECORD", "", "")])
        archive.writestr(f"{info}/RECORD", record.getvalue())
    return target


def wheelhouse(requirements: Iterable[str], into: Path) -> list[Path]:
    into.mkdir(parents=True, exist_ok=True)
    return [repack(dist, into) for dist in dependency_closure(requirements)]


def install_offline(
    venv: Path, distributions: Distributions, house: Path, *requirements: str
) -> subprocess.CompletedProcess[str]:
    """Make a new virtualenv at `venv` (no pip, no checkout on its path) and pip-install
    `requirements` (arguments as for `pip install`) into it with no index: `sigsentry-pulumi`
    from the built distributions, everything else from the wheelhouse `house`."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        capture_output=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )
    return subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")),
            *("install", "--quiet", "--no-index"),
            *("--find-links", str(distributions.wheel.parent), "--find-links", str(house)),
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )
