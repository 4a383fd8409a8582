"""`make demo`: the quick start's whole lifecycle, through the real Pulumi CLI, against a local
SigSentry emulator.

1. Print the version of the Pulumi CLI that `tools.pulumi_cli.find_cli()` picks (the one `make`
   builds into .tools/bin/ unless a newer one is on PATH or ``$SIGSENTRY_PULUMI_CLI`` names one).
   Without a CLI the demo stops there, with the message that says how to get one.
2. Start the emulator (`python -m sigsentry_emulator`) as a real process on a free loopback port,
   with a fresh tenant, two projects and a fresh tenant-scoped API key.
3. Run `examples/quickstart/__main__.py` inline through the Automation API, in a private, offline
   Pulumi environment (`tools.pulumi_cli.PulumiEnvironment`), streaming the CLI's own output, in
   six steps: create; nothing to change; an update (the AWS keys rotated); a replacement (the
   source moved to the second project); a refresh that finds a rename made behind Pulumi's back;
   destroy. After each step the emulator is asked, over its own API, whether the step did what the
   CLI says it did.
4. Stop the emulator and delete the temporary directory (database, state, passphrase).

Exit status 0 only when every step did what it should; otherwise the demo prints
``demo failed: step N (...): why`` and exits 1. `--emulator-faults SPEC` installs a fault spec
(docs/emulator.md) in the emulator before the first step, to see how a failure is reported.
Every CLI run has a time limit (`--command-timeout`, default 120 s): past it the CLI is stopped
(cancelled, then terminated with its plugins) and the step fails.
Nothing printed contains the API key or a credential: the CLI masks secrets as ``[secret]``, and
every line printed here, the CLI's included, passes a redactor that knows the demo's secrets; a
line it had to mask fails the demo.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import secrets
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `tools` is the checkout's folder, not an installed package

from tools.pulumi_cli import (  # noqa: E402
    CLINotFoundError,
    PulumiEnvironment,
    cli_version,
    config_values,
    find_cli,
)

QUICKSTART = ROOT / "examples" / "quickstart"
STACK = "dev"
LOG_SOURCES = "/v1/config/log-sources"
COMMAND_TIMEOUT_SECONDS = 120.0
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


class DemoFailure(Exception):
    """A step did not do what it should; the message says how."""


# --- output -------------------------------------------------------------------------------------


class Console:
    """Prints the demo's lines, the CLI's included, replacing any known secret that would slip in.

    A replacement means some component printed a secret: the text stays safe, and ``leaks``
    counts the lines so that the demo fails instead of hiding the bug.
    """

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()  # the CLI's stdout and stderr arrive on two threads
        self.leaks = 0

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def hide(self, values: Iterable[str]) -> None:
        self._secrets = (*self._secrets, *(v for v in values if v))

    def say(self, text: str = "") -> None:
        masked = text
        for value in self._secrets:
            masked = masked.replace(value, "[secret]")
        with self._lock:
            self.leaks += masked != text
            sys.stdout.write(masked + "\n")
            sys.stdout.flush()

    def heading(self, text: str) -> None:
        self.say(f"\n=== {text} ===\n")


console = Console()


# --- the demo's secrets and the emulator --------------------------------------------------------


@dataclass(frozen=True, repr=False)
class AwsKeys:
    """Made-up AWS keys, valid in shape only; ``AKIADEMO`` and ``demo-secret-`` make a leak easy
    to spot."""

    access_key_id: str
    secret_access_key: str

    @classmethod
    def generate(cls) -> AwsKeys:
        alphabet = string.ascii_uppercase + string.digits
        key_id = "AKIADEMO" + "".join(secrets.choice(alphabet) for _ in range(12))
        return cls(key_id, "demo-secret-" + secrets.token_urlsafe(24))

    def values(self) -> tuple[str, str]:
        return (self.access_key_id, self.secret_access_key)


@dataclass(frozen=True, repr=False)
class Tenant:
    """What the demo holds in the emulator: a tenant-scoped key and two projects of its tenant."""

    url: str
    api_key: str
    first_project: str
    second_project: str


@contextmanager
def running_emulator(workdir: Path, faults: Mapping[str, Any] | None) -> Iterator[Any]:
    """The emulator as a real process on a free loopback port; stopped on the way out."""
    from sigsentry_emulator.testing import EmulatorProcess

    with EmulatorProcess(db_path=workdir / "emulator" / "sigsentry.db") as emulator:
        console.hide((emulator.api_key, emulator.admin_token))
        if faults:
            emulator.set_faults(faults)
        yield emulator


def open_tenant(emulator: Any) -> Tenant:
    """A fresh tenant-scoped key (it may act on every project of the tenant) and a second project,
    so that the source can move between projects: a change that forces a replacement."""
    key = emulator.create_key(project_id=None)
    console.hide((key.api_key,))
    return Tenant(emulator.url, key.api_key, emulator.project_id, emulator.create_project())


class EmulatorView:
    """The emulator as its API shows it (and its request log), to check each step against."""

    def __init__(self, emulator: Any, tenant: Tenant) -> None:
        self._emulator = emulator
        self._client = httpx.Client(
            base_url=tenant.url, headers={"Authorization": f"Bearer {tenant.api_key}"}, timeout=10
        )

    def close(self) -> None:
        self._client.close()

    def sources(self, project: str) -> list[dict[str, Any]]:
        response = self._client.get(
            LOG_SOURCES, params={"limit": 500}, headers={"X-Project-Id": project}
        )
        if response.status_code != 200:
            raise DemoFailure(f"listing the sources of {project} answered {status(response)}")
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def rename(self, source: Mapping[str, Any], name: str) -> None:
        response = self._client.put(
            f"{LOG_SOURCES}/{source['id']}",
            json={"name": name},
            headers={"X-Project-Id": source["projectId"]},
        )
        if response.status_code != 200:
            raise DemoFailure(f"renaming the source through the API answered {status(response)}")

    def request_count(self) -> int:
        return len(self._emulator.requests())

    def writes_since(self, mark: int) -> list[str]:
        """``METHOD path`` of each write the emulator received after its first `mark` requests."""
        log = self._emulator.requests()[mark:]
        return [f"{r['method']} {r['path']}" for r in log if r["method"] in WRITE_METHODS]

    def report(self, tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
        """Both projects' sources, printed."""
        held = {p: self.sources(p) for p in (tenant.first_project, tenant.second_project)}
        for project, found in held.items():
            described = ", ".join(f"{s['id']} ({s['type']}, {s['name']!r})" for s in found)
            console.say(f"Emulator check: project {project} holds {described or 'no log source'}")
        return held


