"""Seeded random walks over real `pulumi` commands against the emulator, checking the provider's
promise after every step (cli/lifecycle_model, docs/lifecycle-checker.md).

Each walk is one test, parametrised by its seed and in an xdist group of its own, so `make test`
spreads the walks over the workers. `--lifecycle-seed N` replays one walk, `--lifecycle-walks N`
and `--lifecycle-first-seed N` choose how many and which, `--lifecycle-steps N` how long each is,
`--lifecycle-include KIND` walks a step kind the known-defect list leaves out;
`make soak WALKS=200` runs many.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from cli.lifecycle_model.faults import FAULTS
from cli.lifecycle_model.model import OPTIONS, Edits, Model, load
from cli.lifecycle_model.walk import COMMAND_WEIGHTS, EDIT_WEIGHTS, KNOWN_DEFECTS, Walk
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

DEFAULT_WALKS = 2
DEFAULT_STEPS = 6
SECONDS_PER_STEP = 90
"""A step's time limit: a command, its preview, and a recovery of up to four commands."""


def steps_of(config: pytest.Config) -> int:
    steps: int = config.getoption("--lifecycle-steps") or DEFAULT_STEPS
    return steps


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "seed" not in metafunc.fixturenames:
        return
    config = metafunc.config
    chosen = config.getoption("--lifecycle-seed")
    if chosen is not None:
        seeds = [chosen]
    else:
        first = config.getoption("--lifecycle-first-seed") or 1
        seeds = list(range(first, first + (config.getoption("--lifecycle-walks") or DEFAULT_WALKS)))
    timeout = pytest.mark.timeout(60 + SECONDS_PER_STEP * steps_of(config))
    metafunc.parametrize(
        "seed",
        [
            pytest.param(
                seed, id=f"seed-{seed}", marks=[timeout, pytest.mark.xdist_group(f"walk-{seed}")]
            )
            for seed in seeds
        ],
    )


def test_a_random_walk_keeps_every_invariant_after_every_step(
    seed: int, pulumi_env: PulumiEnvironment, emulator: Any, request: pytest.FixtureRequest
) -> None:
    included = set(request.config.getoption("--lifecycle-include"))
    unknown = included - set(KNOWN_DEFECTS)
    assert not unknown, (
        f"--lifecycle-include {unknown}: not in KNOWN_DEFECTS ({set(KNOWN_DEFECTS)})"
    )
    walk = Walk(seed, pulumi_env, emulator, lambda kind: kind in KNOWN_DEFECTS.keys() - included)
    try:
        walk.run(steps_of(request.config))
    finally:
        print(f"walk {seed}:", *walk.history, sep="\n  ")  # shown with -s, or on a failure
        figures_file = request.config.getoption("--lifecycle-figures")
        if figures_file:
            figures = {"seed": seed, **walk.figures.as_dict(), "failed": walk.failed}
            if walk.failed:
                figures["report"] = walk.report[-6000:]
            with Path(figures_file).open("a") as out:
                out.write(json.dumps(figures) + "\n")


def test_every_left_out_kind_is_one_the_walks_would_draw() -> None:
    """An entry of KNOWN_DEFECTS that names no step kind would leave nothing out, and stay."""
    kinds = {*COMMAND_WEIGHTS, *EDIT_WEIGHTS, *OPTIONS, *FAULTS, "parent", "replace-adopted"}
    assert set(KNOWN_DEFECTS) <= kinds


def test_the_child_process_builds_the_program_the_walk_holds(tmp_path: Path) -> None:
    walk_model = Model(projects={"main": "prj_a", "other": "prj_b"})
    edits = Edits(random.Random(3), {})
    for _ in range(4):
        edits.add(walk_model)
    edits.rename_resource(walk_model)
    edits.adopt(walk_model, lambda source: "ls_00000000-0000-4000-8000-000000000000")
    walk_model.save(tmp_path / "model.json")
    assert load(tmp_path / "model.json") == walk_model
