"""A child process that prints its gRPC port first, as Pulumi plugins and policy packs do.

The child is started through a tiny launcher that asks the kernel to kill it when the thread that
started it dies (Linux ``PR_SET_PDEATHSIG``) and then ``exec``s the real command, so a killed test
run leaves no orphan behind and no ``preexec_fn`` runs in a process whose gRPC threads are live.
The kernel ties that signal to the *thread*, not the process: start children from a thread that
outlives them. Because the launcher ``exec``s, the launcher's pid is the child's pid.

Stdout and stderr are drained by threads for the child's whole life (a chatty child would
otherwise block on a full pipe): the first stdout line is the port, every other line is kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Final

# Runs in the child before the command: ask for SIGKILL when the parent thread dies, give up if the
# parent is already gone (the race between fork and prctl), then become the command.
_LAUNCHER: Final = """\
import os, signal, sys
if sys.platform.startswith("linux"):
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
if os.getppid() != int(sys.argv[1]):
    os._exit(1)
os.execv(sys.argv[2], sys.argv[2:])
"""


class PortProcess:
    """``argv`` run in ``cwd`` with exactly ``env``, dying with its parent, its output drained.

    ``max_lines`` bounds how many output lines are kept (the most recent); ``None`` keeps all.
    ``new_session`` makes the child lead a process group (and session) of its own, as the engine
    starts plugins.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        name: str,
        max_lines: int | None = None,
        new_session: bool = False,
    ) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._lines_lock = threading.Lock()
        self._port: str | None = None
        self._port_seen = threading.Event()
        self._process = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, str(os.getpid()), *argv],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=new_session,
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        self._readers = [
            self._drain(self._process.stdout, watch_port=True, name=name),
            self._drain(self._process.stderr, watch_port=False, name=name),
        ]

    @property
    def pid(self) -> int:
        return self._process.pid

    def wait_port(self, timeout: float) -> str | None:
        """The port printed as the first stdout line, or ``None`` when the child printed no
        number first (it exited, or said something else) or nothing within ``timeout`` seconds."""
        self._port_seen.wait(timeout)
        port = self._port
        return port if port is not None and port.isdigit() else None

    def output(self, last: int | None = None) -> str:
        """What the child printed so far (the port line excluded), or its ``last`` lines."""
        with self._lines_lock:
            lines = list(self._lines)
        return "".join(lines if last is None else lines[-last:])

    def stop(self, stop_signal: signal.Signals, timeout: float) -> None:
        """Send ``stop_signal``, SIGKILL after ``timeout`` seconds, then let the readers finish.

        Idempotent; a child that already exited is only reaped.
        """
        if self._process.poll() is None:
            self._process.send_signal(stop_signal)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for reader in self._readers:
            reader.join(timeout)

    def _drain(self, stream: IO[bytes], *, watch_port: bool, name: str) -> threading.Thread:
        def read() -> None:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace")
                if watch_port and self._port is None:
                    self._port = line.strip()
                    self._port_seen.set()
                    continue
                with self._lines_lock:
                    self._lines.append(line)
            stream.close()
            self._port_seen.set()  # end of stream: wake a waiting wait_port() either way

        thread = threading.Thread(target=read, name=name, daemon=True)
        thread.start()
        return thread
