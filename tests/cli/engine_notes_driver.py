"""Runs one Automation API `up` of a slow program on an existing stack, then exits.

``python -m <package>.engine_notes_driver WORK_DIR STACK [PROGRAM [URN]]``: PROGRAM is `recorded`
(one `Recorded` resource whose create takes a minute) or `log-source` (that, plus a `LogSource`);
URN, when given, is replaced (`up --replace URN`).
The environment (PULUMI_HOME, the
backend, the passphrase, the recording file) comes from the caller. A test starts this in a
process group of its own and kills the group mid-create; keeping the inline program in this
process means the killed program's threads die with it, not inside the test.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pulumi import automation as auto

from cli.recording_provider import Recorded, RecordingProvider

CREATE_SECONDS = 60.0


def slow_program() -> None:
    Recorded("res", {"label": "one"}, RecordingProvider(create_sleep=CREATE_SECONDS))


def log_source_program() -> None:
    import pulumi

    from sigsentry_pulumi import LogSource

    LogSource(
        "interrupted",
        type="loki",
        credentials={
            "host": "https://loki.example",
            "apiKey": pulumi.Config().require_secret("secretA"),
        },
        sources=['{app="checkout"}'],
    )
    if pulumi.Config().get_bool("slowSibling") is not False:
        slow_program()


PROGRAMS = {"recorded": slow_program, "log-source": log_source_program}


def main(work_dir: str, stack_name: str, program: str = "recorded", replace: str = "") -> None:
    cli = Path(os.environ["ENGINE_NOTES_CLI"])
    workspace = auto.LocalWorkspace(
        work_dir=work_dir,
        program=PROGRAMS[program],
        pulumi_home=os.environ["PULUMI_HOME"],
        pulumi_command=auto.PulumiCommand(root=str(cli.parent.parent), skip_version_check=True),
        env_vars=dict(os.environ),
    )
    auto.Stack.select(stack_name, workspace).up(replace=[replace] if replace else None)


if __name__ == "__main__":
    main(*sys.argv[1:5])