def status(response: httpx.Response) -> str:
    """``HTTP 500 INTERNAL_ERROR``: the status and the API's error code, never the body."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = ""
    return f"HTTP {response.status_code} {code}".strip()


def expect_no_plaintext(env: PulumiEnvironment, values: Iterable[str]) -> None:
    """Fail if a file the CLI wrote (state, backups, PULUMI_HOME) holds a secret in plain text."""
    needles = [value.encode() for value in values]
    for folder in (env.state, env.home):
        for path in folder.rglob("*"):
            if path.is_file() and any(needle in path.read_bytes() for needle in needles):
                raise DemoFailure(f"{path.name}, written by the CLI, holds a secret in plain text")


# --- the Pulumi CLI -----------------------------------------------------------------------------


def bounded_command(env: PulumiEnvironment, timeout: float) -> Any:
    """The Automation API's runner for ``env.cli``, with a time limit on every CLI run.

    `PulumiCommand.run` waits for the CLI without a limit; this one kills a CLI still running
    after `timeout` seconds (`stop`) and fails the step.
    """
    from pulumi import automation as auto
    from pulumi.automation.errors import create_command_error

    class BoundedPulumiCommand(auto.PulumiCommand):
        def run(
            self,
            args: list[str],
            cwd: str,
            additional_env: Mapping[str, str],
            on_output: Callable[[str], Any] | None = None,
            on_error: Callable[[str], Any] | None = None,
        ) -> Any:
            command = [self.command, "--non-interactive", *args]
            run_env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
            with subprocess.Popen(
                command,
                cwd=cwd,
                env=run_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            ) as process:
                assert process.stdout is not None and process.stderr is not None
                out = LineReader(process.stdout, on_output)
                err = LineReader(process.stderr, on_error)
                try:
                    code = process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    stop(process)
                    raise DemoFailure(
                        f"`pulumi {args[0]}` was still running after {timeout:g} s and was stopped"
                    ) from None
                stdout, stderr = out.text(), err.text()
            result = auto.CommandResult(stdout=stdout, stderr=stderr, code=code)
            if code != 0:
                raise create_command_error(result)
            return result

    return BoundedPulumiCommand(root=str(env.cli.parent.parent), skip_version_check=True)


def stop(process: subprocess.Popen[str]) -> None:
    """Stop a CLI run the way the CLI expects: a first SIGTERM cancels (in-flight operations may
    finish), a second terminates it and its plugins. SIGKILL only as a last resort: the plugins
    run in process groups of their own, so a killed CLI would leave them running."""
    for signal_number, grace_seconds in (
        (signal.SIGTERM, 5.0),
        (signal.SIGTERM, 10.0),
        (signal.SIGKILL, 10.0),
    ):
        process.send_signal(signal_number)
        try:
            process.wait(timeout=grace_seconds)
            return
        except subprocess.TimeoutExpired:
            continue


class LineReader:
    """Reads a stream line by line on a thread, handing each line to a callback as it arrives."""

    def __init__(self, stream: IO[str], callback: Callable[[str], Any] | None) -> None:
        self._lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream, callback), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str], callback: Callable[[str], Any] | None) -> None:
        for line in stream:
            line = line.rstrip()
            self._lines.append(line)
            if callback is not None:
                callback(line)

    def text(self) -> str:
        self._thread.join(timeout=10)  # the CLI has exited; its pipe closes with its plugins
        return "\n".join(self._lines)


def project_name() -> str:
    """The `name:` of examples/quickstart/Pulumi.yaml: the namespace of the program's config."""
    for line in (QUICKSTART / "Pulumi.yaml").read_text().splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    raise DemoFailure("examples/quickstart/Pulumi.yaml has no name")


