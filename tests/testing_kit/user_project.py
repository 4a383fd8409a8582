"""Running a user's test files as a user's own project would: the environment they run in
(`user_env`) and docs/testing.md's files (`doc_files`); conftest.py's `run_pytest` fixture runs
them.

The files run outside the checkout (in the test's temporary folder, so no pyproject.toml or
conftest.py of ours applies) with this virtualenv's Python, the CLI's folder and then the
virtualenv's `bin` first on PATH (an activated virtualenv: the provider plugin runs `python3`
from PATH), a private PULUMI_HOME, no update check and no plugin download.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTING_DOC = ROOT / "docs" / "testing.md"
RUN_TIMEOUT_SECONDS = 600
# The Pulumi settings a user's shell may hold that would send the test elsewhere.
_FOREIGN = ("PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_HOME")

RunPytest = Callable[..., subprocess.CompletedProcess[str]]


def doc_files(text: str) -> dict[str, str]:
    """The ```python blocks whose first line is a `# <file>.py` comment, by file name."""
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    files = {}
    for block in blocks:
        first = block.splitlines()[0]
        match = re.fullmatch(r"# (\S+\.py)", first.strip())
        if match:
            files[match.group(1)] = block
    return files


def user_env(base: Path, cli: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    for name in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):
        env.pop(name, None)
    folders = [str(Path(sys.executable).parent)]
    if cli is not None:
        folders.insert(0, str(cli.parent))
    env["PATH"] = os.pathsep.join([*folders, env.get("PATH", "")])
    home = base / "pulumi-home"
    home.mkdir(exist_ok=True)
    env["PULUMI_HOME"] = str(home)
    env["PULUMI_SKIP_UPDATE_CHECK"] = "true"
    env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
    return env
