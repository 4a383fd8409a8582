"""Everything the plugin process keeps between calls; the provider object holds none of it.

The provider object is pickled into the stack's state, so a client, a lock or a key on it would
be frozen there (httpx clients cannot be pickled at all). One plugin process serves every
LogSource of a deployment from up to `sigsentry:parallelism` gRPC threads at once. They share,
through this module:

* one `Account` per config namespace: the default one, `sigsentry:` (with the `SIGSENTRY_*`
  environment variables as fallbacks), and each named one a resource asks for
  (`account="tenantb"` reads `tenantb:` and never the environment). An account holds its
  settings or what is wrong with them, its project, its client (one `SigSentryClient` per
  distinct settings, so a 429 pauses every thread using that key), and, for the default
  account, whether `sigsentry:validate` has proven the settings with its one list request;
* one `httpx.Client` (`shared_http_client`), made on first use and again after a fork, which
  every account's client sends through;
* the single-flight list walk that lets a refresh of N sources cost about ceil(N/500) list
  requests instead of one walk per source;
* the ids of sources that existed before a create of this process returned them (SigSentry's
  replay of a source that still exists, or an adoption: `remember_existing`,
  `forget_existing`): a forced replacement whose create body is unchanged, or that adopts
  again, gets the very source it replaces, and the Delete that ends the replacement, in the
  same process, must not delete it;
* the adopt ids `check` has seen claimed in this deployment (`adopters`), and the limit on
  refresh test calls at once (`refresh_tests`).

`configure` records the stack config (the plugin's Configure call) and lets the plugin serve
`sigsentry:parallelism` calls at once (`_workers`); `reset` forgets everything (tests use it to
start from nothing, or to play a new process).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ._accounts import account_of, validate_name
from ._config import (
    CONFIG_VALIDATE,
    ClientSettings,
    ConfigGetter,
    read_parallelism,
    read_validate,
    resolve_settings,
)
from ._constants import CONFIG_PROJECT_ID, ENV_PROJECT_ID
from ._errors import ConfigurationError, SigSentryError
from ._http import HTTPPool, check_header_value
from ._listing import SharedListing
from ._workers import widen_worker_pool

# `configure` runs on the plugin's first call, a preview's Check included: the client (and with
# it httpx and pydantic) is imported by the first call that needs one.
if TYPE_CHECKING:
    import httpx

    from ._client import SigSentryClient

__all__ = [
    "MAX_REFRESH_TESTS",
    "Account",
    "account",
    "adopters",
    "configure",
    "existed_before",
    "forget_existing",
    "listing",
    "refresh_tests",
    "remember_existing",
    "reset",
    "shared_http_client",
]

MAX_REFRESH_TESTS: Final = 3
"""Test calls one refresh runs at once in a process (`verify=True` sources)."""

# One lock for every table below. It is held only to read or write them, never across a
# request: the one slow thing, `sigsentry:validate`'s list request, is serialised by its
# account's own lock instead, so other threads' lookups never wait for the network.
_lock = threading.Lock()
_config: ConfigGetter | None = None
"""The stack config's getter once `configure` has run (None before: the environment only)."""
_process_fault: str | None = None
"""What is wrong with a process-wide setting (`sigsentry:parallelism`): every account's check
reports it, since no account's settings would fix it."""
_accounts: dict[str | None, Account] = {}
"""Accounts resolved in this process, by name (None: the default account)."""
_clients: dict[ClientSettings, SigSentryClient] = {}
_existing: dict[str, str] = {}
_http = HTTPPool()

adopters: dict[str, str] = {}
"""adopt id -> the resource identity claiming it, in this deployment (`check`)."""
refresh_tests = threading.BoundedSemaphore(MAX_REFRESH_TESTS)
listing = SharedListing()
"""The shared list walk; writes made through the provider invalidate it."""


class Account:
    """One config namespace's settings, or what is wrong with them, and what the process keeps
    for it: its project and client, and for the default account the `sigsentry:validate` proof.
    """

    def __init__(
        self,
        settings: ClientSettings | ConfigurationError,
        project_id: str | None,
        *,
        fault: str | None = None,
        validate: bool = False,
    ) -> None:
        self.settings = settings
        self.project_id = project_id
        """The project the account's settings name, if any (`diff` and `read` compare it)."""
        self._fault = fault
        self._validate = validate
        self._validating = threading.Lock()  # held while the one validation request is out
        self._validated = False
        self._validation_fault: str | None = None
        self._client: SigSentryClient | None = None

    def client(self) -> SigSentryClient:
        """The account's client; raises the `ConfigurationError` of broken settings."""
        if isinstance(self.settings, ConfigurationError):
            raise self.settings
        if self._client is None:  # two threads at once get the same one from `_client_for`
            self._client = _client_for(self.settings)
        return self._client

    def problem(self) -> str | None:
        """What `check` reports for every resource of the account: the settings' fault, found
        without a request, or with `sigsentry:validate` on, the API's answer to one list
        request, sent once per process and shared by every resource."""
        if self._fault is not None or not self._validate:
            return self._fault
        with self._validating:
            if not self._validated:
                self._validation_fault = self._validation()
                self._validated = True
            return self._validation_fault

    def _validation(self) -> str | None:
        try:
            client = self.client()
            client.list_log_sources(limit=1, project_id=client.project_id)
        except SigSentryError as error:
            return f"{CONFIG_VALIDATE} is on and the API rejected the provider's settings: {error}"
        return None


