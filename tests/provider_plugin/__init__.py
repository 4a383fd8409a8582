"""A direct driver of the ``python -m pulumi.dynamic`` plugin, for tests of the provider's calls."""

from provider_plugin.driver import (
    CheckResponse,
    DiffResponse,
    PluginStartError,
    ProviderCallError,
    ProviderPlugin,
    ReadResponse,
)

__all__ = [
    "CheckResponse",
    "DiffResponse",
    "PluginStartError",
    "ProviderCallError",
    "ProviderPlugin",
    "ReadResponse",
]
