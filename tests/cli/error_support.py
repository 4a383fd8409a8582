"""The ten mistakes a user meets most, each made through the real Pulumi CLI against the emulator,
and what the CLI prints for them: the resource's diagnostic, its lines and its traceback frames.

`MISTAKES` names them; `make_mistake` runs one `pulumi up` that fails on it and returns the
`Printed` diagnostic. tests/cli/test_error_messages_cli.py asserts each message and the frame
bound; run as a script, this module prints the table of lines and frames for all ten:

    PYTHONPATH=.:tests .venv/bin/python -m cli.error_support
"""

from __future__ import annotations

import re
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cli.lifecycle_support import log_source_program
from cli.stacks import CREDENTIAL_A, CREDENTIAL_B
from tools.pulumi_cli import PulumiEnvironment, config_values, find_cli

PROJECT = "sigsentry-errors"
RESOURCE_HEADER = "pulumi-python:dynamic/sigsentry:LogSource ("
FRAME = re.compile(r'^\s*File "')
Arrangement = Generator[Callable[[], None], None, None]
"""A mistake made: yields the program to run, and undoes what it set up when closed."""
MISSING_MODULE = "httpx"
"""The dependency the `missing extra` mistake hides from the plugin's Python."""


@dataclass(frozen=True)
class Printed:
    """What the CLI printed for the failed resource (its block under Diagnostics)."""

    text: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def frames(self) -> int:
        return sum(1 for line in self.lines if FRAME.match(line))

    @property
    def first_line(self) -> str:
        return self.lines[0].strip() if self.lines else ""


@dataclass
class Setup:
    """What one mistake changes in an otherwise working stack."""

    config: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


