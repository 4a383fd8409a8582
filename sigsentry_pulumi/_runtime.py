"""Process-wide state, kept here and never on a provider object (which is pickled into state).

One plugin process serves every LogSource of a deployment from up to four gRPC threads. They
share, through this module:

* one `httpx.Client`, created on first use (a new one after a fork), which lives in `_http`
  below the client and is re-exported here;
* the settings the provider's `configure` read, and one `SigSentryClient` per distinct
  settings (so a 429 pauses every thread using that key);
* the single-flight list walk that lets a refresh of N sources cost about ceil(N/500) list
  requests instead of one walk per source;
* the ids of sources that existed before a create of this process returned them (SigSentry's
  replay of a source that still exists, or an adoption: `remember_existing`,
  `forget_existing`): a forced replacement whose create body is unchanged, or that adopts
  again, gets the very source it replaces, and the Delete that ends the replacement, in the
  same process, must not delete it.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from ._config import ClientSettings, ConfigGetter, resolve_settings
from ._constants import CONFIG_API_KEY, CONFIG_PROJECT_ID, ENV_PROJECT_ID
from ._errors import ConfigurationError
from ._http import USER_AGENT, check_header_value, shared_http_client
from ._listing import SharedListing

# `configure_provider` runs on the plugin's first call, a preview's Check included: the client
# (and with it httpx and pydantic) is imported by the first call that needs one.
if TYPE_CHECKING:
    from ._client import SigSentryClient

__all__ = [
    "USER_AGENT",
    "client_for",
    "configure_provider",
    "existed_before",
    "forget_existing",
    "listing",
    "provider_client",
    "provider_project_id",
    "provider_settings",
    "remember_existing",
    "reset",
    "shared_http_client",
]

_lock = threading.Lock()
_provider_settings: ClientSettings | None = None
_provider_error: ConfigurationError | None = None
_provider_project: str | None = None
_configured = False
_clients: dict[ClientSettings, SigSentryClient] = {}
_existing: dict[str, str] = {}

listing = SharedListing()
"""The shared list walk; writes made through the provider invalidate it."""


def configure_provider(config: ConfigGetter) -> None:
    """Resolve and record the provider's settings from stack config (and the environment).

    A bad or missing setting is recorded, not raised: `check` and `diff` work offline without
    an API key, and the first call that needs the API raises the recorded error. An API key or
    project id that cannot go in an HTTP header is such an error; its message does not echo it.
    """
    global _provider_settings, _provider_error, _provider_project, _configured
    try:
        settings: ClientSettings | None = resolve_settings(config)
        error: ConfigurationError | None = None
        if settings is not None:
            check_header_value(settings.api_key, f"The API key ({CONFIG_API_KEY})")
            if settings.project_id:
                check_header_value(settings.project_id, CONFIG_PROJECT_ID)
    except ConfigurationError as problem:
        settings, error = None, problem
    project = settings.project_id if settings else _project_only(config)
    with _lock:
        _provider_settings, _provider_error = settings, error
        _provider_project, _configured = project, True


def provider_settings() -> ClientSettings:
    """The configured settings; without a `configure` call, the environment's (or an error)."""
    with _lock:
        settings, error, configured = _provider_settings, _provider_error, _configured
    if error is not None:
        raise error
    return settings if settings is not None and configured else resolve_settings(None)


def provider_project_id() -> str | None:
    """The project `sigsentry:projectId` (or SIGSENTRY_PROJECT_ID) names, if any."""
    with _lock:
        if _configured:
            return _provider_project
    return _project_only(None)


def _project_only(config: ConfigGetter | None) -> str | None:
    value = config(CONFIG_PROJECT_ID) if config else None
    if not isinstance(value, str) or not value.strip():
        value = os.environ.get(ENV_PROJECT_ID, "")
    return value.strip() or None


def client_for(settings: ClientSettings) -> SigSentryClient:
    """The process's client for `settings`, shared by every thread that uses them.

    Its retries and waits print one line each to stderr, which the Pulumi CLI shows the user
    (a dynamic provider has no engine connection to log through).
    """
    from ._client import SigSentryClient, print_progress

    with _lock:
        client = _clients.get(settings)
        if client is None:
            client = SigSentryClient.from_settings(settings, notify=print_progress)
            _clients[settings] = client
    return client


def provider_client() -> SigSentryClient:
    return client_for(provider_settings())


def remember_existing(log_source_id: str, how: str) -> None:
    """Record that a create of this process returned `log_source_id`, a source that existed
    before it; `how` says how it got it (for the line a Delete of it prints)."""
    with _lock:
        _existing[log_source_id] = how


def existed_before(log_source_id: str) -> bool:
    """Whether a create of this process got `log_source_id`, an existing source, back."""
    with _lock:
        return log_source_id in _existing


def forget_existing(log_source_id: str) -> str | None:
    """How a create of this process got `log_source_id`, an existing source; forget it.

    The engine ends a create-before-delete replacement with a Delete of the old id in the same
    process. When that id is the one the replacement's create returned (a replay, an adoption),
    the old and the new resource are one source, and deleting it would leave the stack
    pointing at nothing. None when no create of this process returned it.
    """
    with _lock:
        return _existing.pop(log_source_id, None)


def reset() -> None:
    """Forget settings, clients, replayed ids and the list walk (tests start from nothing)."""
    global _provider_settings, _provider_error, _provider_project, _configured
    with _lock:
        _provider_settings, _provider_error, _provider_project = None, None, None
        _configured = False
        _clients.clear()
        _existing.clear()
    listing.invalidate()