def quickstart_program() -> None:
    """examples/quickstart/__main__.py, run as Pulumi runs a program."""
    runpy.run_path(str(QUICKSTART / "__main__.py"), run_name="__main__")


def create_stack(env: PulumiEnvironment, tenant: Tenant, keys: AwsKeys, timeout: float) -> Any:
    """The quick start as an inline Automation API stack, configured for the emulator."""
    project = project_name()
    stack = env.inline_stack(
        quickstart_program,
        project=project,
        stack=STACK,
        work_dir=env.base / "work",
        command=bounded_command(env, timeout),
    )
    stack.set_all_config(
        config_values(
            project,
            plain={"sigsentry:apiUrl": tenant.url, "sigsentry:projectId": tenant.first_project},
            secret={"sigsentry:apiKey": tenant.api_key},
        )
    )
    set_aws_keys(stack, keys)
    return stack


def set_aws_keys(stack: Any, keys: AwsKeys) -> None:
    from pulumi import automation as auto

    project = project_name()
    stack.set_all_config(
        {
            f"{project}:awsAccessKeyId": auto.ConfigValue(keys.access_key_id, secret=True),
            f"{project}:awsSecretAccessKey": auto.ConfigValue(keys.secret_access_key, secret=True),
        }
    )


def counts(op_map: Any) -> dict[str, int]:
    """An engine summary as plain strings (keys may be `OpType` members), zero counts left out."""
    return {str(getattr(op, "value", op)): n for op, n in (op_map or {}).items() if n}


def expect_counts(actual: Any, expected: Mapping[str, int]) -> None:
    """The CLI also counts the stack resource itself (pulumi:pulumi:Stack)."""
    found = counts(actual)
    if found != dict(expected):
        raise DemoFailure(f"the CLI reported {found}, expected {dict(expected)}")


def shown(**options: Any) -> dict[str, Any]:
    """What every CLI run gets: its output streamed through the console, secrets never shown."""
    return {"on_output": console.say, "on_error": console.say, "show_secrets": False, **options}


# --- the six steps ------------------------------------------------------------------------------


