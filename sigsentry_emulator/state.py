"""`EmulatorState`: what the HTTP layer (`app`, `admin`) shares with the CLI and tests.

It sits below both route modules, so that `app` (which adds the admin routes) and `admin` (which
reads the state) each import it and not each other.
"""

from __future__ import annotations

from collections.abc import Callable

from .backend import Backend
from .faults import FaultInjector
from .requestlog import RequestLog

__all__ = ["ConnectionDropper", "EmulatorState"]

ConnectionDropper = Callable[[tuple[str, int]], bool]


class EmulatorState:
    """What the app shares with the CLI and tests: the backend, faults, log, admin token."""

    def __init__(
        self,
        backend: Backend,
        *,
        admin_token: str | None = None,
        faults: FaultInjector | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        self.backend = backend
        self.admin_token = admin_token
        self.faults = faults or FaultInjector()
        self.request_log = request_log or RequestLog()
        # the tenant admin-minted keys join when the request names none (the seeded one)
        self.default_tenant: str | None = None
        # set by the server runner: closes a client's connection without an answer
        self.drop_connection: ConnectionDropper | None = None

    def __repr__(self) -> str:
        return f"EmulatorState(admin={'on' if self.admin_token else 'off'})"
