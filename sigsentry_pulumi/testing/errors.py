"""The stand-in's error: one failed operation.

::

    Exception
     └── EngineError              a failed preview / up / refresh / destroy
          (PolicyViolationError   in policy.py: a mandatory policy failed in preview)

An ``EngineError`` says which resource and which step failed and carries the provider's own
message with every known secret value replaced by ``[secret]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import Step

__all__ = ["EngineError"]


class EngineError(Exception):
    """A failed operation.

    ``urn`` names the resource (``None`` when no single resource failed), ``step`` the step that
    failed (``check``, ``create``, ``update``, ``delete``, ``read``, ``refresh``, ``program``...),
    ``provider_message`` the provider's message (scrubbed of secrets), ``steps`` the steps that
    completed before the failure (their effects are recorded in the state file).
    """

    def __init__(
        self,
        message: str,
        *,
        urn: str | None = None,
        step: str | None = None,
        provider_message: str | None = None,
        steps: Sequence[Step] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.urn = urn
        self.step = step
        self.provider_message = provider_message
        self.steps = list(steps)