@dataclass
class Demo:
    """Everything the steps share."""

    stack: Any
    env: PulumiEnvironment
    view: EmulatorView
    tenant: Tenant
    source_id: str = ""

    def only_source(self, project: str, *, empty: str) -> dict[str, Any]:
        """The one source the emulator holds, in `project`; the other project must be empty."""
        held = self.view.report(self.tenant)
        if held[empty]:
            raise DemoFailure(f"project {empty} should hold no source, it holds {len(held[empty])}")
        if len(held[project]) != 1:
            raise DemoFailure(f"project {project} holds {len(held[project])} sources, not 1")
        return held[project][0]


def step_create(demo: Demo) -> None:
    up = demo.stack.up(**shown())
    expect_counts(up.summary.resource_changes, {"create": 2})
    source = demo.only_source(demo.tenant.first_project, empty=demo.tenant.second_project)
    if up.outputs["log_source_id"].value != source["id"]:
        raise DemoFailure("the stack output log_source_id is not the emulator's source id")
    if not up.outputs["credentials"].secret:
        raise DemoFailure("the credentials output is not marked secret")
    demo.source_id = source["id"]


def step_no_change(demo: Demo) -> None:
    mark = demo.view.request_count()
    again = demo.stack.up(**shown(expect_no_changes=True))
    expect_counts(again.summary.resource_changes, {"same": 2})
    if demo.view.writes_since(mark):
        raise DemoFailure(f"an unchanged up wrote to the API: {demo.view.writes_since(mark)}")
    source = demo.only_source(demo.tenant.first_project, empty=demo.tenant.second_project)
    if source["id"] != demo.source_id:
        raise DemoFailure("the source's id changed")


def step_update(demo: Demo) -> None:
    rotated = AwsKeys.generate()
    console.hide(rotated.values())
    console.say("Rotating the AWS keys in the stack's secret config.")
    set_aws_keys(demo.stack, rotated)
    mark = demo.view.request_count()
    up = demo.stack.up(**shown())
    expect_counts(up.summary.resource_changes, {"update": 1, "same": 1})
    expected_write = [f"PUT {LOG_SOURCES}/{demo.source_id}"]
    if demo.view.writes_since(mark) != expected_write:
        raise DemoFailure(
            f"expected {expected_write}, the API received {demo.view.writes_since(mark)}"
        )
    source = demo.only_source(demo.tenant.first_project, empty=demo.tenant.second_project)
    if source["id"] != demo.source_id:
        raise DemoFailure("an update replaced the source (its id changed)")
    console.say("The emulator received one PUT: the new keys, updated in place.")


def step_replace(demo: Demo) -> None:
    from pulumi import automation as auto

    second = demo.tenant.second_project
    console.say(f"Setting sigsentry:projectId to {second}: the source must move project.")
    demo.stack.set_config("sigsentry:projectId", auto.ConfigValue(second))
    up = demo.stack.up(**shown())
    expect_counts(up.summary.resource_changes, {"replace": 1, "same": 1})
    source = demo.only_source(second, empty=demo.tenant.first_project)
    if source["id"] == demo.source_id or up.outputs["log_source_id"].value != source["id"]:
        raise DemoFailure("the stack output log_source_id is not the new source's id")
    demo.source_id = source["id"]


def step_refresh(demo: Demo) -> None:
    second = demo.tenant.second_project
    (source,) = demo.view.sources(second)
    console.say(f"Renaming {source['id']} to 'renamed-outside-pulumi' with a raw API call.")
    demo.view.rename(source, "renamed-outside-pulumi")
    mark = demo.view.request_count()
    refresh = demo.stack.refresh(**shown())
    expect_counts(refresh.summary.resource_changes, {"update": 1, "same": 1})
    if demo.view.writes_since(mark):
        raise DemoFailure(f"a refresh wrote to the API: {demo.view.writes_since(mark)}")
    source = demo.only_source(second, empty=demo.tenant.first_project)
    if source["name"] != "renamed-outside-pulumi":
        raise DemoFailure(f"the source is named {source['name']!r} after the refresh")
    recorded = recorded_name(demo)
    if recorded != "renamed-outside-pulumi":
        raise DemoFailure(f"the stack state records the name {recorded!r}, not the outside one")
    console.say(f"The stack state now records the name {recorded!r} (pulumi stack export).")


