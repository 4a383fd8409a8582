"""`sigsentry-pulumi` (also `python -m sigsentry_pulumi`): bring existing log sources under Pulumi.

`sigsentry-pulumi import --out DIR` lists a project's sources and writes a ready Pulumi project
into DIR: `Pulumi.yaml`, `requirements.txt`, a `__main__.py` declaring one `LogSource` per
source with `adopt_id`, so the first `up` takes them over (one PUT each, no POST, the ids
unchanged), and `run.py`, which runs that program inline through the Automation API. It then
prints the lines to run, in order: they work as printed with a Pulumi release and with a CLI
built without the Python language host (`run.py` needs none). Credentials are never readable
from SigSentry: every credential key is read from a secret config value, set by one printed
`pulumi config set --secret` line each.

The command reads its settings from its flags and `SIGSENTRY_*` variables only, so every
message it prints names those, never the stack settings (`sigsentry:...`) a program reads.
"""

from __future__ import annotations

import argparse
import fnmatch
import keyword
import os
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ._client import SigSentryClient
from ._config import normalize_api_url
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
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    PermissionDeniedError,
    RedirectError,
    RouteNotFoundError,
    SigSentryError,
)
from ._http import check_header_value
from ._models import LogSourceRecord
from ._rules import CREDENTIAL_RULES

__all__ = ["SecretKey", "generate_program", "instructions", "main"]

CREDENTIAL_CLASSES: Final = {
    "cloudwatch": "CloudWatchCredentials",
    "datadog": "DatadogCredentials",
    "loki": "LokiCredentials",
    "splunk": "SplunkCredentials",
    "elastic": "ElasticCredentials",
    "gcp_logging": "GcpLoggingCredentials",
}
# Types whose credentials take one of two sets of keys (the API refuses both or neither,
# `_rules._elastic_auth`): the program reads the first set when its first key is set, else the
# second, so the printed lines (the first set) pass as they stand and the second needs no edit.
ONE_OF: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "elastic": (("apiKey",), ("username", "password")),
}
# Keys whose value is a file's text (many lines): a prompt reads one line, so it is read from the
# file instead, named by a placeholder the printed note explains.
FROM_FILE: Final = {"serviceAccountJson": "key.json"}
REQUIREMENTS: Final = "sigsentry-pulumi>=0.1,<1\npulumi>=3.268,<4\n"
STACK: Final = "dev"
GENERATED_LINE_LENGTH: Final = 88
# The longest source variable: with it, `<var>_credentials["username"] = config.require_secret(`
# still fits GENERATED_LINE_LENGTH, the longest line ruff format cannot shorten.
MAX_VARIABLE: Final = 30
# Names the program binds itself (`value` holds each optional credential in turn).
RESERVED: Final = frozenset({"config", "pulumi", "value"})
RUNNER_NAME: Final = "run.py"
FLAG_API_URL: Final = f"--api-url (or {ENV_API_URL})"
FLAG_PROJECT_ID: Final = f"--project-id (or {ENV_PROJECT_ID})"
# What stands for each stack setting here: the command reads no stack config.
COMMAND_SETTINGS: Final = {
    CONFIG_API_URL: FLAG_API_URL,
    CONFIG_PROJECT_ID: FLAG_PROJECT_ID,
    CONFIG_API_KEY: ENV_API_KEY,
}


@dataclass(frozen=True)
class SecretKey:
    """A secret config key the generated program reads.

    `required`: the program fails without it. `instead_of`: read only when that key is not set
    (the other of a type's two ways, `ONE_OF`). `from_file`: the printed line reads the value
    from this file (`FROM_FILE`).
    """

    name: str
    required: bool = True
    instead_of: str | None = None
    from_file: str | None = None


class _SettingError(Exception):
    """A flag or variable the command cannot use; the message names it and the fix."""


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
            f"(Pulumi.yaml, requirements.txt, __main__.py, {RUNNER_NAME}) with one LogSource "
            "per source, each with adopt_id, so that its first `up` takes the sources over "
            "without recreating them (one PUT each; ids unchanged). Then print the lines to "
            "run, in order: install requirements.txt, create a stack, one `pulumi config set` "
            "line per setting and credential (SigSentry never returns credentials), then "
            f"`python {RUNNER_NAME} preview` and `python {RUNNER_NAME} up`. {RUNNER_NAME} runs "
            "the program inline through the Automation API with the `pulumi` on PATH, so it "
            "works with a Pulumi release and with a CLI that has no Python language host. "
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
        client = _client(args)
        records = list(client.iter_log_sources(project_id=client.project_id))
    except (_SettingError, SigSentryError) as error:
        print(f"error: {_failure(error)}", file=sys.stderr)
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
    (out / RUNNER_NAME).write_text(RUNNER)
    print("\n".join(instructions(out, len(chosen), client.base_url, client.project_id, secrets)))
    return 0


