"""`sigsentry-pulumi` (also `python -m sigsentry_pulumi`): bring existing log sources under Pulumi.

`sigsentry-pulumi import --out DIR` lists a project's sources and writes a ready Pulumi project
into DIR: `Pulumi.yaml`, `requirements.txt` and a `__main__.py` declaring one `LogSource` per
source with `adopt_id`, so the first `pulumi up` takes them over (one PUT each, no POST, the ids
unchanged). Credentials are never readable from SigSentry: every credential key is read from a
secret config value, and the command prints the `pulumi config set --secret` commands to run.
"""

from __future__ import annotations

import argparse
import fnmatch
import keyword
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ._client import SigSentryClient
from ._constants import (
    CONFIG_API_KEY,
    CONFIG_API_URL,
    CONFIG_PROJECT_ID,
    DEFAULT_API_URL,
    ENV_API_KEY,
    ENV_API_URL,
    ENV_PROJECT_ID,
    LOG_SOURCE_TYPES,
)
from ._errors import SigSentryError
from ._models import LogSourceRecord
from ._rules import CREDENTIAL_RULES

__all__ = ["generate_program", "main"]

CREDENTIAL_CLASSES: Final = {
    "cloudwatch": "CloudWatchCredentials",
    "datadog": "DatadogCredentials",
    "loki": "LokiCredentials",
    "splunk": "SplunkCredentials",
    "elastic": "ElasticCredentials",
    "gcp_logging": "GcpLoggingCredentials",
}
REQUIREMENTS: Final = "sigsentry-pulumi>=0.1,<1\npulumi>=3.216,<4\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "import":
        parser.print_help()
        return 2
    return _import(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sigsentry-pulumi",
        description="Bring SigSentry log sources made outside Pulumi under a Pulumi program.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    generate = commands.add_parser(
        "import",
        help="write a Pulumi program that adopts a project's existing log sources",
        description=(
            "List the project's log sources and write into --out a Pulumi project "
            "(Pulumi.yaml, requirements.txt, __main__.py) with one LogSource per source, "
            "each with adopt_id, so that `pulumi up` takes the sources over without "
            "recreating them (one PUT each; ids unchanged). SigSentry never returns "
            "credentials: each credential is read from a secret config value, and the "
            "`pulumi config set --secret` commands to run are printed, one per line. "
            f"The API key is read from {ENV_API_KEY} only, so that it stays out of shell "
            "history."
        ),
    )
    generate.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="folder to write the project into; created if missing, refused if not empty",
    )
    generate.add_argument(
        "--api-url",
        metavar="URL",
        help=f"SigSentry API URL (default: {ENV_API_URL}, else {DEFAULT_API_URL})",
    )
    generate.add_argument(
        "--project-id",
        metavar="PRJ",
        help=(
            f"project to list (prj_...; default: {ENV_PROJECT_ID}, else the API key's own "
            "project; required for a tenant-scoped key)"
        ),
    )
    generate.add_argument(
        "--type",
        dest="types",
        action="append",
        choices=LOG_SOURCE_TYPES,
        metavar="TYPE",
        help=f"only sources of this type; repeatable ({', '.join(LOG_SOURCE_TYPES)})",
    )
    generate.add_argument(
        "--name",
        dest="names",
        action="append",
        metavar="PATTERN",
        help="only sources whose name matches this shell pattern (`prod-*`); repeatable",
    )
    generate.add_argument(
        "--project-name",
        metavar="NAME",
        help="the Pulumi project's name (default: the --out folder's name)",
    )
    return parser


