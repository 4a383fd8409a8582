"""The HTTP layer below the client: the `User-Agent`, header-value checks, the shared client.

Every `SigSentryClient` of a process that is not given its own transport sends through the one
`httpx.Client` made here (one connection pool, one TLS context), created on first use and made
again after a fork; its sockets hold each attempt to its deadline (`_deadline`). This module
knows nothing of the client or the provider above it, so both import it and neither has to
import the other for it.
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

__all__ = ["USER_AGENT", "check_header_value", "shared_http_client"]

USER_AGENT = f"sigsentry-pulumi/{__version__}"

# Printable ASCII and tab: what an HTTP header value may hold (no CR, LF, NUL, no non-ASCII).
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")

_lock = threading.Lock()
_http: httpx.Client | None = None
_http_pid: int | None = None


def shared_http_client() -> httpx.Client:
    """The process's one HTTP client (connection pool, TLS context), created on first use."""
    global _http, _http_pid
    import httpx

    from ._deadline import use_deadline_backend

    with _lock:
        if _http is None or _http_pid != os.getpid():
            # a forked child must not share the parent's sockets
            _http = httpx.Client(headers={"User-Agent": USER_AGENT}, follow_redirects=False)
            use_deadline_backend(_http)  # sigsentry:timeout bounds each whole attempt
            _http_pid = os.getpid()
            atexit.register(_http.close)  # close pooled sockets cleanly at interpreter exit
        return _http


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
