"""More than the SDK's four calls at once, through the real Pulumi CLI, with no duplicate.

`sigsentry:parallelism` (default 16) widens the dynamic-provider plugin's worker pool; the
engine's `--parallel` (4 per CPU core by default: 8 on a 2-core machine) stays the outer bound.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cli.stacks import StackFactory, changes
from raw_api import LOG_SOURCES, list_sources
from sigsentry_pulumi._constants import SDK_PLUGIN_WORKERS
from tools.fault_plans import duplicates, many_sources_program
from tools.in_flight import most_in_flight

pytestmark = pytest.mark.slow

COUNT = 40
DELAY = 0.2
"""An API 200 ms away: every request waits this long before it is handled."""


def test_40_sources_200_ms_away_keep_more_than_four_requests_in_flight_by_default(
    make_stack: StackFactory, emulator: Any, api: httpx.Client
) -> None:
    emulator.set_faults({"rules": [{"fault": "slow", "delaySeconds": DELAY}]})
    stack = make_stack(many_sources_program(COUNT))
    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": COUNT + 1}
    output = str(up.stdout) + str(up.stderr)
    assert "sigsentry:parallelism is ignored" not in output
    creates = [r for r in emulator.requests() if r["method"] == "POST" and r["path"] == LOG_SOURCES]
    assert len(creates) == COUNT and not any(r["replayed"] for r in creates)
    sources = list_sources(api)
    assert len(sources) == COUNT and duplicates(sources) == 0
    assert most_in_flight(creates, delay=DELAY) > SDK_PLUGIN_WORKERS

    emulator.clear_requests()
    stack.destroy()
    deletes = [r for r in emulator.requests() if r["method"] == "DELETE"]
    assert len(deletes) == COUNT and list_sources(api) == []
    assert most_in_flight(deletes, delay=DELAY) > SDK_PLUGIN_WORKERS
