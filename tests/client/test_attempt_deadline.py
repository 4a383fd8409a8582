"""`sigsentry:timeout` bounds each whole attempt, however slowly the server answers: a real
loopback server that sends one byte at a time, slower than the timeout as a whole but never
slow enough for one socket read to time out."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from client.fakes import API_KEY
from sigsentry_pulumi import APITimeoutError, SigSentryClient
from sigsentry_pulumi._deadline import Deadline

BODY = b'{"success": true, "data": [], "nextCursor": null}'
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(
    BODY
)


class TrickleServer:
    """Answers every request with `HEAD` + `BODY`; the part chosen trickles a byte per `gap`."""

    def __init__(self, gap: float, trickle: str) -> None:
        self.gap = gap
        self.trickle = trickle  # "body", "head" or "none"
        self.accepted = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # accept() wakes up to see `close`
        self._threads: list[threading.Thread] = []
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> None:
        self._spawn(self._accept)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()
        assert not any(t.is_alive() for t in self._threads), "a server thread was left running"

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            connection.settimeout(None)
            self.accepted += 1
            self._spawn(self._answer, connection)

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)  # the request: small, sent at once
            fast, slow = {"body": (HEAD, BODY), "head": (b"", HEAD + BODY)}.get(
                self.trickle, (HEAD + BODY, b"")
            )
            try:
                connection.sendall(fast)
                for byte in slow:
                    if self._stop.wait(self.gap):
                        return
                    connection.sendall(bytes([byte]))
            except OSError:
                return  # the client gave up and closed the connection


@contextmanager
def trickle_server(gap: float, trickle: str) -> Iterator[TrickleServer]:
    server = TrickleServer(gap, trickle)
    server.start()
    try:
        yield server
    finally:
        server.close()


def client(url: str, timeout: float, max_retries: int = 0) -> SigSentryClient:
    # no transport given: the client's own pool, whose sockets keep to the attempt's deadline
    return SigSentryClient(API_KEY, base_url=url, timeout=timeout, max_retries=max_retries)


@pytest.mark.parametrize("trickle", ["body", "head"])
def test_an_answer_trickled_slower_than_the_timeout_fails_when_the_timeout_is_up(
    trickle: str,
) -> None:
    # each byte comes 0.2 s after the last, well inside a 1 s read timeout; the whole answer
    # would take 10 s (body) or 25 s (head and body)
    with trickle_server(0.2, trickle) as server:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            client(server.url, timeout=1).list_log_sources()
        took = time.monotonic() - started
    assert 0.9 < took < 2.0
    message = str(caught.value)
    assert "timed out after 1 attempt(s): the last took longer than `sigsentry:timeout`" in message
    assert "(1 s, from connecting to the last byte of the answer)" in message
    assert "pulumi config set sigsentry:timeout 60" in message


def test_each_retry_gets_its_own_deadline() -> None:
    with trickle_server(0.2, "body") as server:
        slow = SigSentryClient(
            API_KEY, base_url=server.url, timeout=1, max_retries=1, jitter=lambda: 0.0
        )
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match=r"after 2 attempt\(s\)"):
            slow.list_log_sources()
        took = time.monotonic() - started
        assert server.accepted == 2
    assert 1.9 < took < 3.5


def test_an_answer_that_arrives_in_time_is_read_whole() -> None:
    with trickle_server(0.01, "body") as server:  # about 0.5 s in all, inside 5 s
        page = client(server.url, timeout=5).list_log_sources()
    assert page.data == [] and page.next_cursor is None


def test_the_deadline_is_the_calling_threads_alone_and_ends_with_the_attempt() -> None:
    deadline = Deadline()
    seen: list[float | None] = []
    with deadline.until(0.5):
        other = threading.Thread(target=lambda: seen.append(deadline.at))
        other.start()
        other.join()
        assert deadline.at is not None
    assert seen == [None]
    assert deadline.at is None
