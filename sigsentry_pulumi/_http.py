"""The HTTP layer below the client: the `User-Agent`, header-value checks, the pool of a client.

`HTTPPool` makes one `httpx.Client` on first use (again after a fork: a child must not share
its parent's sockets), whose requests are each held to their timeout as a whole
(`_deadline.DeadlineClient`). The plugin process shares one pool among all its clients
(`_runtime.shared_http_client`); a client made by a script has its own. This module knows
nothing of the client or the provider above it, so both import it and neither has to import
the other for it.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
from typing import TYPE_CHECKING

from ._errors import ConfigurationError
from ._version import __version__

# httpx is imported with the first client: `check_header_value` runs on the provider plugin's
# first call, a preview's Check included, which sends no request.
if TYPE_CHECKING:
    import httpx

__all__ = ["USER_AGENT", "HTTPPool", "check_header_value"]

USER_AGENT = f"sigsentry-pulumi/{__version__}"

# Printable ASCII and tab: what an HTTP header value may hold (no CR, LF, NUL, no non-ASCII).
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


class HTTPPool:
    """One `httpx.Client` (connection pool, TLS context), made on first use and after a fork."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._pid: int | None = None

    def client(self) -> httpx.Client:
        from ._deadline import DeadlineClient

        with self._lock:
            if self._http is None or self._pid != os.getpid():
                self._http = DeadlineClient(
                    headers={"User-Agent": USER_AGENT}, follow_redirects=False
                )
                self._pid = os.getpid()
                atexit.register(self._http.close)  # close pooled sockets cleanly at exit
            return self._http


def check_header_value(value: str, setting: str) -> None:
    """Refuse a value that cannot be sent in an HTTP header, without echoing it.

    httpx would refuse it too, but its message shows the whole header in escaped form, which
    exact-string redaction cannot find. `setting` names where the value came from.
    """
    if not _HEADER_VALUE.fullmatch(value):
        raise ConfigurationError(
            f"{setting} holds a character an HTTP header cannot carry (a line break, NUL or "
            "other control character, or a non-ASCII letter); set it again without it"
        )
