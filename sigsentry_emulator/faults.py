"""Fault injection for tests of client resilience; off until a spec is installed.

A spec is a list of rules consulted in order for every request outside `/_admin` and `/healthz`;
the first rule that fires decides the request's fault::

    {"seed": 7,                                   # optional: reproducible probabilities
     "rules": [
       {"method": "POST", "path": "/v1/config/log-sources", "sequence": ["503", "drop", "ok"]},
       {"path": "/v1/config/log-sources/*", "fault": "500", "probability": 0.2},
       {"fault": "slow", "delaySeconds": 1.5, "times": 3},
       {"fault": "429", "retryAfter": 2}
     ]}

Rule fields: `method` (default `*`) and `path` (a glob, `*` also crosses `/`; default `*`) select
requests; then exactly one of `fault` (fires with `probability`, default 1) or `sequence` (one entry
per matching request, in order; the rule stops matching when the sequence is used up). `times`
caps how often a rule fires. Faults: `429` (RATE_LIMITED with `Retry-After: retryAfter`, default 1),
`500` (INTERNAL_ERROR), `503` (SERVICE_UNAVAILABLE with `Retry-After`), `slow` (wait
`delaySeconds`, default 2, then answer normally), `drop` (handle the request, commit its write,
then close the connection without answering), and `ok` (no fault; useful inside a sequence).
Faults 429/500/503 answer before the request is authenticated or executed: nothing is written.

Faults that misbehave as a broken server or proxy would:

* `repeatCursor` (list GETs): the page is answered as usual but its `nextCursor` is
  `REPEAT_CURSOR`, a cursor that leads back to the first page (the emulator serves the first
  page for it, fault or not); a client that follows it walks the same pages forever.
* `trickle`: the request is executed and answered, but the body is sent one byte every
  `delaySeconds` (the status line and headers go at once; only the body trickles).
* `echo`: 400 VALIDATION_ERROR whose message, details and `X-Request-Id` echo the request's
  `Authorization` header and body, plain and encoded (JSON, base64 at three byte alignments in
  both alphabets, URL encoding): what a careless server or proxy may send back. Nothing is
  executed.
* `empty` (list GETs only): 200 with `{"success": true, "data": [], "nextCursor": null}`, the
  glitching page of a proxy or a lagging replica; answered before the request is authenticated
  or executed. A rule whose `fault` is `empty` matches list requests
  (`GET /v1/config/log-sources`) only, so `{"fault": "empty", "times": 1}` empties the next
  list page whatever else is requested meanwhile; in a `sequence`, an `empty` entry answers any
  other request normally.
* `noReplayHeader`: the request is executed and answered as usual, without the
  `Idempotent-Replayed` header, as a proxy that strips it would; the request log still records
  the replay.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FaultKind = Literal[
    "429",
    "500",
    "503",
    "slow",
    "drop",
    "ok",
    "repeatCursor",
    "trickle",
    "echo",
    "empty",
    "noReplayHeader",
]

REPEAT_CURSOR = "fault-repeat-cursor"
"""The `nextCursor` of the `repeatCursor` fault; a list GET that passes it gets the first page."""

LIST_PATH = "/v1/config/log-sources"
"""The list endpoint: the only requests an `empty` fault applies to."""


def applies(kind: FaultKind, method: str, path: str) -> bool:
    """Whether a fault of this kind can act on the request (`empty` only on a list GET)."""
    return kind != "empty" or (method.upper() == "GET" and path == LIST_PATH)


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = "*"
    path: str = "*"
    fault: FaultKind | None = None
    sequence: list[FaultKind] | None = None
    probability: Annotated[float, Field(ge=0, le=1)] = 1.0
    times: Annotated[int, Field(ge=1)] | None = None
    retryAfter: Annotated[int, Field(ge=0, le=3600)] = 1
    delaySeconds: Annotated[float, Field(ge=0, le=120)] = 2.0

    @model_validator(mode="after")
    def _one_action(self) -> FaultRule:
        if (self.fault is None) == (self.sequence is None):
            raise ValueError("give exactly one of fault or sequence")
        if self.sequence is not None and self.probability != 1.0:
            raise ValueError("probability applies to fault, not to sequence")
        return self


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int | None = None
    rules: list[FaultRule] = Field(default_factory=list)


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    retry_after: int
    delay_seconds: float


class _RuleState:
    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.fired = 0
        self.position = 0

    def matches(self, method: str, path: str) -> bool:
        rule = self.rule
        if rule.times is not None and self.fired >= rule.times:
            return False
        if rule.sequence is not None and self.position >= len(rule.sequence):
            return False
        method_ok = rule.method == "*" or rule.method.upper() == method.upper()
        if rule.fault is not None and not applies(rule.fault, method, path):
            return False
        return method_ok and fnmatch.fnmatchcase(path, rule.path)


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_RuleState] = []
        self._random = random.Random()
        self.spec = FaultSpec()

    def install(self, spec: FaultSpec) -> None:
        with self._lock:
            self.spec = spec
            self._rules = [_RuleState(rule) for rule in spec.rules]
            self._random = random.Random(spec.seed)

    def clear(self) -> None:
        self.install(FaultSpec())

    def decide(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for state in self._rules:
                if not state.matches(method, path):
                    continue
                rule = state.rule
                if rule.sequence is not None:
                    kind = rule.sequence[state.position]
                    state.position += 1
                elif self._random.random() < rule.probability:
                    assert rule.fault is not None
                    kind = rule.fault
                else:
                    continue
                state.fired += 1
                if kind == "ok" or not applies(kind, method, path):
                    return None
                return Fault(kind, rule.retryAfter, rule.delaySeconds)
        return None
