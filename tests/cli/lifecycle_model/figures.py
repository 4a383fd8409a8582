"""Sums up the figures of many walks (`--lifecycle-figures FILE`, one JSON line per walk).

    python tests/cli/lifecycle_model/figures.py .soak/figures.jsonl

Prints one JSON object: walks, failed walks and their seeds, steps, commands, recoveries,
faults injected by kind, and the seconds spent in Pulumi commands.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from typing import Any


def summary(lines: list[str]) -> dict[str, Any]:
    walks = [json.loads(line) for line in lines if line.strip()]
    faults: collections.Counter[str] = collections.Counter()
    for walk in walks:
        faults.update(walk["faults"])
    return {
        "walks": len(walks),
        "failed walks": sum(1 for w in walks if w["failed"]),
        "failed seeds": [w["seed"] for w in walks if w["failed"]],
        "steps": sum(w["steps"] for w in walks),
        "commands": sum(w["commands"] for w in walks),
        "recoveries": sum(w["recoveries"] for w in walks),
        "faults injected": sum(faults.values()),
        "faults by kind": dict(sorted(faults.items())),
        "seconds in commands": round(sum(w["seconds"] for w in walks)),
    }


if __name__ == "__main__":
    path = Path(sys.argv[1])
    lines = path.read_text().splitlines() if path.exists() else []
    print(json.dumps(summary(lines), indent=1))
