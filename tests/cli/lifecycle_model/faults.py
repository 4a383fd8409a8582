"""The faults a walk injects into one command: one `Fault` per kind, in `FAULTS`.

Most are the emulator's own fault injection (sigsentry_emulator/faults.py), installed for the
command and lifted after it; `kill` is a kill -9 of the CLI and its plugin at a random moment
(operations.py). Each entry says whether the command may fail under it (then the walk runs the
documented recovery, which must converge) and what a failure's message must name. A fault kind
the emulator does not know yet is skipped (`available`), so a new kind is one line here.
"""

from __future__ import annotations

import random
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sigsentry_emulator.faults import FaultKind

ANY_CALL = "/v1/config/log-sources*"
LIST = "/v1/config/log-sources"
WRITES = ("POST", "PUT", "DELETE")

Rules = Callable[[random.Random], list[dict[str, Any]]]


@dataclass(frozen=True)
class Fault:
    name: str
    rules: Rules
    may_fail: bool = False
    """False: the provider's retries must ride it out, so the command must still converge."""
    cause: str | None = None
    """Text a failure's message must hold (None: any message naming SigSentry)."""
    config: Mapping[str, str] = field(default_factory=dict)
    """Stack config for the command only (fewer retries, a shorter timeout)."""
    needs: tuple[str, ...] = ()
    """Emulator fault kinds the rules use."""
    kill: bool = False


def _one(kind: str, method: str = "*", path: str = ANY_CALL) -> Rules:
    return lambda rng: [{"method": method, "path": path, "sequence": [kind]}]


def _one_write(kind: str) -> Rules:
    return lambda rng: [{"method": rng.choice(WRITES), "path": ANY_CALL, "sequence": [kind]}]


def _some(kind: str, **extra: Any) -> Rules:
    """`kind` on about half the calls, at most three times: the retries must see it through."""
    return lambda rng: [
        {"path": ANY_CALL, "fault": kind, "probability": 0.5, "times": rng.randint(1, 3), **extra}
    ]


NO_RETRIES = {"sigsentry:maxRetries": "0"}

FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        # a write SigSentry commits whose answer is lost; retried under the same request
        Fault("drop", _one_write("drop"), needs=("drop",)),
        Fault(
            "drop-no-retry",
            _one_write("drop"),
            may_fail=True,
            cause="got no answer",
            config=NO_RETRIES,
            needs=("drop",),
        ),
        Fault("500", _some("500"), needs=("500",)),
        Fault("503", _some("503", retryAfter=1), needs=("503",)),
        Fault("429", _some("429", retryAfter=1), needs=("429",)),
        Fault("slow", _some("slow", delaySeconds=1.0), needs=("slow",)),
        # answered after the client gave up: the write may still commit, as after a drop
        Fault(
            "slow-timeout",
            lambda rng: [{"path": ANY_CALL, "fault": "slow", "delaySeconds": 3, "times": 1}],
            may_fail=True,
            cause="timed out",
            config={**NO_RETRIES, "sigsentry:timeout": "1"},
            needs=("slow",),
        ),
        Fault("kill", lambda rng: [], may_fail=True, kill=True),
        # one empty page in the list walk (refresh, adoption, the replay lookup)
        Fault(
            "empty",
            lambda rng: [{"fault": "empty", "times": 1}],
            may_fail=True,
            needs=("empty",),
        ),
        # a proxy that strips `Idempotent-Replayed` from every create's answer
        Fault(
            "noReplayHeader",
            lambda rng: [{"method": "POST", "path": LIST, "fault": "noReplayHeader"}],
            needs=("noReplayHeader",),
        ),
        # every list page's nextCursor leads back to the first: the walk must stop, naming it
        Fault(
            "repeatCursor",
            lambda rng: [{"method": "GET", "path": LIST, "fault": "repeatCursor", "times": 2000}],
            may_fail=True,
            cause="a second time",
            needs=("repeatCursor",),
        ),
        # one answer trickled a byte every 0.5 s: `sigsentry:timeout` bounds the whole attempt
        Fault(
            "trickle",
            lambda rng: [{"path": ANY_CALL, "fault": "trickle", "delaySeconds": 0.5, "times": 1}],
            may_fail=True,
            cause="timed out",
            config={"sigsentry:timeout": "2"},
            needs=("trickle",),
        ),
        # an error answer that echoes the request, key and credentials, plain and encoded
        Fault(
            "echo",
            _one("echo"),
            may_fail=True,
            cause="VALIDATION_ERROR",
            needs=("echo",),
        ),
    )
}


def available() -> list[str]:
    """The fault kinds whose emulator faults exist in this checkout."""
    known = set(typing.get_args(FaultKind))
    return [name for name, fault in FAULTS.items() if set(fault.needs) <= known]


def spec(fault: Fault, rng: random.Random) -> dict[str, Any]:
    """The emulator fault spec for one command (its probabilities seeded from the walk)."""
    return {"seed": rng.getrandbits(32), "rules": fault.rules(rng)}
