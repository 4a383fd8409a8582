"""Helpers for the real-CLI lifecycle tests: what the API received, and what the engine said.

The emulator's request log holds methods, paths and statuses but never bodies (they carry
credentials). `RecordingProxy` sits on loopback between the provider and the emulator, forwards
every request unchanged and keeps each request's method, path, `X-Project-Id` and parsed JSON
body in memory, so a test can assert what a PUT carried. Nothing it records is printed: a
failing assertion names the fields, and bodies with credentials stay in the test process.

`EventLog` collects the Automation API's engine events (`on_event=`) and answers what the
engine planned for each resource: its operation and the properties it reported as changed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tools.pulumi_cli import PulumiEnvironment

FORWARD_TIMEOUT_SECONDS = 30.0
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "te", "upgrade"}
)


@dataclass(frozen=True)
class Recorded:
    """One request as the provider sent it. `body` is the parsed JSON, or None without one."""

    method: str
    path: str
    project: str | None
    body: Any


class RecordingProxy:
    """A forwarding HTTP proxy on 127.0.0.1 that records each request's body."""

    def __init__(self, upstream: str) -> None:
        self._upstream = httpx.Client(base_url=upstream, timeout=FORWARD_TIMEOUT_SECONDS)
        self._lock = threading.Lock()
        self._recorded: list[Recorded] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="recording-proxy", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def recorded(self) -> list[Recorded]:
        with self._lock:
            return list(self._recorded)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._upstream.close()

    def _forward(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        with self._lock:
            self._recorded.append(
                Recorded(
                    method=handler.command,
                    path=handler.path.split("?", 1)[0],
                    project=handler.headers.get("X-Project-Id"),
                    body=json.loads(raw) if raw else None,
                )
            )
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        response = self._upstream.request(
            handler.command, handler.path, headers=headers, content=raw
        )
        handler.send_response(response.status_code)
        for key, value in response.headers.items():
            # httpx has already decoded the body, so its encoding header must not be passed on
            if key.lower() not in HOP_BY_HOP | {"server", "date", "content-encoding"}:
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(response.content)))
        handler.end_headers()
        handler.wfile.write(response.content)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy._forward(self)

            def do_POST(self) -> None:
                proxy._forward(self)

            def do_PUT(self) -> None:
                proxy._forward(self)

            def do_DELETE(self) -> None:
                proxy._forward(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output quiet; the recording is the log

        return Handler


def recorded_writes(proxy: RecordingProxy, since: int = 0) -> list[Recorded]:
    """The writes the proxy forwarded after its first `since` requests."""
    return [r for r in proxy.recorded()[since:] if r.method in {"POST", "PUT", "DELETE"}]


UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""How engine events spell a value a preview does not know yet."""

SOURCES = ["/aws/lambda/checkout-api"]


def log_source_program(**options: Any) -> Callable[[], None]:
    """One LogSource, `cli-source`, driven by stack config the way a user edits a program.

    Config (all optional): `kind` (cloudwatch, datadog, or loki with `secretA` as its host),
    `displayName`, `active` and `verify` (booleans), `projectId`. The credentials come from the
    secrets `secretA` and `secretB`. `options` become the resource's `ResourceOptions`.
    """

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        config = pulumi.Config()
        # Whichever type the config names, a plain str as an untyped program passes it: the
        # provider's check judges it, not the typed overloads.
        kind: Any = config.get("kind") or "cloudwatch"
        first, second = config.require_secret("secretA"), config.require_secret("secretB")
        credentials = {
            "cloudwatch": {"accessKeyId": first, "secretAccessKey": second},
            "datadog": {"apiKey": first, "appKey": second},
            "loki": {"host": first},
        }[kind]
        source = LogSource(
            "cli-source",
            type=kind,
            name=config.get("displayName") or "cli-source",
            credentials=credentials,
            sources=SOURCES,
            is_active=config.get_bool("active"),
            verify=config.get_bool("verify"),
            project_id=config.get("projectId"),
            opts=pulumi.ResourceOptions(**options),
        )
        pulumi.export("log_source_id", source.id)
        pulumi.export("credentials", source.credentials)

    return program


class EventLog:
    """Engine events of one operation, passed as ``on_event=log``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        with self._lock:
            self.events.append(event)

    def _metadata(self, kind: str) -> Iterator[Any]:
        with self._lock:
            events = list(self.events)
        for event in events:
            found = getattr(event, kind, None)
            if found is not None:
                yield found.metadata

    def planned(self, type_suffix: str = "sigsentry:LogSource") -> list[Any]:
        """The step metadata of every resource whose type ends with `type_suffix`."""
        return [m for m in self._metadata("resource_pre_event") if m.type.endswith(type_suffix)]

    def outputs(self, type_suffix: str = "sigsentry:LogSource") -> list[Any]:
        return [m for m in self._metadata("res_outputs_event") if m.type.endswith(type_suffix)]

    def diagnostics(self) -> list[str]:
        with self._lock:
            events = list(self.events)
        return [e.diagnostic_event.message for e in events if e.diagnostic_event is not None]


def op_name(metadata: Any) -> str:
    return str(getattr(metadata.op, "value", metadata.op))


def changed_keys(metadata: Any) -> set[str]:
    """The properties a step changes: the engine's detailed diff when present, else its diffs,
    else the difference between the step's old and new inputs (what `pulumi` itself prints)."""
    if metadata.detailed_diff:
        return {key.split(".", 1)[0].split("[", 1)[0] for key in metadata.detailed_diff}
    if metadata.diffs:
        return set(metadata.diffs)
    old = _inputs(metadata.old)
    new = _inputs(metadata.new)
    return {k for k in old.keys() | new.keys() if k != "__provider" and old.get(k) != new.get(k)}


def _inputs(state: Any) -> Mapping[str, Any]:
    inputs = getattr(state, "inputs", None)
    return inputs if isinstance(inputs, Mapping) else {}


def exported_deployment(pulumi_env: PulumiEnvironment, stack: Any) -> dict[str, Any]:
    """The stack's `deployment` as `pulumi stack export` prints it (secrets stay ciphertext)."""
    exported = pulumi_env.run(
        "stack", "export", "--stack", stack.name, cwd=Path(stack.workspace.work_dir), timeout=120
    )
    deployment: dict[str, Any] = json.loads(exported.stdout)["deployment"]
    return deployment


def exported_log_sources(pulumi_env: PulumiEnvironment, stack: Any) -> list[dict[str, Any]]:
    """The LogSources in the stack's state; an emptied stack's export has no `resources` key
    at all, which counts as none."""
    resources: list[dict[str, Any]] = exported_deployment(pulumi_env, stack).get("resources", [])
    return [r for r in resources if r["type"].endswith("sigsentry:LogSource")]