def _import(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        print(
            f"error: {out} is not an empty folder; choose a new or empty --out folder "
            "(nothing is overwritten)",
            file=sys.stderr,
        )
        return 2
    try:
        client = SigSentryClient(base_url=args.api_url, project_id=args.project_id)
        records = list(client.iter_log_sources(project_id=client.project_id))
    except SigSentryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    chosen = [
        r
        for r in records
        if (not args.types or r.type in args.types)
        and (not args.names or any(fnmatch.fnmatchcase(r.name, p) for p in args.names))
    ]
    if not chosen:
        print("error: no log source matches; nothing was written", file=sys.stderr)
        return 1
    project_name = args.project_name or _slug(out.resolve().name) or "sigsentry-sources"
    program, secrets = generate_program(chosen)
    out.mkdir(parents=True, exist_ok=True)
    (out / "Pulumi.yaml").write_text(_pulumi_yaml(project_name))
    (out / "requirements.txt").write_text(REQUIREMENTS)
    (out / "__main__.py").write_text(program)
    print(f"Wrote {out}: {len(chosen)} log source(s) to adopt. In {out}, run:")
    if client.base_url.rstrip("/") != DEFAULT_API_URL:
        print(f"pulumi config set {CONFIG_API_URL} {client.base_url}")
    if client.project_id:
        print(f"pulumi config set {CONFIG_PROJECT_ID} {client.project_id}")
    print(f"pulumi config set --secret {CONFIG_API_KEY}")
    for key, required in secrets:
        prefix = "" if required else "# optional: "
        print(f"{prefix}pulumi config set --secret {key}")
    print("then `pulumi preview` (each source shows as a create) and `pulumi up`.")
    return 0


def generate_program(records: Sequence[LogSourceRecord]) -> tuple[str, list[tuple[str, bool]]]:
    """The `__main__.py` adopting `records`, and its secret config keys (key, required)."""
    used: set[str] = set()
    types = sorted({CREDENTIAL_CLASSES[r.type] for r in records if r.type in CREDENTIAL_CLASSES})
    lines = [
        '"""SigSentry log sources adopted by Pulumi (written by `sigsentry-pulumi import`).',
        "",
        "Each LogSource takes over the existing source named by adopt_id on the first",
        "`pulumi up`: no new source, the id unchanged. SigSentry never returns credentials,",
        "so each is read from a secret config value (`pulumi config set --secret KEY`).",
        '"""',
        "",
        "import pulumi",
        "from sigsentry_pulumi import (",
        *(f"    {name}," for name in sorted([*types, "LogSource"])),
        ")",
        "",
        "config = pulumi.Config()",
    ]
    secrets: list[tuple[str, bool]] = []
    for record in records:
        resource = _unique(_slug(record.name) or _slug(record.id), used)
        var = _variable(resource)
        rule = CREDENTIAL_RULES.get(record.type)
        lines += ["", ""]
        if rule is None or record.type not in CREDENTIAL_CLASSES:
            raise SigSentryError(f"log source {record.id} has an unknown type {_q(record.type)}")
        lines.append(f"{var}_credentials = {CREDENTIAL_CLASSES[record.type]}(")
        for key in rule.required:
            config_key = f"{var}_{key}"
            secrets.append((config_key, True))
            lines.append(f"    {key}=config.require_secret({_q(config_key)}),")
        lines.append(")")
        for key in rule.optional:
            config_key = f"{var}_{key}"
            secrets.append((config_key, False))
            lines += [
                f"{var}_{_snake(key)} = config.get_secret({_q(config_key)})",
                f"if {var}_{_snake(key)} is not None:",
                f"    {var}_credentials[{_q(key)}] = {var}_{_snake(key)}",
            ]
        lines += [
            f"{var} = LogSource(",
            f"    {_q(resource)},",
            f"    adopt_id={_q(record.id)},",
            f"    type={_q(record.type)},",
            f"    name={_q(record.name)},",
            "    sources=[",
            *(f"        {_q(source)}," for source in record.sources),
            "    ],",
            f"    is_active={_q(record.is_active)},",
            f"    credentials={var}_credentials,",
            ")",
        ]
    return "\n".join(lines) + "\n", secrets


def _q(value: object) -> str:
    """A Python literal in the style ruff format writes (double quotes)."""
    text = repr(value)
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1].replace("\\'", "'") + '"'
    return text


def _pulumi_yaml(name: str) -> str:
    return (
        f"name: {name}\n"
        "description: SigSentry log sources adopted by Pulumi (sigsentry-pulumi import).\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        "    virtualenv: venv\n"
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def _unique(base: str, used: set[str]) -> str:
    name, n = base, 2
    while name in used:
        name, n = f"{base}-{n}", n + 1
    used.add(name)
    return name


def _variable(resource: str) -> str:
    var = resource.replace("-", "_")
    if var[0].isdigit() or keyword.iskeyword(var) or var in {"config", "pulumi"}:
        var = f"source_{var}"
    return var


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
