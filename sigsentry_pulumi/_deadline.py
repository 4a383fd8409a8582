"""`sigsentry:timeout` as a deadline for each whole attempt, from connect to the last byte.

httpx applies its timeout to each socket operation: a server that sends one byte every few
seconds never lets one read time out, and holds a request for as long as it likes. So the
shared `httpx.Client` connects through `DeadlineBackend`, whose sockets give each connect, TLS
handshake, read and write the smaller of its own timeout and the time left before the deadline
`attempt_deadline` set for the calling thread, and raise a timeout once it has passed.

Sync httpx does all of a request's I/O on the thread that calls it (no thread of its own), and
`SigSentryClient` reads every answer whole inside the call, so a per-thread deadline set around
the call covers every byte of the attempt, and threads of one process never share one. Outside
`attempt_deadline` the sockets behave as httpx's own.

httpx takes no network backend, so `use_deadline_backend` gives one to the httpcore pools of a
client it has made (its default transport and the proxy transports it mounts from the
environment, which a transport passed to `httpx.Client` would turn off): that reaches two
private attributes, `HTTPTransport._pool` and `ConnectionPool._network_backend` (httpx 0.27 to
0.29, httpcore 1.0). The client and real-CLI tests of a trickling server fail if either moves.
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

__all__ = ["DeadlineBackend", "attempt_deadline", "use_deadline_backend"]

_local = threading.local()


@contextmanager
def attempt_deadline(seconds: float) -> Iterator[None]:
    """Every socket operation of this thread inside the block ends `seconds` from now at latest."""
    previous: float | None = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


def _clamp(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """`timeout`, shortened to the time left before this thread's deadline, if it has one."""
    deadline: float | None = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the attempt's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # one clamp for the whole buffer: a request body here is a few kilobytes at most,
        # which the socket's send buffer takes at once
        self._stream.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        clamped = _clamp(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, clamped))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, each operation held to the calling thread's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        clamped = _clamp(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, clamped, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        clamped = _clamp(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, clamped, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def use_deadline_backend(client: httpx.Client) -> None:
    """Make every httpcore pool of `client` connect through `DeadlineBackend`.

    Called on a client just made, before it has opened a connection.
    """
    mounted = getattr(client, "_mounts", {}).values()
    for transport in (getattr(client, "_transport", None), *mounted):
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(pool, httpcore.ConnectionPool) and backend is not None:
            pool._network_backend = DeadlineBackend(backend)
