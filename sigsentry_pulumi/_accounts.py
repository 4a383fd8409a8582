"""Several SigSentry accounts in one stack: a `LogSource` names the one it belongs to.

`LogSource(..., account="tenantb")` uses the settings under the stack config namespace
`tenantb:` (`tenantb:apiKey`, `tenantb:apiUrl`, `tenantb:projectId`, `tenantb:timeout`,
`tenantb:maxRetries`) instead of `sigsentry:`; a named account has no environment fallback, so
one account's key can never stand in for another's. Only the name goes into the resource's
inputs and state; the key stays in the stack's encrypted config, and `__provider` is the same
pickled reference for every account.

This module holds the name's rules; each account's settings, resolved once per process, and
its client are kept by `_runtime`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ._types import ACCOUNT_KEY

__all__ = ["account_of", "validate_name"]

_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def account_of(props: Mapping[str, Any]) -> str | None:
    """The account a resource's inputs name, or None for the default (`sigsentry:`) one."""
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


def _unknown_or_wrong(value: object) -> str | None:
    from ._rules import is_unknown

    return None if is_unknown(value) else "account must be a string"
