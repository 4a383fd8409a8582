"""The dynamic-provider plugin started as the engine starts it, and the engine's first calls.

The engine (the Pulumi CLI) runs `pulumi-resource-pulumi-python`, the launcher next to its
`pulumi` binary, which `exec`s `python -u -m pulumi.dynamic` in the virtualenv named by
`PULUMI_RUNTIME_VIRTUALENV`; it reads the gRPC port from the plugin's first stdout line, calls
`GetPluginInfo` and `Configure`, then `Check` and `Diff` for each resource of a preview. This
module does the same with the SDK's own protobuf stubs, so the benchmark times exactly those
calls. Only what the benchmarks need: plain values (no secrets, no unknowns), no error decoding.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

START_TIMEOUT: Final = 60.0
CALL_TIMEOUT: Final = 60.0


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


class EnginePlugin:
    """One plugin process, started through the CLI's launcher, and a gRPC channel to it."""

    def __init__(self, launcher: Path, *, cwd: Path, env: Mapping[str, str]) -> None:
        self._process = subprocess.Popen(
            [str(launcher)],
            cwd=cwd,
            env={**env, "PULUMI_RUNTIME_VIRTUALENV": sys.prefix},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # the engine gives each plugin its own process group
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        self.output: list[str] = []
        port = self._process.stdout.readline().decode().strip()
        self._drain(self._process.stdout)
        self._drain(self._process.stderr)
        if not port.isdigit():
            self.stop()
            raise RuntimeError(f"the plugin printed no port: {port!r} {''.join(self.output)}")
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT)
        self._stub: Any = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def _drain(self, stream: IO[bytes]) -> None:
        def read() -> None:
            for line in iter(stream.readline, b""):
                self.output.append(line.decode(errors="replace"))

        threading.Thread(target=read, daemon=True).start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def peak_rss_kib(self) -> int:
        """The process's resident-set high-water mark so far (VmHWM), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc: Linux only")

    def handshake(self, config: Mapping[str, str]) -> None:
        """`GetPluginInfo` then `Configure` with the stack config, as the engine begins."""
        self._stub.GetPluginInfo(_empty(), timeout=CALL_TIMEOUT)
        request = provider_pb2.ConfigureRequest(
            variables=dict(config), args=_struct(config), acceptSecrets=True, acceptResources=True
        )
        self._stub.Configure(request, timeout=CALL_TIMEOUT)

    def check(self, urn: str, news: Mapping[str, Any]) -> float:
        """One `Check` of a new resource; returns its wall time in seconds."""
        request = provider_pb2.CheckRequest(urn=urn, olds=_struct({}), news=_struct(news))
        started = time.perf_counter()
        response = self._stub.Check(request, timeout=CALL_TIMEOUT)
        elapsed = time.perf_counter() - started
        if response.failures:
            raise RuntimeError(f"Check failed: {list(response.failures)}")
        return elapsed

    def diff(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> float:
        """One `Diff` of a resource against its old outputs; returns its wall time in seconds."""
        request = provider_pb2.DiffRequest(
            id="ls_bench", urn=urn, olds=_struct(olds), news=_struct(news), old_inputs=_struct(news)
        )
        started = time.perf_counter()
        self._stub.Diff(request, timeout=CALL_TIMEOUT)
        return time.perf_counter() - started

    def stop(self) -> None:
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        if hasattr(self, "_channel"):
            self._channel.close()

    def __enter__(self) -> EnginePlugin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _empty() -> Any:
    from google.protobuf import empty_pb2

    return empty_pb2.Empty()
