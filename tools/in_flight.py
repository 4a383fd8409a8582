"""How many requests were in flight at once, from the emulator's request log.

The log records when each request was answered (to the millisecond), not when it arrived. Under
the `slow` fault every request waits `delaySeconds` before it is handled, so each was in flight
for at least the `delay` before its answer; the most of those intervals that overlap is a lower
bound on the requests the server held at once. Shared by the provider tests, the real-CLI tests
and the benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

__all__ = ["answered_at", "most_in_flight"]

_ROUNDING = 0.002
"""Two answers a request apart may be logged up to a millisecond closer than they were."""


def most_in_flight(entries: Iterable[Mapping[str, Any]], *, delay: float) -> int:
    """The most requests of `entries` (the request log) that were in flight at one moment,
    given that each took at least `delay` seconds."""
    span = max(delay - _ROUNDING, 0.0)
    events: list[tuple[float, int]] = []
    for entry in entries:
        answered = answered_at(entry)
        events.append((answered - span, 1))
        events.append((answered, -1))  # at one instant, an end sorts before a start
    most = current = 0
    for _, step in sorted(events):
        current += step
        most = max(most, current)
    return most


def answered_at(entry: Mapping[str, Any]) -> float:
    """When the emulator answered a request of its log, in epoch seconds."""
    return datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00")).timestamp()
