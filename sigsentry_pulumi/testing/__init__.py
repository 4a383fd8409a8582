"""Offline stand-in for the Pulumi engine: run programs against the real dynamic provider plugin.

``Stack`` previews, deploys, refreshes and destroys a Pulumi program without the Pulumi CLI, its
state kept in an encrypted JSON file; ``ProviderPlugin`` drives one ``python -m pulumi.dynamic``
process over gRPC. See docs/engine.md, which also lists what of the real engine is not reproduced.
"""

from .engine import Stack
from .errors import EngineError
from .plugin import (
    CheckResponse,
    DiffResponse,
    PluginStartError,
    ProviderCallError,
    ProviderPlugin,
    ReadResponse,
)
from .results import OperationResult, Step
from .state import ResourceState
from .values import Secret

__all__ = [
    "CheckResponse",
    "DiffResponse",
    "EngineError",
    "OperationResult",
    "PluginStartError",
    "ProviderCallError",
    "ProviderPlugin",
    "ReadResponse",
    "ResourceState",
    "Secret",
    "Stack",
    "Step",
]
