"""Offline stand-in for the Pulumi engine: run programs against the real dynamic provider plugin.

See docs/engine.md. ``ProviderPlugin`` drives one ``python -m pulumi.dynamic`` process over gRPC.
"""

from .plugin import (
    CheckResponse,
    DiffResponse,
    PluginStartError,
    ProviderCallError,
    ProviderPlugin,
    ReadResponse,
)
from .values import Secret

__all__ = [
    "CheckResponse",
    "DiffResponse",
    "PluginStartError",
    "ProviderCallError",
    "ProviderPlugin",
    "ReadResponse",
    "Secret",
]