def _client(args: argparse.Namespace) -> SigSentryClient:
    """The client, from the command's own flags and variables, each checked under its name."""
    key = os.environ.get(ENV_API_KEY, "").strip()
    if not key:
        raise _SettingError(
            f"no SigSentry API key: export {ENV_API_KEY}=<key> (a key with config:read); the "
            "command reads the key from that variable only, never from a flag"
        )
    url = args.api_url or os.environ.get(ENV_API_URL, "").strip() or DEFAULT_API_URL
    project = args.project_id or os.environ.get(ENV_PROJECT_ID, "").strip()
    try:
        check_header_value(key, ENV_API_KEY)
        if project:
            check_header_value(project, FLAG_PROJECT_ID)
        url = normalize_api_url(url, FLAG_API_URL)
    except ConfigurationError as error:
        raise _SettingError(str(error)) from None
    # Every setting given, so the client reads no variable of its own.
    return SigSentryClient(key, base_url=url, project_id=project)


def _failure(error: Exception) -> str:
    """The error as the command's user acts on it: the fix names a flag or a variable."""
    if isinstance(error, APITimeoutError):
        return (
            f"SigSentry {error.method} {error.path} timed out: check {FLAG_API_URL} and the "
            "network, then retry"
        )
    if isinstance(error, APIConnectionError):
        # What happened (refused, reset, ...) and the attempts, without the library's hint.
        what, hinted, _ = str(error).partition(". Check ")
        if hinted:
            return f"{what}. Check {FLAG_API_URL}, the network and that the API is up, then retry"
    if isinstance(error, RedirectError):
        where = f"redirecting to {error.location}" if error.location else "without a Location"
        return (
            f"SigSentry answered {error.status} {where}: give {FLAG_API_URL} the API's own "
            f"address, such as {DEFAULT_API_URL} (redirects are not followed, so the API key "
            "goes only where that URL says)"
        )
    hint = _hint(error) if isinstance(error, APIStatusError) else None
    if not isinstance(error, APIStatusError) or hint is None:
        return _translated(str(error))
    text = f"SigSentry API error {error.status} {error.code}: {error.message}. {hint}"
    return text + (f" [request id {error.request_id}]" if error.request_id else "")


def _hint(error: APIStatusError) -> str | None:
    """The command's own hint for the errors whose library hint names a stack setting."""
    if isinstance(error, AuthenticationError):
        return f"Check the key in {ENV_API_KEY}"
    if isinstance(error, BadRequestError) and any(
        d.get("field") == "X-Project-Id" for d in error.details
    ):
        return f"A tenant-scoped key needs a project: give {FLAG_PROJECT_ID}"
    if isinstance(error, PermissionDeniedError):
        return (
            f"The key in {ENV_API_KEY} needs config:read, and {FLAG_PROJECT_ID} must name a "
            "project the key may act on"
        )
    if isinstance(error, RouteNotFoundError):
        return (
            f"That is not a SigSentry API route: check {FLAG_API_URL}, the server root such as "
            f"{DEFAULT_API_URL}, without /v1"
        )
    return None


def _translated(text: str) -> str:
    """`text`, plus which of the command's flags or variables stand for the stack settings it
    names (a message written for programs, which this command does not rewrite)."""
    named = [
        f"{setting} is {ours}" for setting, ours in COMMAND_SETTINGS.items() if setting in text
    ]
    return text + (f" (for this command, {'; '.join(named)})" if named else "")