def configure(config: ConfigGetter) -> None:
    """Record the stack config (the plugin's Configure) and resolve the default account.

    A bad or missing setting is recorded, not raised: `check` and `diff` work offline without
    an API key, `check` reports it, and the first call that needs the API raises it.
    """
    global _config, _process_fault
    try:
        parallelism: int | None = read_parallelism(config)
        process_fault = None
    except ConfigurationError as error:  # the SDK's own width stays
        parallelism, process_fault = None, str(error)
    if parallelism is not None:
        widen_worker_pool(parallelism)
    with _lock:  # before the default account is resolved: every account carries the fault
        _process_fault = process_fault
    default = _default_account(config)
    with _lock:
        _config = config
        _accounts.clear()
        _accounts[None] = default


def account(props: Mapping[str, Any]) -> Account:
    """The account of a resource's inputs: the one its `account` names, else the default one.

    Each is resolved once per process (after `configure`). Before `configure`, the default
    account is read from the environment on every call, as a script's client would be.
    """
    name = account_of(props)
    with _lock:
        found = _accounts.get(name)
        config = _config
    if found is not None:
        return found
    if name is None:
        return _default_account(None)
    found = _named_account(name, config)
    with _lock:
        if _config is config:  # not a `configure` in between
            found = _accounts.setdefault(name, found)
    return found


def shared_http_client() -> httpx.Client:
    """The process's one HTTP client (connection pool, TLS context), made on first use."""
    return _http.client()


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
    """Forget the config, accounts, clients, remembered ids, adopt claims and the list walk."""
    global _config, _process_fault
    with _lock:
        _config = None
        _process_fault = None
        _accounts.clear()
        _clients.clear()
        _existing.clear()
        adopters.clear()
    listing.invalidate()


def _default_account(config: ConfigGetter | None) -> Account:
    """`sigsentry:` settings with the environment's fallbacks. Without the stack config (no
    `configure` yet) they are the environment's alone, and `check` reports nothing."""
    if config is None:
        try:
            return Account(resolve_settings(None), _project_only(None))
        except ConfigurationError as error:
            return Account(error, _project_only(None))
    settings: ClientSettings | ConfigurationError
    try:
        settings = resolve_settings(config)
        project = settings.project_id
        if project:  # the key's characters `resolve_settings` has checked already
            check_header_value(project, CONFIG_PROJECT_ID)
        fault = None
    except ConfigurationError as error:
        settings, project, fault = error, _project_only(config), str(error)
    try:
        validate = read_validate(config)
    except ConfigurationError as error:
        validate, fault = False, fault or str(error)
    return Account(settings, project, fault=fault or _process_fault, validate=validate)


def _named_account(name: str, config: ConfigGetter | None) -> Account:
    """The `name:` settings, never the environment's. A name `check` refuses (it reports the
    name itself) has no settings fault to report."""
    try:
        settings: ClientSettings | ConfigurationError = resolve_settings(config, account=name)
    except ConfigurationError as error:
        settings = error
    if isinstance(settings, ClientSettings):
        return Account(settings, settings.project_id, fault=_process_fault)
    fault = None if validate_name(name) is not None else str(settings)
    return Account(settings, None, fault=fault or _process_fault)


def _project_only(config: ConfigGetter | None) -> str | None:
    """`sigsentry:projectId` (or SIGSENTRY_PROJECT_ID) when the other settings are broken."""
    value = config(CONFIG_PROJECT_ID) if config else None
    if not isinstance(value, str) or not value.strip():
        value = os.environ.get(ENV_PROJECT_ID, "")
    return value.strip() or None


def _client_for(settings: ClientSettings) -> SigSentryClient:
    """The process's client for `settings`, shared by every thread and account that use them.

    Its retries and waits print one line each to stderr, which the Pulumi CLI shows the user
    (a dynamic provider has no engine connection to log through).
    """
    from ._client import SigSentryClient, print_progress

    with _lock:
        client = _clients.get(settings)
        if client is None:
            client = SigSentryClient.from_settings(settings, pool=_http, notify=print_progress)
            _clients[settings] = client
    return client
