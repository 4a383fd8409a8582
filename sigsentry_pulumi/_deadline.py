"""`sigsentry:timeout` as a deadline for each whole attempt, from connect to the last byte.

httpx applies its timeout to each socket operation: a server that sends one byte every few
seconds never lets one read time out, and holds a request for as long as it likes. So
`DeadlineClient`, the `httpx.Client` the SigSentry clients send through, makes its request's
timeout the deadline of the whole exchange: its pools connect through `DeadlineBackend`, whose
sockets give each connect, TLS handshake, read and write the smaller of its own timeout and the
time left before the deadline `send` set for the calling thread, and raise a timeout once it
has passed.

Sync httpx does all of a request's I/O on the thread that calls it (no thread of its own), and
`send` reads a response whole unless it is streamed (`SigSentryClient` never streams), so a
per-thread deadline set around it covers every byte of the attempt, and threads of one process
never share one. Each `DeadlineClient` keeps its own per-thread deadlines (`Deadline`).

httpx takes no network backend, so `DeadlineClient` gives one to the httpcore pools it has
made (its default transport and the proxy transports it mounts from the environment, which a
transport passed to `httpx.Client` would turn off): that reaches two private attributes,
`HTTPTransport._pool` and `ConnectionPool._network_backend` (httpx 0.27 to 0.29, httpcore 1.0).
The client and real-CLI tests of a trickling server fail if either moves.
"""

from __future__ import annotations

import ssl
import threading
import time
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

__all__ = ["Deadline", "DeadlineBackend", "DeadlineClient"]


class Deadline(threading.local):
    """When the calling thread's attempt must end (`at`, a `time.monotonic()` value), if any."""

    at: float | None = None

    @contextmanager
    def until(self, seconds: float) -> Iterator[None]:
        """Every socket operation of this thread inside the block ends `seconds` from now."""
        previous = self.at
        self.at = time.monotonic() + seconds
        try:
            yield
        finally:
            self.at = previous

    def clamp(
        self, timeout: float | None, expired: type[httpcore.TimeoutException]
    ) -> float | None:
        """`timeout`, shortened to the time left before this thread's deadline, if it has one."""
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise expired("the attempt's deadline has passed")
        return left if timeout is None else min(timeout, left)


class DeadlineClient(httpx.Client):
    """An `httpx.Client` whose every request ends within its timeout, however slow the server."""

    def __init__(self, **kwargs: typing.Any) -> None:
        super().__init__(**kwargs)
        self._deadline = Deadline()
        mounted = getattr(self, "_mounts", {}).values()
        for transport in (getattr(self, "_transport", None), *mounted):
            pool = getattr(transport, "_pool", None)
            backend = getattr(pool, "_network_backend", None)
            if isinstance(pool, httpcore.ConnectionPool) and backend is not None:
                pool._network_backend = DeadlineBackend(self._deadline, backend)

    def send(self, request: httpx.Request, **kwargs: typing.Any) -> httpx.Response:
        # The request's timeout (`sigsentry:timeout` for a SigSentry client) is the deadline
        # of the whole exchange; a request with none has no deadline.
        timeouts = request.extensions.get("timeout", {})
        seconds = max((t for t in timeouts.values() if t is not None), default=None)
        if seconds is None:
            return super().send(request, **kwargs)
        with self._deadline.until(seconds):
            return super().send(request, **kwargs)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # one clamp for the whole buffer: a request body here is a few kilobytes at most,
        # which the socket's send buffer takes at once
        self._stream.write(buffer, self._deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        clamped = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        tls = self._stream.start_tls(ssl_context, server_hostname, clamped)
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, each operation held to the calling thread's deadline."""

    def __init__(self, deadline: Deadline, inner: httpcore.NetworkBackend | None = None) -> None:
        self._deadline = deadline
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        clamped = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, clamped, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        clamped = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_unix_socket(path, clamped, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