def instructions(
    out: Path, count: int, api_url: str, project_id: str | None, secrets: Sequence[SecretKey]
) -> list[str]:
    """What the command prints: the lines to run, in order, each as it stands, then a note."""
    files = f"Pulumi.yaml, requirements.txt, __main__.py, {RUNNER_NAME}"
    lines = [
        f"Wrote {out}: {count} log source(s) to adopt ({files}).",
        "Run these lines in order, in a Python virtualenv and with a Pulumi backend",
        "(`pulumi login`; `pulumi login --local` keeps the state on this machine):",
        "",
        f"cd {shlex.quote(str(out))}",
        "python -m pip install -r requirements.txt",
        f"pulumi stack init {STACK}",
    ]
    if api_url.rstrip("/") != DEFAULT_API_URL:
        lines.append(f"pulumi config set {CONFIG_API_URL} {shlex.quote(api_url)}")
    if project_id:
        lines.append(f"pulumi config set {CONFIG_PROJECT_ID} {shlex.quote(project_id)}")
    lines.append(f"pulumi config set --secret {CONFIG_API_KEY}")
    for index, secret in enumerate(secrets):
        command = f"pulumi config set --secret {secret.name}"
        if secret.from_file:
            command += f" < {secret.from_file}"
        if secret.instead_of:
            previous = secrets[index - 1] if index else None
            if previous is None or previous.instead_of != secret.instead_of:
                lines.append(f"# or, instead of {secret.instead_of}:")
            lines.append(f"#   {command}")
        elif not secret.required:
            lines.append(f"# optional: {command}")
        else:
            lines.append(command)
    lines += [
        f"python {RUNNER_NAME} preview",
        f"python {RUNNER_NAME} up",
        "",
        "Each `pulumi config set --secret KEY` line asks for its value: SigSentry never returns",
        f"credentials, so give the ones the source uses (`{CONFIG_API_KEY}`: a key with",
        "config:read and config:write).",
    ]
    files_read = sorted({s.from_file for s in secrets if s.from_file})
    if files_read:
        lines.append(
            f"`< {files_read[0]}` reads a file: the service account's key file, by its own path."
        )
    lines += [
        "Lines starting with # are choices: optional keys, and another way to give a credential.",
        f"`python {RUNNER_NAME} preview` shows each source as a create; `python {RUNNER_NAME} up`",
        "adopts them: one PUT each, no new source, the ids unchanged. It runs the program inline",
        "through the Automation API with the `pulumi` first on PATH, so it works with a Pulumi",
        "release and with a CLI that has no Python language host; with a release,",
        "`pulumi preview` and `pulumi up` do the same.",
    ]
    return lines


def generate_program(records: Sequence[LogSourceRecord]) -> tuple[str, list[SecretKey]]:
    """The `__main__.py` adopting `records`, and the secret config keys it reads, in order."""
    used: set[str] = set()
    names = set(RESERVED)  # the program's bound names
    types = sorted({CREDENTIAL_CLASSES[r.type] for r in records if r.type in CREDENTIAL_CLASSES})
    lines = [
        '"""SigSentry log sources adopted by Pulumi (written by `sigsentry-pulumi import`).',
        "",
        "Each LogSource takes over the existing source named by adopt_id on the first",
        "`up`: no new source, the id unchanged. SigSentry never returns credentials,",
        "so each is read from a secret config value (`pulumi config set --secret KEY`).",
        f"Run it with `python {RUNNER_NAME} preview|up` (any Pulumi CLI), or `pulumi up` with a",
        "Pulumi release.",
        '"""',
        "",
        "import pulumi",
        "from sigsentry_pulumi import (",
        *(f"    {name}," for name in sorted([*types, "LogSource"])),
        ")",
        "",
        "config = pulumi.Config()",
    ]
    secrets: list[SecretKey] = []
    for record in records:
        resource = _unique(_slug(record.name) or _slug(record.id), used)
        var = _variable(resource, names)
        rule = CREDENTIAL_RULES.get(record.type)
        lines += ["", ""]
        if rule is None or record.type not in CREDENTIAL_CLASSES:
            raise SigSentryError(f"log source {record.id} has an unknown type {_q(record.type)}")
        first, second = ONE_OF.get(record.type, ((), ()))
        optional = [k for k in rule.optional if k not in first + second]
        lines.append(f"{var}_credentials = {CREDENTIAL_CLASSES[record.type]}(")
        for key in rule.required:
            secrets.append(_secret(var, key))
            lines += _call("    ", f"{key}=", "config.require_secret", f"{var}_{key}", ",")
        lines.append(")")
        if first:
            lines += _one_of(var, record.type, first, second)
            secrets += [_secret(var, key) for key in first]
            secrets += [
                _secret(var, key, required=False, instead_of=f"{var}_{first[0]}") for key in second
            ]
        for key in optional:
            secrets.append(_secret(var, key, required=False))
            lines += [
                *_call("", "value = ", "config.get_secret", f"{var}_{key}"),
                "if value is not None:",
                f"    {var}_credentials[{_q(key)}] = value",
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


def _one_of(
    var: str, source_type: str, first: tuple[str, ...], second: tuple[str, ...]
) -> list[str]:
    """Code reading `first` when its first key is set, else `second` (never both: the API
    refuses that)."""
    target = f"{var}_credentials"
    return [
        f"# {source_type}: {' and '.join(first)} when set, else {' and '.join(second)}.",
        *_call("", "value = ", "config.get_secret", f"{var}_{first[0]}"),
        "if value is not None:",
        f"    {target}[{_q(first[0])}] = value",
        *(
            line
            for key in first[1:]
            for line in _call(
                "    ", f"{target}[{_q(key)}] = ", "config.require_secret", f"{var}_{key}"
            )
        ),
        "else:",
        *(
            line
            for key in second
            for line in _call(
                "    ", f"{target}[{_q(key)}] = ", "config.require_secret", f"{var}_{key}"
            )
        ),
    ]


def _call(indent: str, target: str, function: str, argument: str, end: str = "") -> list[str]:
    """`<target><function>("<argument>")<end>` as ruff format lays it out: on one line when it
    fits in 88 columns (ruff's default, which the generated folder gets), else the argument on a
    line of its own."""
    line = f"{indent}{target}{function}({_q(argument)}){end}"
    if len(line) <= GENERATED_LINE_LENGTH:
        return [line]
    return [f"{indent}{target}{function}(", f"{indent}    {_q(argument)}", f"{indent}){end}"]


def _secret(
    var: str, key: str, *, required: bool = True, instead_of: str | None = None
) -> SecretKey:
    return SecretKey(f"{var}_{key}", required, instead_of, FROM_FILE.get(key))


def _q(value: object) -> str:
    """A Python literal in the style ruff format writes (double quotes)."""
    text = repr(value)
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1].replace("\\'", "'") + '"'
    return text