def recorded_name(demo: Demo) -> Any:
    """The log source's name as the stack state holds it (`pulumi stack export`, secrets kept
    encrypted)."""
    exported = demo.env.run(
        "stack", "export", "--stack", STACK, cwd=Path(demo.stack.workspace.work_dir), timeout=60
    )
    resources = json.loads(exported.stdout)["deployment"]["resources"]
    (source,) = (r for r in resources if r["type"].endswith("sigsentry:LogSource"))
    return source["outputs"]["name"]


def step_destroy(demo: Demo) -> None:
    destroyed = demo.stack.destroy(**shown())
    expect_counts(destroyed.summary.resource_changes, {"delete": 2})
    held = demo.view.report(demo.tenant)
    if any(held.values()):
        raise DemoFailure("the emulator still holds log sources")
    demo.stack.workspace.remove_stack(STACK)


STEPS: tuple[tuple[str, Callable[[Demo], None]], ...] = (
    ("pulumi up: create the log source", step_create),
    ("pulumi up again: nothing to change", step_no_change),
    ("pulumi up: rotate the AWS keys (an update in place)", step_update),
    ("pulumi up: move the source to another project (a replacement)", step_replace),
    ("pulumi refresh: find a change made behind Pulumi's back", step_refresh),
    ("pulumi destroy: tear it down", step_destroy),
)


def run_steps(demo: Demo) -> None:
    from pulumi.automation.errors import CommandError

    for number, (title, step) in enumerate(STEPS, start=1):
        console.heading(f"{number}. {title}")
        try:
            step(demo)
            expect_no_plaintext(demo.env, console.secrets)
        except DemoFailure as failure:
            raise DemoFailure(f"step {number} ({title}): {failure}") from None
        except CommandError:
            raise DemoFailure(
                f"step {number} ({title}): the Pulumi CLI failed; its output is above"
            ) from None


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--emulator-faults",
        metavar="SPEC",
        type=json.loads,
        help="a fault spec (JSON, docs/emulator.md) to install in the emulator before step 1",
    )
    parser.add_argument(
        "--command-timeout",
        metavar="SECONDS",
        type=float,
        default=COMMAND_TIMEOUT_SECONDS,
        help=f"stop a CLI run still going after this long (default {COMMAND_TIMEOUT_SECONDS:g})",
    )
    return parser.parse_args(argv)


def run_demo(cli: Path, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="sigsentry-demo-") as tmp:
        workdir = Path(tmp)
        env = PulumiEnvironment(workdir / "pulumi", cli=cli)
        console.hide((env.passphrase,))
        keys = AwsKeys.generate()
        console.hide(keys.values())
        console.heading("Starting the SigSentry emulator")
        with running_emulator(workdir, args.emulator_faults) as emulator:
            tenant = open_tenant(emulator)
            console.say(
                f"Emulator on {tenant.url}: tenant {emulator.tenant_id}, projects "
                f"{tenant.first_project} and {tenant.second_project}, a fresh API key ([secret])"
            )
            view = EmulatorView(emulator, tenant)
            try:
                run_steps(
                    Demo(create_stack(env, tenant, keys, args.command_timeout), env, view, tenant)
                )
            finally:
                view.close()
        console.say(
            "\nThe stack state was checked after every step: no secret in plain text.\n"
            "Emulator stopped; its database and the stack state are deleted."
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        cli = find_cli()
    except CLINotFoundError as error:
        console.say(f"demo failed: {error}")
        return 1
    console.say(f"Pulumi CLI {cli_version(cli)} ({cli})")
    try:
        run_demo(cli, args)
    except DemoFailure as failure:
        console.say(f"\ndemo failed: {failure}")
        return 1
    except Exception as error:  # say what failed; never a traceback that could hold a secret
        console.say(f"\ndemo failed: {type(error).__name__}: {error}")
        return 1
    if console.leaks:
        console.say(f"\ndemo failed: a secret reached {console.leaks} line(s) of output (masked)")
        return 1
    console.say(f"Demo finished in {time.monotonic() - started:.1f} s: all six steps as expected.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
