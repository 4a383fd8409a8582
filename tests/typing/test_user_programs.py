"""The types users get: mypy, run as a user runs it, over small Pulumi programs.

The package is put on the path of a separate mypy process the way an installed package is (a
folder on PYTHONPATH, not a source folder given to mypy), so it is only analysed because it ships
`py.typed`. Each program is a file in a temporary folder: good ones (the examples among them)
must pass `--strict`; each bad one holds one mistake, on a line marked `# error: <message part>`,
and mypy must report it on that line. Two runs over all files: with the package's mypy plugin
(the message names the key at fault), and without it (the call is still rejected).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "sigsentry_pulumi"

HEADER = """\
import pulumi
from sigsentry_pulumi import LogSource, LogSourceArgs

cfg = pulumi.Config()
"""

GOOD: Mapping[str, str] = {
    "good_quickstart": (ROOT / "examples" / "quickstart" / "__main__.py").read_text(),
    "good_all_types": (ROOT / "examples" / "all-types" / "__main__.py").read_text(),
    "good_args_and_outputs": HEADER
    + """\
from sigsentry_pulumi import ElasticCredentials, LogSourceType

args = LogSourceArgs(
    type="splunk",
    credentials={"host": "https://splunk.example.com:8089", "token": cfg.require_secret("t")},
    sources=["index=main"],
    is_active=False,
)
args.verify = True
splunk = LogSource("splunk", args, pulumi.ResourceOptions(protect=True))
elastic_credentials: ElasticCredentials = {"host": "https://es.example.com", "apiKey": "k"}
elastic = LogSource(
    "es", type="elastic", credentials=elastic_credentials, sources=["logs-*"], verify=True
)
loki = LogSource(
    "loki",
    type="loki",
    credentials={"host": cfg.require("lokiHost"), "orgId": "tenant-1"},
    sources=['{app="checkout"}'],
    opts=pulumi.ResourceOptions(depends_on=[splunk]),
    account="tenantb",
)
# A type known only at run time: the provider checks the credentials against it.
computed = LogSource(
    "computed",
    type=splunk.type,
    credentials={"host": "https://splunk.example.com:8089", "token": "t"},
    sources=["index=main"],
)
kind: LogSourceType = "datadog"
paused: pulumi.Output[bool] = splunk.is_active
tenant: pulumi.Output[str] = elastic.tenant_id.apply(lambda tenant_id: tenant_id.upper())
first_source: pulumi.Output[str] = loki.sources.apply(lambda sources: sources[0])
""",
}

CALL = (
    'LogSource(\n    "a",\n    type="{type}",\n    credentials={credentials},  # error\n'
    '    sources=["a"],\n)\n'
)

BAD: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "bad_type_misspelt": (
        HEADER
        + 'LogSource(\n    "a",\n    type="cloudwach",  # error\n'
        + '    credentials={"accessKeyId": "AKIA", "secretAccessKey": "s"},\n'
        + '    sources=["a"],\n)\n',
        ('"cloudwach" is not a SigSentry log source type; use one of: cloudwatch, datadog',),
    ),
    "bad_key_misspelt": (
        HEADER
        + CALL.format(
            type="cloudwatch",
            credentials='{"acessKeyId": "AKIA", "secretAccessKey": cfg.require_secret("s")}',
        ),
        (
            'Extra key "acessKeyId" for TypedDict "CloudWatchCredentials"',
            'Missing key "accessKeyId" for TypedDict "CloudWatchCredentials"',
        ),
    ),
    "bad_key_missing": (
        HEADER + CALL.format(type="datadog", credentials='{"apiKey": cfg.require_secret("dd")}'),
        ('Missing key "appKey" for TypedDict "DatadogCredentials"',),
    ),
    "bad_other_types_keys": (
        HEADER + CALL.format(type="loki", credentials='{"apiKey": "k", "appKey": "a"}'),
        (
            'Extra key "appKey" for TypedDict "LokiCredentials"',
            'Missing key "host" for TypedDict "LokiCredentials"',
        ),
    ),
    "bad_args_class_key": (
        HEADER
        + 'LogSourceArgs(\n    type="splunk",\n'
        + '    credentials={"host": "https://s.example.com", "tokn": "t"},  # error\n'
        + '    sources=["index=main"],\n)\n',
        ('Extra key "tokn" for TypedDict "SplunkCredentials"',),
    ),
    "bad_credential_value": (
        HEADER + CALL.format(type="gcp_logging", credentials='{"serviceAccountJson": 42}'),
        ('has type "int", TypedDict item "serviceAccountJson" has type',),
    ),
    "bad_subclass_key_missing": (
        HEADER
        + "class TeamLogSource(LogSource):\n    pass\n\n\n"
        + CALL.replace("LogSource(", "TeamLogSource(").format(
            type="datadog", credentials='{"apiKey": cfg.require_secret("dd")}'
        ),
        ('Missing key "appKey" for TypedDict "DatadogCredentials"',),
    ),
    "bad_output_attribute": (
        HEADER
        + 'src = LogSource("a", type="loki", credentials={"host": "h"}, sources=["a"])\n'
        + "src.is_active.apply(lambda active: active.upper())  # error\n",
        ('"bool" has no attribute "upper"',),
    ),
}

ERROR_LINE = re.compile(r"^(?P<file>[\w./-]+\.py):(?P<line>\d+): error: (?P<message>.*)$")


@dataclass(frozen=True)
class Report:
    returncode: int
    errors: Mapping[str, list[tuple[int, str]]]
    output: str


def marked_line(source: str) -> int:
    """The number of the one line marked `# error`."""
    (number,) = [
        number
        for number, line in enumerate(source.splitlines(), start=1)
        if line.endswith("# error")
    ]
    return number


def run_mypy(folder: Path, *, plugin: bool) -> Report:
    """mypy --strict over every program, with the package importable as if installed."""
    config = folder / ("with-plugin.ini" if plugin else "plain.ini")
    lines = ["[mypy]", "strict = True", f"cache_dir = {folder / ('cache-' + config.stem)}"]
    if plugin:
        lines.append("plugins = sigsentry_pulumi.mypy_plugin")
    config.write_text("\n".join(lines) + "\n")
    programs = sorted(path.name for path in (folder / "programs").glob("*.py"))
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), *programs],
        cwd=folder / "programs",
        env={"PYTHONPATH": str(folder / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    errors: dict[str, list[tuple[int, str]]] = {}
    for line in completed.stdout.splitlines():
        if match := ERROR_LINE.match(line):
            errors.setdefault(match["file"], []).append((int(match["line"]), match["message"]))
    return Report(completed.returncode, errors, completed.stdout + completed.stderr)


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("typing")
    (folder / "site").mkdir()
    (folder / "site" / "sigsentry_pulumi").symlink_to(PACKAGE, target_is_directory=True)
    (folder / "programs").mkdir()
    sources = {**GOOD, **{name: source for name, (source, _) in BAD.items()}}
    for name, source in sources.items():
        (folder / "programs" / f"{name}.py").write_text(source)
    return folder


@pytest.fixture(scope="module")
def with_plugin(programs: Path) -> Report:
    return run_mypy(programs, plugin=True)


@pytest.fixture(scope="module")
def without_plugin(programs: Path) -> Report:
    return run_mypy(programs, plugin=False)


def test_the_package_is_typed_and_the_good_programs_pass(with_plugin: Report) -> None:
    assert "import-untyped" not in with_plugin.output  # py.typed is shipped
    assert "missing library stubs" not in with_plugin.output
    for name in GOOD:
        assert with_plugin.errors.get(f"{name}.py", []) == [], with_plugin.output


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_mistake_is_reported_on_its_line_naming_what_is_wrong(
    with_plugin: Report, name: str
) -> None:
    source, expected = BAD[name]
    line = marked_line(source)
    messages = [
        message for number, message in with_plugin.errors.get(f"{name}.py", []) if number == line
    ]
    for part in expected:
        assert any(part in message for message in messages), with_plugin.output
    assert with_plugin.returncode == 1


def test_without_the_plugin_every_mistake_is_still_an_error(without_plugin: Report) -> None:
    for name in GOOD:
        assert without_plugin.errors.get(f"{name}.py", []) == [], without_plugin.output
    for name in BAD:
        assert without_plugin.errors.get(f"{name}.py"), (name, without_plugin.output)
    for name in ("bad_type_misspelt", "bad_key_misspelt", "bad_other_types_keys"):
        (message,) = [message for _, message in without_plugin.errors[f"{name}.py"]]
        assert message.startswith('No overload variant of "LogSource" matches')