def _pulumi_yaml(name: str) -> str:
    # No `virtualenv`: the program and the provider plugin run in the Python the user installed
    # requirements.txt into (with a release, the `python3` on PATH; with run.py, its own
    # interpreter). A `virtualenv` option would also override run.py's choice for the plugin,
    # since the engine passes runtime options to plugins ahead of their environment.
    return (
        f"name: {name}\n"
        "description: SigSentry log sources adopted by Pulumi (sigsentry-pulumi import).\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def _unique(base: str, used: set[str]) -> str:
    name, n = base, 2
    while name in used:
        name, n = f"{base}-{n}", n + 1
    used.add(name)
    return name


def _variable(resource: str, names: set[str]) -> str:
    """A new Python name for the source, short enough that every generated line fits ruff's
    88 columns; `names` holds the names bound so far (each source binds `<var>` and
    `<var>_credentials`), and gets this one's."""
    base = _shorten(resource.replace("-", "_"))
    if base[0].isdigit() or keyword.iskeyword(base) or base in RESERVED:
        base = _shorten(f"source_{base}")
    var, n = base, 2
    while {var, f"{var}_credentials"} & names:
        var, n = f"{base}_{n}", n + 1
    names.update({var, f"{var}_credentials"})
    return var


def _shorten(var: str) -> str:
    """At most MAX_VARIABLE characters, cut at a word's end when there is one."""
    if len(var) <= MAX_VARIABLE:
        return var
    cut = var[:MAX_VARIABLE]
    return cut[: cut.rindex("_")] if "_" in cut[1:] else cut


# The generated run.py: the program inline through the Automation API, for any Pulumi CLI.
RUNNER: Final = '''\
"""Run this folder's Pulumi program inline: `python run.py preview|up|refresh|destroy`.

A Pulumi release runs the folder itself (`pulumi preview`, `pulumi up`) through its
Python language host. A `pulumi` built without that host cannot, but it runs the same
program inline: this script runs `__main__.py` in its own Python process through the
Automation API, with the `pulumi` first on PATH (any Pulumi CLI). The stack is the
selected one (`pulumi stack init` or `pulumi stack select`), else --stack; its config
is the one `pulumi config set` wrote here. Run it with the Python that requirements.txt
was installed into: the provider plugin runs in that Python too.
"""

import argparse
import runpy
import sys
from pathlib import Path

from pulumi import automation as auto

HERE = Path(__file__).resolve().parent


def program() -> None:
    runpy.run_path(str(HERE / "__main__.py"), run_name="__main__")


def echo(line: str) -> None:
    print(line, file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run this Pulumi program inline.")
    parser.add_argument("command", choices=["preview", "up", "refresh", "destroy"])
    parser.add_argument("--stack", help="the stack to run (default: the selected one)")
    args = parser.parse_args()
    # The CLI starts the dynamic-provider plugin (`python -m pulumi.dynamic`): in this
    # Python, which has sigsentry-pulumi, not whichever python3 comes first on PATH.
    plugin = {"PULUMI_PYTHON_CMD": sys.executable}
    if sys.prefix != sys.base_prefix:
        plugin["PULUMI_RUNTIME_VIRTUALENV"] = sys.prefix
    workspace = auto.LocalWorkspace(
        work_dir=str(HERE), program=program, env_vars=plugin
    )
    selected = workspace.stack()
    name = args.stack or (selected.name if selected else None)
    if not name:
        echo("error: no stack selected: run `pulumi stack init dev` here first")
        return 2
    stack = auto.Stack.select(name, workspace)
    try:
        if args.command == "preview":
            stack.preview(on_output=print, on_error=echo)
        elif args.command == "up":
            stack.up(on_output=print, on_error=echo)
        elif args.command == "refresh":
            stack.refresh(on_output=print, on_error=echo)
        else:
            stack.destroy(on_output=print, on_error=echo)
    except auto.CommandError:
        return 1  # the CLI's own lines, printed above, say why
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''
