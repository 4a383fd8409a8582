"""What `check` knows about the provider's settings, so a preview fails on them as `up` would.

`configure` records whether the stack's settings resolve (an API key is set and can be sent in a
header, `sigsentry:apiUrl` is an absolute http(s) URL, the numbers are numbers) and whether
`sigsentry:validate` is on. `problem()` is what `check` reports for every resource: the same
`ConfigurationError` text an API call would raise, found without any request. With
`sigsentry:validate=true` it also sends one list request per plugin process (one for a preview,
one more for the update of an `up`), shared by every resource, to prove that the key is accepted
and may read the project's sources; `config:write` is only proven by the first write.

Process-wide, like `_runtime`: the provider object, pickled into state, holds none of it.
"""

from __future__ import annotations

import threading
from typing import Final

from . import _runtime
from ._config import ConfigGetter, resolve_settings
from ._errors import ConfigurationError, SigSentryError

__all__ = ["CONFIG_VALIDATE", "configure", "problem", "reset"]

CONFIG_VALIDATE: Final = "sigsentry:validate"
_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off", ""})

_lock = threading.Lock()
_validation_lock = threading.Lock()  # held while the one validation request is in flight
_configured = False
_settings_problem: str | None = None
_validate = False
_validated = False
_validation_problem: str | None = None


def configure(config: ConfigGetter) -> None:
    """Record the settings' fault (if any) and the validate flag from the stack's config."""
    global _configured, _settings_problem, _validate, _validated, _validation_problem
    try:
        resolve_settings(config)
        fault: str | None = None
    except ConfigurationError as error:
        fault = str(error)
    try:
        validate = _flag(config(CONFIG_VALIDATE))
    except ConfigurationError as error:
        validate, fault = False, fault or str(error)
    with _lock:
        _configured, _settings_problem, _validate = True, fault, validate
        _validated, _validation_problem = False, None


def problem() -> str | None:
    """The settings fault `check` reports, or None; only after `configure` has run."""
    with _lock:
        # `_runtime.reset()` (a fresh start in tests) forgets the settings: so does this.
        if not (_configured and _runtime._configured):
            return None
        if _settings_problem is not None or not _validate:
            return _settings_problem
    with _validation_lock:
        return _validation()


def reset() -> None:
    """Forget what `configure` recorded (tests use it to start from nothing)."""
    global _configured, _settings_problem, _validate, _validated, _validation_problem
    with _lock:
        _configured, _settings_problem, _validate = False, None, False
        _validated, _validation_problem = False, None


def _validation() -> str | None:
    global _validated, _validation_problem
    with _lock:
        if _validated:
            return _validation_problem
    try:
        client = _runtime.provider_client()
        client.list_log_sources(limit=1, project_id=client.project_id)
        found: str | None = None
    except SigSentryError as error:
        found = f"{CONFIG_VALIDATE} is on and the API rejected the provider's settings: {error}"
    with _lock:
        _validated, _validation_problem = True, found
    return found


def _flag(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigurationError(
        f"{CONFIG_VALIDATE} must be true or false: `pulumi config set {CONFIG_VALIDATE} true`"
    )
