"""Drive one real ``python -m pulumi.dynamic`` provider plugin process over gRPC.

For the provider tests, which need exact Check / Diff / Create / Read / Update / Delete calls and
their answers (the real-CLI tests in tests/cli show what the engine itself sends), and for the
benchmarks, which time the plugin's first calls (:attr:`ProviderPlugin.last_call_seconds`). The
driver does what the engine does with a Python dynamic provider: start the plugin in the program's
folder (directly, or through the CLI's ``pulumi-resource-pulumi-python`` launcher as the engine
does), read its port from the first stdout line, call ``GetPluginInfo`` if asked and
``Configure`` first, then ``Check`` / ``Diff`` / ``Create`` / ``Read`` / ``Update`` / ``Delete``
with values encoded by the SDK's own ``serialize_properties`` / ``deserialize_properties``. Plain
Python goes in and comes out.

What the driver does for its caller, as the engine does:

* strips every secret mark (the SDK's RPC wrappers) before sending, since the plugin answers
  ``acceptSecrets=False`` and a wrapped ``__provider`` would crash it;
* sends ``pulumi.output.Unknown`` values as the engine's unknown sentinel; the plugin decodes that
  sentinel back into ``pulumi.output.Unknown`` in ``Check`` and ``Diff`` and drops it (``None``) in
  ``Create`` / ``Update``;
* keeps draining the plugin's stdout and stderr in threads (a chatty provider would otherwise block
  on a full pipe) and keeps what it printed in :attr:`ProviderPlugin.output`, so tests can search it
  for leaked secrets.

Not implemented: ``Invoke``, ``CheckConfig``, ``DiffConfig``, ``Construct``, ``Call`` (the dynamic
provider plugin does not implement them either), cancellation, and per-call timeouts other than one
overall deadline per call.

The plugin is started through a tiny launcher that asks the kernel to kill it when its parent
dies (Linux ``PR_SET_PDEATHSIG``) and then ``exec``s the plugin, so a killed test run leaves no
orphan behind and no ``preexec_fn`` runs in a process whose gRPC threads are live. The kernel ties
that signal to the *thread* that started the process: call :meth:`ProviderPlugin.start` from a
thread that outlives the plugin (the main thread, typically).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tools.port_process import PortProcess

__all__ = [
    "CheckResponse",
    "DiffResponse",
    "PluginStartError",
    "ProviderCallError",
    "ProviderPlugin",
    "ReadResponse",
]

START_TIMEOUT_SECONDS: Final = 30.0
CALL_TIMEOUT_SECONDS: Final = 300.0
STOP_TIMEOUT_SECONDS: Final = 5.0


class PluginStartError(RuntimeError):
    """The plugin process exited or printed no port before the start-up deadline."""


class ProviderCallError(Exception):
    """A gRPC call to the plugin failed.

    ``code`` is the gRPC status, ``details`` everything the plugin sent back (for a provider
    exception, the plugin sends the whole Python traceback), ``message`` its last line: the
    provider's own exception message.
    """

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        self.method = method
        self.code = code
        self.details = details
        self.message = _last_line(details)
        super().__init__(f"{method} failed ({code.name}): {self.message}")


@dataclass(frozen=True)
class CheckResponse:
    """The checked inputs (``__provider`` included) and the failures as (property, reason)."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class DiffResponse:
    """``changes`` is ``None`` when the provider left the decision to the engine."""

    changes: bool | None
    replaces: tuple[str, ...] = ()
    delete_before_replace: bool = False
    stables: tuple[str, ...] = ()
    diffs: tuple[str, ...] = ()
    detailed: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadResponse:
    """``id`` is ``""`` when the resource is gone; ``inputs`` is ``None`` unless the provider
    returned some (``ReadResult.inputs``, how refresh records drift)."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None


class ProviderPlugin:
    """One ``python -m pulumi.dynamic`` process and a gRPC channel to it.

    ``cwd`` is the program's folder (the plugin imports pickled-by-reference providers from there
    and from its ``sys.path``); ``env`` is added to this process's environment for the plugin.
    ``launcher``, the CLI's ``pulumi-resource-pulumi-python``, starts the plugin as the engine
    does: in this Python's virtualenv (``PULUMI_RUNTIME_VIRTUALENV``), leading a process group of
    its own. Thread-safe once started: the plugin serves 4 calls at once, or
    `sigsentry:parallelism` once a `LogSource` call has configured it.
    """

    def __init__(
        self,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        launcher: Path | None = None,
    ) -> None:
        self._cwd = Path(cwd) if cwd is not None else Path.cwd()
        self._env = {**os.environ, **(env or {})}
        self._launcher = launcher
        if launcher is not None:
            self._env["PULUMI_RUNTIME_VIRTUALENV"] = sys.prefix
        self._process: PortProcess | None = None
        self._channel: grpc.Channel | None = None
        self._stub: Any = None
        self._printed: PortProcess | None = None  # kept after stop(), for `output`
        self._configured = False
        self.accept_secrets: bool | None = None
        self.supports_preview: bool | None = None
        self.last_call_seconds: float | None = None
        """The wall time of the last gRPC call alone (no encoding or decoding), for benchmarks."""

    # -- process ----------------------------------------------------------------------------

    def launch(self) -> ProviderPlugin:
        """Start the plugin process without waiting for it (``start`` then connects).

        Lets a caller overlap the plugin's start-up (about 0.3 s of imports) with other work.
        """
        if self._process is not None:
            raise RuntimeError("this plugin is already started; create a new ProviderPlugin")
        argv = (
            [str(self._launcher)]
            if self._launcher is not None
            else [sys.executable, "-u", "-m", "pulumi.dynamic"]
        )
        self._process = self._printed = PortProcess(
            argv,
            cwd=self._cwd,
            env=self._env,
            name="pulumi-dynamic-plugin-reader",
            new_session=self._launcher is not None,
        )
        return self

    def start(self) -> ProviderPlugin:
        """Start the plugin (unless ``launch`` did) and connect to it; returns ``self``."""
        if self._stub is not None:
            raise RuntimeError("this plugin is already started; create a new ProviderPlugin")
        if self._process is None:
            self.launch()
        try:
            self._connect()
        except BaseException:
            self.stop()
            raise
        return self

    def _connect(self) -> None:
        assert self._process is not None
        port = self._process.wait_port(START_TIMEOUT_SECONDS)
        if port is None:
            raise PluginStartError(
                "the pulumi.dynamic plugin printed no port; it said:\n" + self.output[-4000:]
            )
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_SECONDS)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def stop(self) -> None:
        """End the plugin process and close the channel (idempotent)."""
        process, self._process = self._process, None
        if process is not None:
            process.stop(signal.SIGTERM, STOP_TIMEOUT_SECONDS)
        # Closing the channel after the server is gone is immediate; before, it takes 0.2 s.
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None

    def __enter__(self) -> ProviderPlugin:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The plugin's process id while it runs (the launcher ``exec``s into it)."""
        return self._process.pid if self._process is not None else None

    @property
    def output(self) -> str:
        """Everything the plugin printed so far, stdout and stderr (the port line excluded)."""
        return self._printed.output() if self._printed is not None else ""

    # -- provider protocol ------------------------------------------------------------------

    def plugin_info(self) -> str:
        """``GetPluginInfo``, which the engine sends before ``Configure``: the plugin's version."""
        from google.protobuf import empty_pb2

        return str(self._call("GetPluginInfo", empty_pb2.Empty()).version)

    def configure(self, config: Mapping[str, str]) -> None:
        """Send the stack config (namespaced keys, e.g. ``sigsentry:apiKey``); must come first."""
        plain = {key: str(value) for key, value in config.items()}
        request = provider_pb2.ConfigureRequest(
            variables=plain,
            args=_encode(plain),
            acceptSecrets=True,
            acceptResources=True,
        )
        response = self._call("Configure", request)
        self.accept_secrets = bool(response.acceptSecrets)
        self.supports_preview = bool(response.supportsPreview)
        self._configured = True

    def check(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> CheckResponse:
        request = provider_pb2.CheckRequest(urn=urn, olds=_encode(olds), news=_encode(news))
        response = self._call("Check", request)
        failures = [(failure.property, failure.reason) for failure in response.failures]
        return CheckResponse(inputs=_decode(response.inputs), failures=failures)

    def diff(
        self,
        id: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
    ) -> DiffResponse:
        request = provider_pb2.DiffRequest(
            id=id,
            urn=urn,
            olds=_encode(olds),
            news=_encode(news),
            old_inputs=_encode(old_inputs or {}),
        )
        response = self._call("Diff", request)
        changes = {
            provider_pb2.DiffResponse.DIFF_SOME: True,
            provider_pb2.DiffResponse.DIFF_NONE: False,
        }.get(response.changes)
        return DiffResponse(
            changes=changes,
            replaces=tuple(response.replaces),
            delete_before_replace=bool(response.deleteBeforeReplace),
            stables=tuple(response.stables),
            diffs=tuple(response.diffs),
            detailed={
                key: provider_pb2.PropertyDiff.Kind.Name(value.kind)
                for key, value in response.detailedDiff.items()
            },
        )

    def create(
        self, urn: str, properties: Mapping[str, Any], *, preview: bool = False
    ) -> tuple[str, dict[str, Any]]:
        request = provider_pb2.CreateRequest(
            urn=urn, properties=_encode(properties), preview=preview
        )
        response = self._call("Create", request)
        return response.id, _decode(response.properties)

    def read(
        self,
        id: str,
        urn: str,
        properties: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> ReadResponse:
        request = provider_pb2.ReadRequest(
            id=id,
            urn=urn,
            properties=_encode(properties) if properties is not None else None,
            inputs=_encode(inputs) if inputs is not None else None,
        )
        response = self._call("Read", request)
        return ReadResponse(
            id=response.id,
            outputs=_decode(response.properties),
            inputs=_decode(response.inputs) if response.HasField("inputs") else None,
        )

    def update(
        self,
        id: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        preview: bool = False,
        old_inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        request = provider_pb2.UpdateRequest(
            id=id,
            urn=urn,
            olds=_encode(olds),
            news=_encode(news),
            preview=preview,
            old_inputs=_encode(old_inputs or {}),
        )
        return _decode(self._call("Update", request).properties)

    def delete(
        self,
        id: str,
        urn: str,
        properties: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
    ) -> None:
        request = provider_pb2.DeleteRequest(
            id=id, urn=urn, properties=_encode(properties), old_inputs=_encode(old_inputs or {})
        )
        self._call("Delete", request)

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise RuntimeError("the plugin is not running: call start() (or use `with`) first")
        if method not in ("GetPluginInfo", "Configure") and not self._configured:
            raise RuntimeError(
                f"{method} before Configure: the plugin configures each provider once, on first "
                "use, so call configure() first (with an empty mapping if there is no config)"
            )
        started = time.perf_counter()
        try:
            return getattr(self._stub, method)(request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            raise ProviderCallError(method, error.code(), error.details() or "") from None
        finally:
            self.last_call_seconds = time.perf_counter() - started


def _encode(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    return _serialize(_reveal(dict(properties)))


def _decode(struct: struct_pb2.Struct) -> dict[str, Any]:
    decoded = rpc.deserialize_properties(struct, keep_unknowns=True)
    return dict(_reveal(decoded))


def _last_line(details: str) -> str:
    lines = [line.strip() for line in details.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _reveal(value: Any) -> Any:
    """``value`` with every SDK secret wrapper removed, recursively: what the plugin receives."""
    if rpc.is_rpc_secret(value):
        return _reveal(rpc.unwrap_rpc_secret(value))
    if isinstance(value, Mapping):
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(item) for item in value]
    return value


def _serialize(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    """``properties`` through the SDK's ``serialize_properties``, on a private event loop.

    ``serialize_properties`` is a coroutine; a private loop keeps it away from any running loop.
    """
    loop = asyncio.new_event_loop()
    try:
        struct: struct_pb2.Struct = loop.run_until_complete(
            rpc.serialize_properties(dict(properties), {})
        )
    finally:
        loop.close()
    return struct