def diagnostic(output: str) -> str:
    """The LogSource's block in the Diagnostics section of a CLI run's output."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith(RESOURCE_HEADER) and line.rstrip().endswith("):"):
            block: list[str] = []
            for rest in lines[index + 1 :]:
                if not rest.strip():
                    break
                block.append(rest)
            return "\n".join(block)
    raise AssertionError(f"no {RESOURCE_HEADER}...) diagnostic in:\n{output}")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def redirecting_server(target: str) -> Iterator[str]:
    """A loopback server answering every request with `302 Found` to the same path on `target`,
    as a load balancer in front of the API, or an `http://` URL redirected to `https://`, does."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _redirect(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(302)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_DELETE = _redirect

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="redirect", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def hidden_module(folder: Path, name: str) -> Path:
    """A folder that, first on PYTHONPATH, makes `import <name>` fail as if it were not
    installed: what the plugin's Python meets when the package's dependencies are missing."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(
        f"raise ModuleNotFoundError({f'No module named {name!r}'!r}, name={name!r})\n"
    )
    return folder


def adopting_program(adopt_id: str) -> Callable[[], None]:
    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        config = pulumi.Config()
        LogSource(
            "adopted",
            type="datadog",
            credentials={
                "apiKey": config.require_secret("secretA"),
                "appKey": config.require_secret("secretB"),
            },
            sources=["service:checkout"],
            adopt_id=adopt_id,
        )

    return program


@dataclass(frozen=True)
class Mistake:
    """One mistake: its label, the message it must print, and how to make it."""

    label: str
    expected: tuple[str, ...]
    arrange: Callable[[Any, Path, Setup], Arrangement]


def _wrong_key(emulator: Any, work: Path, setup: Setup) -> Arrangement:
    setup.secrets["sigsentry:apiKey"] = "ss_secret_not-a-key-the-api-knows-0000"
    yield log_source_program()


def _closed_port(emulator: Any, work: Path, setup: Setup) -> Arrangement:
    setup.config["sigsentry:apiUrl"] = f"http://127.0.0.1:{closed_port()}"
    yield log_source_program()


def _down_api(emulator: Any, work: Path, setup: Setup) -> Arrangement:
    emulator.set_faults({"rules": [{"path": "/v1/*", "fault": "503", "retryAfter": 1}]})
    yield log_source_program()


def _failed_verify(emulator: Any, work: Path, setup: Setup) -> Arrangement:
    setup.config["verify"] = "true"
    setup.secrets["secretA"] = "invalid"  # the emulator's test call rejects this value
    yield log_source_program()


def _unknown_adopt_id(emulator: Any, work: Path, setup: Setup) -> Arrangement:
    yield adopting_program("ls_00000000-0000-4000-8000-000000000404")


def _redirect(emulator: Any, work: Path, setup: Setup) -> Arrangement:
    with redirecting_server(emulator.url) as url:
        setup.config["sigsentry:apiUrl"] = url
        yield log_source_program()


def _quota(emulator: Any, work: Path, setup: Setup) -> Arrangement:
    emulator.set_quota(0)
    yield log_source_program()


def _read_only_key(emulator: Any, work: Path, setup: Setup) -> Arrangement:
    setup.secrets["sigsentry:apiKey"] = emulator.create_key(permissions=["config:read"]).api_key
    yield log_source_program()


def _tenant_key(emulator: Any, work: Path, setup: Setup) -> Arrangement:
    setup.secrets["sigsentry:apiKey"] = emulator.create_key(project_id=None).api_key
    yield log_source_program()


def _missing_dependency(emulator: Any, work: Path, setup: Setup) -> Arrangement:
    setup.env["PYTHONPATH"] = str(hidden_module(work / "hidden", MISSING_MODULE))
    yield log_source_program()


MISTAKES: dict[str, Mistake] = {
    mistake.label: mistake
    for mistake in (
        Mistake("wrong API key", ("401 UNAUTHORIZED", "sigsentry:apiKey"), _wrong_key),
        Mistake(
            "closed port",
            ("connection refused", "sigsentry:apiUrl"),
            _closed_port,
        ),
        Mistake("down API (503)", ("503 SERVICE_UNAVAILABLE", "retry later"), _down_api),
        Mistake(
            "failed verify",
            ("SigSentry could not verify log source", "authentication failed", "verify=False"),
            _failed_verify,
        ),
        Mistake(
            "unknown adopt_id",
            ("Cannot adopt log source ls_00000000-0000-4000-8000-000000000404",),
            _unknown_adopt_id,
        ),
        Mistake("redirect (302)", ("302", "redirecting to http://", "sigsentry:apiUrl"), _redirect),
        Mistake("quota exceeded", ("403 QUOTA_EXCEEDED",), _quota),
        Mistake("read-only key", ("403 FORBIDDEN", "config:write"), _read_only_key),
        Mistake(
            "tenant key, no project", ("400 VALIDATION_ERROR", "sigsentry:projectId"), _tenant_key
        ),
        Mistake(
            "missing dependency",
            (f"cannot import {MISSING_MODULE}", "pip install"),
            _missing_dependency,
        ),
    )
}


def make_mistake(name: str, pulumi_env: PulumiEnvironment, emulator: Any, work: Path) -> Printed:
    """Run `pulumi up` with the mistake made; what the CLI printed for the failed resource."""
    from pulumi import automation as auto

    mistake = MISTAKES[name]
    setup = Setup()
    arranged = mistake.arrange(emulator, work, setup)
    program = next(arranged)
    try:
        stack = pulumi_env.inline_stack(
            program, project=PROJECT, stack="dev", env={**pulumi_env.env, **setup.env}
        )
        plain: Mapping[str, str] = {"sigsentry:apiUrl": emulator.url, **setup.config}
        secret = {
            "sigsentry:apiKey": emulator.api_key,
            "secretA": CREDENTIAL_A,
            "secretB": CREDENTIAL_B,
            **setup.secrets,
        }
        stack.set_all_config(config_values(PROJECT, plain, secret))
        started = time.monotonic()
        try:
            stack.up(show_secrets=False)
        except auto.CommandError as failed:
            return Printed(diagnostic(str(failed)), time.monotonic() - started)
        raise AssertionError(f"{name}: `pulumi up` succeeded")
    finally:
        arranged.close()


def table(rows: Mapping[str, Printed]) -> str:
    out = ["| mistake | lines | frames | seconds | first line |", "|---|---|---|---|---|"]
    for name, printed in rows.items():
        first = printed.first_line[:70]
        out.append(
            f"| {name} | {len(printed.lines)} | {printed.frames} | {printed.seconds:.1f} "
            f"| `{first}` |"
        )
    return "\n".join(out)


def main() -> None:
    from sigsentry_emulator.testing import EmulatorProcess

    only = sys.argv[1:] or list(MISTAKES)
    rows: dict[str, Printed] = {}
    with EmulatorProcess() as emulator, tempfile.TemporaryDirectory() as folder:
        for index, name in enumerate(only):
            emulator.restore_defaults()
            work = Path(folder) / str(index)
            pulumi_env = PulumiEnvironment(work / "pulumi", cli=find_cli())
            rows[name] = make_mistake(name, pulumi_env, emulator, work)
            print(f"--- {name}\n{rows[name].text}\n", file=sys.stderr)
    print(table(rows))


if __name__ == "__main__":
    main()
