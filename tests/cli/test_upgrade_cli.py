"""The upgrade promise, through the real CLI: a stack written by an earlier release keeps working.

Each folder of tests/cli/golden/ is what one release's `pulumi up` left (cli/upgrade_support.py):
one source of every type, an adopted source and a source of a named account. The stack is
imported as it was written (`pulumi stack import`), against the emulator database of that day,
and driven by today's code: `refresh` and `preview --expect-no-changes` find nothing to do, an
edit becomes one PUT, `destroy` deletes every source. What today's code must still read is the
pickled provider path `sigsentry_pulumi.provider.LogSourceProvider` and the state names
(docs/upgrading.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cli.stacks import assert_no_plaintext, backend_files, changes, writes
from cli.upgrade_support import (
    GOLDEN,
    PROJECT,
    SECRET_VALUES,
    STACK,
    golden_program,
    stack_config,
)
from raw_api import connect, list_sources
from sigsentry_emulator.testing import EmulatorProcess
from tools.pulumi_cli import PulumiEnvironment

RELEASES = sorted(path.name for path in GOLDEN.iterdir() if path.is_dir())


@pytest.mark.parametrize("release", RELEASES)
def test_a_stack_written_by_an_earlier_release_is_refreshed_updated_and_destroyed(
    release: str, pulumi_cli: Path, tmp_path: Path
) -> None:
    folder = GOLDEN / release
    golden: dict[str, Any] = json.loads((folder / "golden.json").read_text(encoding="utf-8"))
    state = (folder / "stack.json").read_text(encoding="utf-8")
    assert_no_plaintext({"stack.json": state}, *SECRET_VALUES)
    for name in ("emulator.db", "emulator.db.key"):
        shutil.copy(folder / name, tmp_path / name)

    with EmulatorProcess(
        tmp_path / "emulator.db",
        tenant_id=golden["tenantId"],
        project_id=golden["projectId"],
        api_key=golden["apiKey"],
    ) as emulator:
        env = PulumiEnvironment(
            tmp_path / "pulumi", cli=pulumi_cli, passphrase=golden["passphrase"]
        )

        def stack(*, edited: bool = False) -> Any:
            program = golden_program(golden["adoptId"], edited=edited)
            return env.inline_stack(program, project=PROJECT, stack=STACK)

        written = stack()
        written.set_all_config(stack_config(golden, emulator.url))
        env.run(
            "stack",
            "import",
            "--stack",
            STACK,
            "--file",
            str(folder / "stack.json"),
            cwd=Path(written.workspace.work_dir),
        )
        live_ids = {s["id"] for s in list_sources(connect(emulator.url, golden["apiKey"]))}
        assert len(live_ids) == 7  # six types and the adopted source; tenant B holds the eighth

        since = len(emulator.requests())
        # The state's provider entry records the golden day's `sigsentry:apiUrl`, and a refresh
        # without --run-program configures the provider from it (docs/engine-notes-checked.md):
        # the emulator listens on another port today, so the program gives the settings.
        refreshed = written.refresh(run_program=True)
        assert set(changes(refreshed)) == {"same"}, changes(refreshed)
        written.preview(expect_no_changes=True)
        assert writes(emulator, since) == []

        since = len(emulator.requests())
        updated = stack(edited=True).up()
        assert changes(updated) == {"same": 8, "update": 1}
        datadog = next(
            s
            for s in list_sources(connect(emulator.url, golden["apiKey"]))
            if s["name"] == "golden-datadog"
        )
        assert writes(emulator, since) == [("PUT", f"/v1/config/log-sources/{datadog['id']}")]
        assert datadog["sources"] == ["service:a", "service:b"]

        destroyed = stack(edited=True).destroy()
        assert changes(destroyed) == {"delete": 9}
        assert list_sources(connect(emulator.url, golden["apiKey"])) == []
        assert list_sources(connect(emulator.url, golden["tenantBApiKey"])) == []
        assert_no_plaintext(backend_files(env), *SECRET_VALUES, golden["tenantBApiKey"])
