"""`make test-compat`: the supported range, tested (docs/development.md#supported-versions).

Runs the provider, client and testing-kit suites and one real-CLI lifecycle test under each
combination: Python 3.11, 3.12 and 3.13 with the newest dependencies pyproject.toml allows, and
Python 3.11 with every runtime dependency (`dependencies` and the `emulator` and `policy` extras)
pinned at the lower bound pyproject.toml declares; the dev tools float, as they test rather than
ship. Each combination has its own virtualenv under .compat/, made by uv from the interpreter
pyenv installed (or one on PATH), and made again from scratch when pyproject.toml is newer than
its stamp.

The real-CLI test runs the dynamic-provider plugin in the virtualenv named by
`PULUMI_RUNTIME_VIRTUALENV` (tools/pulumi_cli.py sets it from `sys.prefix`). That the plugin
really ran under the combination's Python is checked, not assumed: a `.pth` file in each compat
virtualenv appends, in every `python -m pulumi.dynamic` started while `SIGSENTRY_COMPAT_PROBE`
names a file, that process's `sys.prefix` and Python version to the file.

`python -m tools.compat [NAME ...]` runs the named combinations (default: all); `--list` names
them. It exits non-zero when any combination fails to install, fails a test, skips a test or
shows no plugin run under its own Python.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
COMPAT = ROOT / ".compat"
EXTRAS = "emulator,policy,dev"
# The extras a user installs to run the package; `dev` (test and lint tools) floats.
RUNTIME_EXTRAS = ("emulator", "policy")
PROBE_VARIABLE = "SIGSENTRY_COMPAT_PROBE"
# The shortest real-CLI lifecycle that crosses every plugin call but delete: a create, a refresh
# that reads drift made outside, an update that restores it, a preview with no change.
CLI_TEST = (
    "tests/cli/test_lifecycle_cli.py"
    "::test_refresh_shows_drift_made_outside_and_up_restores_it[rename-name-restore0]"
)
TESTS = ("tests/provider", "tests/client", "tests/testing_kit", CLI_TEST)
REPORTED = (
    *("pulumi", "httpx", "pydantic", "pulumi-policy", "grpcio"),
    *("fastapi", "uvicorn", "cryptography", "protobuf", "dill"),
)

# One line, as a .pth file runs only lines that start with `import`.
PROBE = (
    "import os, sys; _p = os.environ.get('SIGSENTRY_COMPAT_PROBE'); "
    "_p and 'pulumi.dynamic' in sys.orig_argv and open(_p, 'a').write("
    "f'{sys.prefix} {sys.version_info[0]}.{sys.version_info[1]}\\n')\n"
)


@dataclass(frozen=True)
class Combination:
    name: str
    python: str  # major.minor
    lowest: bool

    @property
    def venv(self) -> Path:
        return COMPAT / self.name

    @property
    def bin_python(self) -> Path:
        return self.venv / "bin" / "python"


COMBINATIONS = (
    Combination("py3.11", "3.11", lowest=False),
    Combination("py3.12", "3.12", lowest=False),
    Combination("py3.13", "3.13", lowest=False),
    Combination("lowest", "3.11", lowest=True),
)


@dataclass
class Outcome:
    combination: Combination
    versions: dict[str, str]
    counts: dict[str, int]
    plugin_runs: list[str]
    problems: list[str]
    seconds: float


class CompatError(RuntimeError):
    """A combination cannot be set up; the message says why."""


def interpreter(version: str) -> Path:
    """The newest pyenv-installed Python ``version`` (3.12: 3.12.*), else ``python3.12`` on PATH."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    installed = sorted(
        pyenv_root.glob(f"versions/{version}.*/bin/python{version}"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path.parent.parent.name)],
    )
    candidates = [*reversed(installed)]
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        probe = subprocess.run(
            [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    raise CompatError(f"no Python {version}: install it (`pyenv install {version}`)")


def lower_bounds() -> list[str]:
    """``name==bound`` for every runtime dependency, from its ``>=`` in pyproject.toml."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    declared = list(project["dependencies"])
    for extra in RUNTIME_EXTRAS:
        declared += project["optional-dependencies"][extra]
    pins = []
    for line in declared:
        requirement = Requirement(line)
        bounds = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        if len(bounds) != 1:
            raise CompatError(f"pyproject.toml: {line!r} declares no single lower bound (>=)")
        pins.append(f"{requirement.name}=={bounds[0]}")
    return pins


def uv(*args: str) -> list[str]:
    return [sys.executable, "-m", "uv", *args]


def run(command: Sequence[str], env: dict[str, str]) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT, env=env)


def python_output(combination: Combination, script: str, *args: str) -> str:
    """What ``script`` prints when the combination's Python runs it."""
    command = [str(combination.bin_python), "-c", script, *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def ensure_venv(combination: Combination) -> None:
    """The combination's virtualenv, made from scratch unless its stamp is newer than pyproject."""
    stamp = combination.venv / ".installed"
    if stamp.exists() and stamp.stat().st_mtime >= PYPROJECT.stat().st_mtime:
        return
    shutil.rmtree(combination.venv, ignore_errors=True)
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    python = interpreter(combination.python)
    run(uv("venv", "--quiet", "--python", str(python), str(combination.venv)), env=env)
    install = uv("pip", "install", "--quiet", "--python", str(combination.bin_python))
    install += ["-e", f".[{EXTRAS}]"]
    if combination.lowest:
        constraints = combination.venv / "lowest-constraints.txt"
        constraints.write_text("".join(f"{pin}\n" for pin in lower_bounds()))
        install += ["--constraint", str(constraints)]
    try:
        run(install, env=env)
    except subprocess.CalledProcessError as error:
        raise CompatError(f"{combination.name}: installing .[{EXTRAS}] failed") from error
    site_packages = python_output(
        combination, "import sysconfig; print(sysconfig.get_path('purelib'))"
    )
    (Path(site_packages) / "sigsentry_compat_probe.pth").write_text(PROBE)
    stamp.touch()


def installed_versions(combination: Combination) -> dict[str, str]:
    script = (
        "import importlib.metadata as m, sys\n"
        "for name in sys.argv[1:]:\n"
        "    print(name, m.version(name))\n"
    )
    listing = python_output(combination, script, *REPORTED)
    versions = dict(line.split(" ", 1) for line in listing.splitlines())
    python = python_output(combination, "import platform; print(platform.python_version())")
    return {"python": python, **versions}


def junit_counts(report: Path) -> dict[str, int]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if not report.exists():
        return counts
    for suite in ET.parse(report).getroot().iter("testsuite"):  # noqa: S314 - pytest's own file
        for key in counts:
            counts[key] += int(suite.get(key, "0"))
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return counts


def run_tests(combination: Combination, workers: str) -> Outcome:
    started = time.monotonic()
    problems: list[str] = []
    try:
        ensure_venv(combination)
    except CompatError as error:
        return Outcome(combination, {}, {}, [], [str(error)], time.monotonic() - started)
    versions = installed_versions(combination)
    probe = combination.venv / "plugin-runs.txt"
    probe.unlink(missing_ok=True)
    report = combination.venv / "junit.xml"
    report.unlink(missing_ok=True)
    env = {**os.environ, PROBE_VARIABLE: str(probe)}
    command = [str(combination.bin_python), "-m", "pytest", *TESTS, "-q", "-n", workers]
    command += ["--dist", "loadgroup", "-p", "no:cacheprovider", f"--junitxml={report}"]
    print(f"\n=== {combination.name}: {versions}", flush=True)
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    counts = junit_counts(report)
    if result.returncode != 0:
        problems.append(f"pytest exited {result.returncode}")
    if counts.get("skipped"):
        problems.append(f"{counts['skipped']} tests skipped: every test must run")
    runs = probe.read_text().splitlines() if probe.exists() else []
    expected = f"{combination.venv} {combination.python}"
    if not runs:
        problems.append("no dynamic-provider plugin ran (the real-CLI test did not reach one)")
    elif any(line != expected for line in runs):
        problems.append(f"a plugin ran outside {expected!r}: {sorted(set(runs))}")
    return Outcome(combination, versions, counts, runs, problems, time.monotonic() - started)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", help="combinations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="name the combinations and exit")
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (-n)")
    args = parser.parse_args(argv)
    known = {c.name: c for c in COMBINATIONS}
    if args.list:
        for c in COMBINATIONS:
            print(c.name, f"Python {c.python},", "lowest" if c.lowest else "newest", "dependencies")
        return 0
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"unknown combinations {unknown}: choose from {sorted(known)}")
    chosen = [known[name] for name in args.names] or list(COMBINATIONS)

    outcomes = [run_tests(c, args.workers) for c in chosen]

    print("\n=== compatibility")
    passed = failed = skipped = 0
    for outcome in outcomes:
        counts = outcome.counts
        passed += counts.get("passed", 0)
        failed += counts.get("failures", 0) + counts.get("errors", 0)
        skipped += counts.get("skipped", 0)
        shown = ", ".join(f"{k} {v}" for k, v in outcome.versions.items())
        verdict = "ok" if not outcome.problems else "FAILED: " + "; ".join(outcome.problems)
        print(f"{outcome.combination.name}: {shown}")
        print(
            f"  {counts.get('passed', 0)} passed, {counts.get('failures', 0)} failed, "
            f"{counts.get('errors', 0)} errors, {counts.get('skipped', 0)} skipped, "
            f"{len(outcome.plugin_runs)} plugin runs under {outcome.combination.venv.name}, "
            f"{outcome.seconds:.0f} s: {verdict}"
        )
    print(f"compat: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if any(outcome.problems for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
