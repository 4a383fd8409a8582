"""Several SigSentry accounts in one stack: a `LogSource` names the one it belongs to.

`LogSource(..., account="tenantb")` uses the settings under the stack config namespace
`tenantb:` (`tenantb:apiKey`, `tenantb:apiUrl`, `tenantb:projectId`, `tenantb:timeout`,
`tenantb:maxRetries`) instead of `sigsentry:`; a named account has no environment fallback, so
one account's key can never stand in for another's. Only the name goes into the resource's
inputs and state; the key stays in the stack's encrypted config, and `__provider` is the same
pickled reference for every account.

Process-wide, like `_runtime`: `configure` keeps the config getter the plugin hands the
provider (it reads any namespace of the stack config), and each account's settings are resolved
once per process and share `_runtime`'s client per settings.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from . import _runtime
from ._config import ClientSettings, ConfigGetter, resolve_settings
from ._constants import CONFIG_API_KEY, ENV_API_KEY
from ._errors import ConfigurationError

if TYPE_CHECKING:
    from ._client import SigSentryClient

__all__ = [
    "ACCOUNT_KEY",
    "client",
    "configure",
    "problem",
    "project_id",
    "reset",
    "validate_name",
]

ACCOUNT_KEY: Final = "account"
"""The input naming the account; absent (or None) means the `sigsentry:` settings."""
_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_PREFIX: Final = "sigsentry:"

_lock = threading.Lock()
_config: ConfigGetter | None = None
_settings: dict[str, ClientSettings | ConfigurationError] = {}


def configure(config: ConfigGetter) -> None:
    """Keep the stack config's getter and forget every account resolved before."""
    global _config
    with _lock:
        _config = config
        _settings.clear()


def reset() -> None:
    """Forget the stack config and every account resolved (tests use it to start from nothing)."""
    global _config
    with _lock:
        _config = None
        _settings.clear()


def account_of(props: Mapping[str, Any]) -> str | None:
    value = props.get(ACCOUNT_KEY)
    return value if isinstance(value, str) and value else None


def validate_name(value: object) -> str | None:
    """Why `value` cannot name an account, or None when it can (or is not known yet)."""
    if value is None or not isinstance(value, str):
        return None if value is None else _unknown_or_wrong(value)
    if value == "sigsentry" or not _NAME.fullmatch(value):
        return (
            "account must be a config namespace other than `sigsentry`: a letter, then up to 63 "
            "letters, digits, `-` or `_` (such as `tenantb`, read from `tenantb:apiKey`)"
        )
    return None


def settings(account: str) -> ClientSettings:
    """The account's settings, resolved once per process; raises its `ConfigurationError`."""
    with _lock:
        found = _settings.get(account)
        config = _config
    if found is None:
        found = _resolve(account, config)
        with _lock:
            _settings[account] = found
    if isinstance(found, ConfigurationError):
        raise found
    return found


def problem(props: Mapping[str, Any]) -> str | None:
    """The named account's settings fault, for `check`; None for the default account."""
    account = account_of(props)
    if account is None or validate_name(account) is not None:
        return None
    try:
        settings(account)
    except ConfigurationError as error:
        return str(error)
    return None


def client(props: Mapping[str, Any]) -> SigSentryClient:
    """The client of the resource's account."""
    account = account_of(props)
    if account is None:
        return _runtime.provider_client()
    return _runtime.client_for(settings(account))


def project_id(props: Mapping[str, Any]) -> str | None:
    """The configured project of the resource's account, if any."""
    account = account_of(props)
    if account is None:
        return _runtime.provider_project_id()
    try:
        return settings(account).project_id
    except ConfigurationError:
        return None


def _resolve(account: str, config: ConfigGetter | None) -> ClientSettings | ConfigurationError:
    def get(key: str) -> object:
        if config is None:
            return None
        return config(f"{account}:{key.removeprefix(_PREFIX)}")

    try:
        return resolve_settings(get, environ={})
    except ConfigurationError as error:
        message = str(error)
        if message.startswith("No SigSentry API key is set"):
            message = (
                f"No API key is set for the SigSentry account {account!r}. Run `pulumi config "
                f"set --secret {account}:apiKey <key>` (a named account never reads "
                "SIGSENTRY_API_KEY)"
            )
        else:
            message = (
                message.replace(f"{CONFIG_API_KEY} or {ENV_API_KEY}", f"{account}:apiKey")
                .replace(CONFIG_API_KEY, f"{account}:apiKey")
                .replace(_PREFIX, f"{account}:")
            )
        return ConfigurationError(message)


def _unknown_or_wrong(value: object) -> str | None:
    from ._validation import is_unknown

    return None if is_unknown(value) else "account must be a string"
