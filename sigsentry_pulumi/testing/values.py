"""Property values as the engine handles them: secret marks, the SDK's secret wrappers, unknowns.

Three spellings of "secret" meet here:

* :class:`Secret`, this package's public mark (config values, stack outputs, state read-back);
* the SDK's RPC wrapper ``{"4dabf1...": "1b4706...", "value": ...}`` that
  ``pulumi.runtime.set_mocks`` hands to ``Mocks.new_resource`` for secret inputs
  (``__provider`` included);
* plaintext, which is what the provider plugin must receive: it answers ``acceptSecrets=False``, so
  the real engine strips every mark before each call.

Unknowns (values not known during a preview) are ``pulumi.output.Unknown`` instances, exactly what
the plugin decodes the engine's unknown sentinel into.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc

__all__ = [
    "Secret",
    "contains_secret",
    "contains_unknown",
    "is_unknown",
    "reveal",
    "scrub",
    "secret_strings",
    "serialize",
]

_REDACTED = "[secret]"


class Secret:
    """A secret value: a config value, a stack output or a stored property.

    ``repr`` and ``str`` never show the value, and it cannot be pickled, so it cannot leak through
    logs, error messages or serialised test artefacts. Read it with ``.value``.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return _REDACTED

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]  # mutable payloads: equality only

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values cannot be pickled: read `.value` explicitly if you must")


def is_unknown(value: Any) -> bool:
    """True for a value that is not known yet (a preview placeholder)."""
    return isinstance(value, Unknown)


def reveal(value: Any) -> Any:
    """Return ``value`` with every secret mark removed, recursively (what the plugin receives)."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if rpc.is_rpc_secret(value):
        return reveal(rpc.unwrap_rpc_secret(value))
    if isinstance(value, Mapping):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(item) for item in value]
    return value


def contains_secret(value: Any) -> bool:
    """True when ``value`` holds a secret mark anywhere inside it."""
    if isinstance(value, Secret) or rpc.is_rpc_secret(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_secret(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_secret(item) for item in value)
    return False


def contains_unknown(value: Any) -> bool:
    """True when ``value`` holds an unknown anywhere inside it."""
    if is_unknown(value):
        return True
    if isinstance(value, Secret):
        return contains_unknown(value.value)
    if isinstance(value, Mapping):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(item) for item in value)
    return False


def secret_strings(values: Iterable[Any]) -> set[str]:
    """Every string held inside a secret among ``values`` (to scrub them from messages)."""
    found: set[str] = set()

    def walk(value: Any, inside: bool) -> None:
        if isinstance(value, Secret):
            walk(value.value, True)
        elif rpc.is_rpc_secret(value):
            walk(rpc.unwrap_rpc_secret(value), True)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item, inside)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, inside)
        elif inside and isinstance(value, str) and value:
            found.add(value)

    for value in values:
        walk(value, False)
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret string in it replaced by ``[secret]`` (longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:  # shorter strings would mangle ordinary words, and are no credential
            text = text.replace(secret, _REDACTED)
    return text


def serialize(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    """``properties`` through the SDK's ``serialize_properties``, on a private event loop.

    ``serialize_properties`` is a coroutine; a private loop keeps it away from any running loop
    (set_mocks runs resource registrations on an event loop of its own).
    """
    loop = asyncio.new_event_loop()
    try:
        struct: struct_pb2.Struct = loop.run_until_complete(
            rpc.serialize_properties(dict(properties), {})
        )
    finally:
        loop.close()
    return struct
