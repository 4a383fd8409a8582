"""`make demo`: deploy the quick start against a local SigSentry emulator, twice, then tear down.

1. Start the emulator (`python -m sigsentry_emulator`) on a free loopback port, with a demo API
   key and its database in a temporary directory.
2. Deploy `examples/quickstart/` with made-up AWS keys held as secret config: with the Pulumi CLI
   (Automation API, local file backend, passphrase secrets) when `pulumi` is on PATH, else through
   the engine stand-in `sigsentry_pulumi.testing.Stack`, which drives the same provider plugin the
   CLI would start. Preview, up, up again (nothing may change), destroy; after each step the
   emulator's own list is checked against what the step claims.
3. Stop the emulator and delete the temporary directory.

Exit status 0 only when every step did what it should; any failure prints why and exits 1.
Nothing printed contains the API key or a credential: Pulumi masks secrets as ``[secret]``, and
every line this script prints is also passed through a redactor that knows the demo's secrets.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import string
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart"
PROJECT = "sigsentry-quickstart"  # the `name:` in examples/quickstart/Pulumi.yaml
STACK = "dev"
LOG_SOURCES = "/v1/config/log-sources"


class DemoFailure(Exception):
    """A step did not do what it should; the message says which and how."""


@dataclass(frozen=True, repr=False)
class DemoSecrets:
    """The demo's secrets: the emulator's API key and made-up AWS keys (valid in shape only).

    The prefixes ``AKIADEMO`` and ``demo-secret-`` make a leak easy to spot in the output.
    """

    api_key: str
    aws_access_key_id: str
    aws_secret_access_key: str

    @classmethod
    def generate(cls, api_key: str) -> DemoSecrets:
        alphabet = string.ascii_uppercase + string.digits
        key_id = "AKIADEMO" + "".join(secrets.choice(alphabet) for _ in range(12))
        return cls(api_key, key_id, "demo-secret-" + secrets.token_urlsafe(24))

    def values(self) -> tuple[str, ...]:
        return (self.api_key, self.aws_access_key_id, self.aws_secret_access_key)

    def __repr__(self) -> str:
        return "DemoSecrets([secret])"


class Console:
    """Prints the demo's output, replacing any known secret that would slip into it.

    A replacement means some component printed a secret: the text stays safe, and ``leaks``
    counts the lines so that the demo fails instead of hiding the bug.
    """

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()
        self.leaks = 0

    def hide(self, values: Iterable[str]) -> None:
        self._secrets = tuple(v for v in values if v)

    def redact(self, text: str) -> str:
        masked = text
        for value in self._secrets:
            masked = masked.replace(value, "[secret]")
        self.leaks += masked != text
        return masked

    def say(self, text: str = "", *, end: str = "\n") -> None:
        sys.stdout.write(self.redact(text) + end)
        sys.stdout.flush()

    def heading(self, text: str) -> None:
        self.say(f"\n=== {text} ===\n")


console = Console()


# --- the emulator -----------------------------------------------------------------------------


@contextmanager
def running_emulator(workdir: Path) -> Iterator[Any]:
    """The emulator as a real subprocess on a free loopback port; stopped on the way out."""
    from sigsentry_emulator.testing import EmulatorProcess

    with EmulatorProcess(db_path=workdir / "emulator" / "sigsentry.db") as emulator:
        yield emulator


class EmulatorView:
    """What the emulator holds, read over its HTTP API, to check each step against."""

    def __init__(self, url: str, api_key: str) -> None:
        self._client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=10
        )

    def sources(self) -> list[dict[str, Any]]:
        response = self._client.get(LOG_SOURCES, params={"limit": 500})
        if response.status_code != 200:
            raise DemoFailure(f"listing log sources failed: HTTP {response.status_code}")
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def expect_count(self, count: int, after: str) -> list[dict[str, Any]]:
        found = self.sources()
        if len(found) != count:
            raise DemoFailure(f"after {after} the emulator holds {len(found)} sources, not {count}")
        noun = "log source" if count == 1 else "log sources"
        described = ", ".join(f"{s['id']} ({s['type']}, {s['name']!r})" for s in found)
        console.say(f"Emulator now holds {count} {noun}{': ' + described if found else ''}")
        return found

    def close(self) -> None:
        self._client.close()


def expect_state_encrypted(state_files: Iterable[Path], demo: DemoSecrets) -> None:
    """Fail if a stack state file holds the API key or a credential in plain text."""
    files = [path for path in state_files if path.is_file()]
    if not files:
        raise DemoFailure("no stack state file was written")
    for path in files:
        content = path.read_bytes()
        if any(value.encode() in content for value in demo.values()):
            raise DemoFailure(f"the stack state {path.name} holds a secret in plain text")
    console.say("Stack state checked: the API key and credentials are stored only encrypted")


def expect_steps(actual: Mapping[str, int], expected: Mapping[str, int], what: str) -> None:
    """Fail unless the step counts are exactly ``expected`` (zero counts ignored)."""
    actual = {op: n for op, n in actual.items() if n}
    if actual != dict(expected):
        raise DemoFailure(f"{what}: expected {dict(expected)}, the engine reported {actual}")


# --- deploying through the engine stand-in ------------------------------------------------------


def run_with_stand_in(emulator: Any, demo: DemoSecrets, workdir: Path, view: EmulatorView) -> None:
    from sigsentry_pulumi.testing import Secret, Stack
    from sigsentry_pulumi.testing.render import render

    console.say(
        "The Pulumi CLI is not on PATH: deploying through the engine stand-in\n"
        "(sigsentry_pulumi.testing), which runs the program and drives the same provider plugin\n"
        "(`python -m pulumi.dynamic`) that `pulumi up` would start. Install the CLI to see\n"
        "`pulumi up` itself (see docs/demo.md)."
    )
    stack = Stack(
        QUICKSTART,
        state_file=workdir / "stack-state.json",
        config={
            "sigsentry:apiUrl": emulator.url,
            "sigsentry:apiKey": Secret(demo.api_key),
            f"{PROJECT}:awsAccessKeyId": Secret(demo.aws_access_key_id),
            f"{PROJECT}:awsSecretAccessKey": Secret(demo.aws_secret_access_key),
        },
        project=PROJECT,
        stack=STACK,
        passphrase=secrets.token_urlsafe(24),
    )

    def step(title: str, operation: Callable[[], Any], expected: Mapping[str, int]) -> Any:
        console.heading(title)
        started = time.monotonic()
        result = operation()
        console.say(render(result, stack=STACK, duration=time.monotonic() - started), end="")
        expect_steps(result.counts(), expected, title)
        return result

    step("pulumi preview: what would change", stack.preview, {"create": 1})
    view.expect_count(0, "the preview")

    result = step("pulumi up: create the log source", stack.up, {"create": 1})
    (source,) = view.expect_count(1, "the first up")
    if result.outputs.get("log_source_id") != source["id"]:
        raise DemoFailure("the stack output log_source_id does not match the emulator's source")
    if not isinstance(result.outputs.get("credentials"), Secret):
        raise DemoFailure("the credentials output is not marked secret")
    expect_state_encrypted([workdir / "stack-state.json"], demo)

    step("pulumi up, again: nothing to change", stack.up, {"same": 1})
    view.expect_count(1, "the second up")

    step("pulumi destroy: tear it down", stack.destroy, {"delete": 1})
    view.expect_count(0, "destroy")


# --- deploying with the Pulumi CLI --------------------------------------------------------------


def run_with_cli(emulator: Any, demo: DemoSecrets, workdir: Path, view: EmulatorView) -> None:
    from pulumi import automation as auto

    pulumi = shutil.which("pulumi")
    console.say(f"Deploying with the Pulumi CLI ({pulumi}) through the Automation API.")
    # A copy of the quick start, so the stack's settings file lands in the temporary directory
    # and not in the checkout. Its virtualenv is this interpreter's, already complete, so the copy
    # leaves out requirements.txt (whose relative path only resolves inside the checkout).
    program_dir = workdir / "quickstart"
    shutil.copytree(
        QUICKSTART,
        program_dir,
        ignore=shutil.ignore_patterns("Pulumi.*.yaml", "*venv*", "requirements.txt"),
    )
    state_dir = workdir / "pulumi-state"
    state_dir.mkdir()
    settings = auto.ProjectSettings(
        name=PROJECT,
        runtime=auto.ProjectRuntimeInfo(
            name="python", options={"toolchain": "pip", "virtualenv": sys.prefix}
        ),
        backend=auto.ProjectBackend(url=f"file://{state_dir}"),
    )
    passphrase = secrets.token_urlsafe(24)
    console.hide((*demo.values(), passphrase))
    env = {
        "PULUMI_BACKEND_URL": f"file://{state_dir}",
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
        "PULUMI_RUNTIME_VIRTUALENV": sys.prefix,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }
    stack = auto.create_or_select_stack(
        STACK,
        work_dir=str(program_dir),
        opts=auto.LocalWorkspaceOptions(
            env_vars=env, secrets_provider="passphrase", project_settings=settings
        ),
    )
    stack.set_all_config(
        {
            "sigsentry:apiUrl": auto.ConfigValue(emulator.url),
            "sigsentry:apiKey": auto.ConfigValue(demo.api_key, secret=True),
            f"{PROJECT}:awsAccessKeyId": auto.ConfigValue(demo.aws_access_key_id, secret=True),
            f"{PROJECT}:awsSecretAccessKey": auto.ConfigValue(
                demo.aws_secret_access_key, secret=True
            ),
        }
    )

    def counts(op_map: Any) -> dict[str, int]:
        # OpType keys are str enums; history summaries use plain strings.
        return {str(getattr(op, "value", op)): n for op, n in (op_map or {}).items()}

    print_line = console.say
    # The CLI also counts the stack resource itself (pulumi:pulumi:Stack).
    console.heading("pulumi preview: what would change")
    preview = stack.preview(on_output=print_line, on_error=print_line)
    expect_steps(counts(preview.change_summary), {"create": 2}, "preview")
    view.expect_count(0, "the preview")

    console.heading("pulumi up: create the log source")
    up = stack.up(on_output=print_line, on_error=print_line, show_secrets=False)
    expect_steps(counts(up.summary.resource_changes), {"create": 2}, "the first up")
    (source,) = view.expect_count(1, "the first up")
    if up.outputs["log_source_id"].value != source["id"]:
        raise DemoFailure("the stack output log_source_id does not match the emulator's source")
    if not up.outputs["credentials"].secret:
        raise DemoFailure("the credentials output is not marked secret")
    expect_state_encrypted(state_dir.rglob("*.json"), demo)

    console.heading("pulumi up, again: nothing to change")
    again = stack.up(
        on_output=print_line, on_error=print_line, show_secrets=False, expect_no_changes=True
    )
    expect_steps(counts(again.summary.resource_changes), {"same": 2}, "the second up")
    view.expect_count(1, "the second up")

    console.heading("pulumi destroy: tear it down")
    destroyed = stack.destroy(on_output=print_line, on_error=print_line, show_secrets=False)
    expect_steps(counts(destroyed.summary.resource_changes), {"delete": 2}, "destroy")
    view.expect_count(0, "destroy")
    stack.workspace.remove_stack(STACK)


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--engine",
        choices=("auto", "cli", "stand-in"),
        default="auto",
        help="auto (default): the Pulumi CLI when `pulumi` is on PATH, else the stand-in",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_cli = args.engine == "cli" or (args.engine == "auto" and shutil.which("pulumi"))
    if args.engine == "cli" and not shutil.which("pulumi"):
        console.say("demo failed: --engine cli needs the `pulumi` binary on PATH")
        return 2
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="sigsentry-demo-") as tmp:
            workdir = Path(tmp)
            console.heading("Starting the SigSentry emulator")
            with running_emulator(workdir) as emulator:
                demo = DemoSecrets.generate(emulator.api_key)
                console.hide(demo.values())
                console.say(
                    f"Emulator listening on {emulator.url} (demo tenant, project "
                    f"{emulator.project_id}, API key [secret])"
                )
                console.say(
                    "Reading Pulumi's output: + create, ~ update, +- replace, - delete, blank for "
                    "unchanged;\n[secret] stands for a secret value, which is never printed."
                )
                view = EmulatorView(emulator.url, demo.api_key)
                try:
                    run = run_with_cli if use_cli else run_with_stand_in
                    run(emulator, demo, workdir, view)
                finally:
                    view.close()
                console.heading("Stopping the emulator")
            console.say("Emulator stopped; its temporary database is deleted with the directory.")
    except DemoFailure as failure:
        console.say(f"\ndemo failed: {failure}")
        return 1
    except Exception as error:  # any other failure: say what it was, never a traceback of secrets
        console.say(f"\ndemo failed: {type(error).__name__}: {error}")
        return 1
    if console.leaks:
        console.say(f"\ndemo failed: a secret reached {console.leaks} line(s) of output (masked)")
        return 1
    console.say(f"Demo finished in {time.monotonic() - started:.1f}s: all steps as expected.")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
