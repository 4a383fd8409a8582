"""The ten mistakes a user meets most, through the real Pulumi CLI against the emulator: each fails
`pulumi up` with the message that names it and what to do, after at most 4 traceback frames
(the SDK's plugin prints `traceback.format_exc()`: its two frames and the provider's one), with
no chained exception; a closed port fails within seconds. `cli/error_support.py` makes each
mistake, and prints the table of lines and frames when run as a script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cli.error_support import MISTAKES, make_mistake
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

MAX_FRAMES = 4
CLOSED_PORT_SECONDS = 15.0
"""`pulumi up` itself takes a few seconds; the refused connections at most 4 s of waiting."""


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_common_mistake_fails_with_its_message_after_a_short_traceback(
    name: str, pulumi_env: PulumiEnvironment, emulator: Any, tmp_path: Path
) -> None:
    printed = make_mistake(name, pulumi_env, emulator, tmp_path)
    message = printed.lines[-1].strip()
    assert message.startswith("sigsentry_pulumi."), printed.text  # the last line, whole
    for fragment in MISTAKES[name].expected:
        assert fragment in message, (fragment, printed.text)
    assert printed.frames <= MAX_FRAMES, printed.text
    assert "During handling of the above exception" not in printed.text
    assert "direct cause of the following exception" not in printed.text
    assert "_client.py" not in printed.text  # no frame of the library's internals
    if name == "closed port":
        assert printed.seconds < CLOSED_PORT_SECONDS, printed.seconds
