"""Programs and checks shared by the fault-tolerance tests (tests/cli/test_faults_cli.py) and
the benchmarks (benchmarks/faults.py, benchmarks/engine_cost.py): N log sources named
`src-000`..., a fault spec at a given rate, and the invariants a lifecycle must keep (no
duplicates, no orphans, state ids equal to the emulator's ids).

Dev tooling, not shipped: it lives here rather than under tests/ so benchmarks need not import
the test suite.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Mapping
from typing import Any

FAULT_KINDS = ("429", "500", "503", "drop")
"""Each fault rule gets a quarter of the rate: refused (429, 500, 503) or committed then dropped."""


def many_sources_program(count: int, *, suffix_key: str = "suffix") -> Callable[[], None]:
    """`count` Datadog sources `src-000`...; stack config `suffix` renames them all at once."""

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        config = pulumi.Config()
        suffix = config.get(suffix_key) or ""
        credentials = {
            "apiKey": config.require_secret("secretA"),
            "appKey": config.require_secret("secretB"),
        }
        for index in range(count):
            fields: dict[str, Any] = {
                "type": "datadog",
                "name": f"src-{index:03d}{suffix}",
                "credentials": credentials,
                "sources": [f"service:app-{index}"],
            }
            LogSource(f"src-{index:03d}", **fields)

    return program


def fault_spec(rate: float, *, seed: int = 7, retry_after: int = 1) -> dict[str, Any]:
    """Faults on `rate` of all API requests, split evenly over 429, 500, 503 and drop.

    The rules are consulted in order, so each gets the probability that makes its share of all
    requests rate/4 (the emulator's random numbers are seeded: the same run faults the same).
    """
    rules: list[dict[str, Any]] = []
    left = 1.0
    share = rate / len(FAULT_KINDS)
    for kind in FAULT_KINDS:
        probability = min(1.0, share / left) if left > 0 else 0.0
        rule: dict[str, Any] = {"path": "/v1/*", "fault": kind, "probability": probability}
        if kind in ("429", "503"):
            rule["retryAfter"] = retry_after
        rules.append(rule)
        left -= share
    return {"seed": seed, "rules": rules}


def faults_injected(requests: Iterable[Mapping[str, Any]]) -> collections.Counter[str]:
    """How many requests of the emulator's log got each fault."""
    return collections.Counter(str(r["fault"]) for r in requests if r.get("fault"))


def by_name(sources: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Source ids by name: a name with two ids is a duplicate."""
    names: dict[str, list[str]] = collections.defaultdict(list)
    for source in sources:
        names[str(source["name"])].append(str(source["id"]))
    return dict(names)


def duplicates(sources: Iterable[Mapping[str, Any]]) -> int:
    """Sources beyond the first of each name."""
    return sum(len(ids) - 1 for ids in by_name(sources).values())


def orphans(sources: Iterable[Mapping[str, Any]], state_ids: Iterable[str]) -> int:
    """Sources in SigSentry that the stack's state does not hold."""
    known = set(state_ids)
    return sum(1 for source in sources if source["id"] not in known)
