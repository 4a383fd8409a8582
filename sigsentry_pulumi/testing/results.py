"""What an operation returns: the steps it took and the stack outputs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .policy import PolicyViolation

__all__ = ["OperationResult", "Step", "StepOp"]

# As Pulumi names them: "delete-replaced" is the deletion of a replaced original, which Pulumi
# shows as part of its "replace" and leaves out of the summary counts.
StepOp = Literal[
    "create", "update", "replace", "delete", "delete-replaced", "same", "read", "refresh"
]


@dataclass(frozen=True)
class Step:
    """One resource's step.

    ``changed_keys``: for update and replace, the input keys that differ; for refresh, the keys
    that drifted. ``replace_keys``: for replace, the keys that forced it. ``id`` is ``None`` when
    not known yet (a create or replace in preview).
    """

    op: StepOp
    urn: str
    type: str
    name: str
    id: str | None
    changed_keys: tuple[str, ...] = ()
    replace_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperationResult:
    """The steps of one operation, in the order they completed, and the stack outputs.

    Secret outputs are :class:`~sigsentry_pulumi.testing.Secret`; in a preview, outputs not known
    yet are ``pulumi.output.Unknown``. ``policy_violations`` is filled by preview only.
    """

    operation: Literal["preview", "up", "refresh", "destroy"]
    steps: list[Step]
    outputs: dict[str, Any]
    policy_violations: list[PolicyViolation] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of steps per op, e.g. ``{"create": 2, "same": 1}``."""
        return dict(Counter(step.op for step in self.steps))

    def step(self, name: str) -> Step:
        """The step of the resource named ``name`` (its Pulumi name); KeyError when none."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"no step for a resource named {name!r}")
