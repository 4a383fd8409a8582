"""The Pulumi CLI this checkout runs, and a private, offline environment to run it in.

`make` builds the CLI pinned in tools/pulumi/go.mod into .tools/bin/ (tools/pulumi/build.sh) unless
tools/pulumi/find-cli picks another: ``$SIGSENTRY_PULUMI_CLI`` when set, else a ``pulumi`` on PATH
at least as new as the pin. The demo, the real-CLI tests and the benchmarks all ask this module,
so they run the same binary.

`PulumiEnvironment` keeps every file the CLI writes (``PULUMI_HOME``, the ``file://`` backend,
workspaces) inside one folder, turns off the update check and plugin downloads, and sets a random
passphrase for the state's secrets: nothing reaches the network or the user's home.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulumi import automation as auto

ROOT = Path(__file__).resolve().parent.parent
PIN_FILE = ROOT / "tools" / "pulumi" / "go.mod"
FIND_CLI = ROOT / "tools" / "pulumi" / "find-cli"
CLI_VARIABLE = "SIGSENTRY_PULUMI_CLI"


def config_values(
    project: str, plain: Mapping[str, str], secret: Mapping[str, str]
) -> dict[str, auto.ConfigValue]:
    """Stack config for ``Stack.set_all_config``: keys without a namespace get the project's."""
    from pulumi import automation as auto

    def key(name: str) -> str:
        return name if ":" in name else f"{project}:{name}"

    values = {key(k): auto.ConfigValue(v) for k, v in plain.items()}
    values.update({key(k): auto.ConfigValue(v, secret=True) for k, v in secret.items()})
    return values


class CLINotFoundError(RuntimeError):
    """No Pulumi CLI can be run; the message says how to get one."""


def pinned_version() -> str:
    """The Pulumi release pinned in tools/pulumi/go.mod, such as ``v3.274.1``."""
    match = re.search(r"^\s*github\.com/pulumi/pulumi/pkg/v3 (v\S+)", PIN_FILE.read_text(), re.M)
    if match is None:
        raise RuntimeError(f"{PIN_FILE} does not require github.com/pulumi/pulumi/pkg/v3")
    return match.group(1)


def find_cli() -> Path:
    """The CLI to run, chosen as tools/pulumi/find-cli chooses it; raises when it is missing."""
    chosen = subprocess.run(
        [str(FIND_CLI)], check=True, capture_output=True, text=True, env=os.environ.copy()
    ).stdout.strip()
    cli = Path(chosen)
    if not (cli.is_file() and os.access(cli, os.X_OK)):
        raise CLINotFoundError(
            f"no Pulumi CLI at {cli}: run `make cli` to build Pulumi {pinned_version()} into "
            f".tools/bin/ (needs Go and the Go module proxy), or set {CLI_VARIABLE} to a "
            f"`pulumi` binary at least as new"
        )
    return cli


def cli_version(cli: Path) -> str:
    return subprocess.run(
        [str(cli), "version"], check=True, capture_output=True, text=True, timeout=60
    ).stdout.strip()


@dataclass
class PulumiEnvironment:
    """Everything the CLI needs to run privately under ``base``.

    ``env`` is the whole environment for the CLI (and so for the plugins it starts): this
    process's environment, the CLI's folder first on PATH (so its bundled plugin launchers are
    found), and the private settings. The dynamic-provider plugin and policy packs run in this
    Python's virtualenv (``PULUMI_RUNTIME_VIRTUALENV``), so they import this checkout's packages.
    """

    base: Path
    cli: Path = field(default_factory=find_cli)
    passphrase: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(parents=True, exist_ok=True)

    @property
    def home(self) -> Path:
        return self.base / "pulumi-home"

    @property
    def state(self) -> Path:
        return self.base / "state"

    @property
    def backend_url(self) -> str:
        return f"file://{self.state}"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PATH": f"{self.cli.parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "PULUMI_HOME": str(self.home),
                "PULUMI_BACKEND_URL": self.backend_url,
                "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                "PULUMI_RUNTIME_VIRTUALENV": sys.prefix,
                "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            }
        )
        env.pop("PULUMI_ACCESS_TOKEN", None)
        return env

    def command(self) -> auto.PulumiCommand:
        """The Automation API's handle on this CLI (it expects ``<root>/bin/pulumi``)."""
        from pulumi import automation as auto

        if self.cli.name != "pulumi":
            raise CLINotFoundError(
                f"the Automation API needs a binary named `pulumi`, not {self.cli}"
            )
        return auto.PulumiCommand(root=str(self.cli.parent.parent), skip_version_check=True)

    def inline_stack(
        self,
        program: Callable[[], object],
        *,
        project: str,
        stack: str,
        work_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        command: auto.PulumiCommand | None = None,
    ) -> auto.Stack:
        """An Automation API stack that runs ``program`` inline with this CLI, privately.

        ``work_dir`` (default ``<base>/work/<project>``) holds the workspace's files; ``env`` is
        the CLI's whole environment (default ``self.env``); ``command`` another handle on the
        CLI (a time-limited one, say).
        """
        from pulumi import automation as auto

        folder = work_dir or self.base / "work" / project
        folder.mkdir(parents=True, exist_ok=True)

        def run() -> None:
            program()  # whatever a program returns is ignored, as Pulumi ignores it

        return auto.create_or_select_stack(
            stack,
            project_name=project,
            program=run,
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(folder),
                pulumi_home=str(self.home),
                pulumi_command=command or self.command(),
                env_vars=dict(env) if env is not None else self.env,
                secrets_provider="passphrase",
                project_settings=auto.ProjectSettings(
                    name=project,
                    runtime=auto.ProjectRuntimeInfo(name="python"),
                    backend=auto.ProjectBackend(url=self.backend_url),
                ),
            ),
        )

    def plugin_pids(self) -> list[int]:
        """The `python -m pulumi.dynamic` plugins this environment's CLI started and that still
        run. They lead process groups of their own and outlive a CLI killed with SIGKILL."""
        pids = []
        marker = f"PULUMI_HOME={self.home}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if b"pulumi.dynamic" in cmdline and marker in environ.split(b"\0"):
                pids.append(int(entry.name))
        return pids

    def kill_plugins(self) -> int:
        """SIGKILL every plugin `plugin_pids` finds, by pid; wait (30 s at most) for them to go."""
        killed = 0
        for pid in self.plugin_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        deadline = time.monotonic() + 30
        while self.plugin_pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        return killed

    def run(
        self, *args: str, cwd: Path | None = None, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run the CLI itself (``pulumi stack export``, say) with this environment."""
        return subprocess.run(
            [str(self.cli), *args],
            cwd=cwd or self.base,
            stdin=subprocess.DEVNULL,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )
