"""`sigsentry-pulumi import`: from sources made by hand to a Pulumi program managing them.

The generator runs as a user runs it (`python -m sigsentry_pulumi import`, a subprocess with
the key in the environment); its program then runs inline through the real CLI, and its printed
`pulumi config set` commands run through the real CLI too.
"""

from __future__ import annotations

import os
import runpy
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.stacks import (
    CREDENTIAL_A,
    assert_no_plaintext,
    backend_files,
    changes,
    log_source_states,
    writes,
)
from raw_api import LOG_SOURCES, list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LOKI_HOST = "https://loki.example.com"

# Five sources made by hand: three types, one inactive, two names giving the same resource name.
BY_HAND: list[dict[str, Any]] = [
    {
        "type": "cloudwatch",
        "name": "Checkout API",
        "credentials": {"accessKeyId": "AKIAHAND", "secretAccessKey": "hand-made"},
        "sources": ["/aws/lambda/checkout"],
    },
    {
        "type": "cloudwatch",
        "name": "checkout-api",
        "credentials": {"accessKeyId": "AKIAHAND", "secretAccessKey": "hand-made"},
        "sources": ["/aws/lambda/checkout-v2", "/aws/lambda/checkout-v3"],
        "inactive": True,
    },
    {
        "type": "datadog",
        "name": "payments",
        "credentials": {"apiKey": "hand-made", "appKey": "hand-made"},
        "sources": ["service:payments"],
    },
    {
        "type": "datadog",
        "name": "search",
        "credentials": {"apiKey": "hand-made", "appKey": "hand-made"},
        "sources": ["service:search"],
    },
    {
        "type": "loki",
        "name": "edge",
        "credentials": {"host": "https://old-loki.example.com"},
        "sources": ['{app="edge"}'],
    },
]


def make_by_hand(api: httpx.Client) -> list[dict[str, Any]]:
    for source in BY_HAND:
        body = {k: v for k, v in source.items() if k != "inactive"}
        response = api.post(LOG_SOURCES, json=body)
        response.raise_for_status()
        if source.get("inactive"):
            made = response.json()["data"]["id"]
            api.put(f"{LOG_SOURCES}/{made}", json={"isActive": False}).raise_for_status()
    return list_sources(api)


def generate(emulator: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SIGSENTRY_API_KEY": emulator.api_key,
        "SIGSENTRY_API_URL": emulator.url,
    }
    env.pop("SIGSENTRY_PROJECT_ID", None)
    return subprocess.run(
        [sys.executable, "-m", "sigsentry_pulumi", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def config_commands(stdout: str) -> list[list[str]]:
    return [
        shlex.split(line) for line in stdout.splitlines() if line.startswith("pulumi config set ")
    ]


def project_of(folder: Path) -> str:
    for line in (folder / "Pulumi.yaml").read_text().splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("the generated Pulumi.yaml has no name")


def fields(source: dict[str, Any]) -> tuple[Any, ...]:
    return (source["id"], source["type"], source["name"], source["sources"], source["isActive"])


def test_import_writes_a_program_that_adopts_every_source_without_a_post(
    tmp_path: Path,
    make_stack: Callable[..., Any],
    api: httpx.Client,
    emulator: Any,
    pulumi_env: PulumiEnvironment,
) -> None:
    made = make_by_hand(api)
    out = tmp_path / "adopted"

    generated = generate(emulator, "import", "--out", str(out))
    assert generated.returncode == 0, generated.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
    ]
    assert "sigsentry-pulumi" in (out / "requirements.txt").read_text()
    main = (out / "__main__.py").read_text()
    for source in made:
        assert f'adopt_id="{source["id"]}"' in main
    # Readable, unique resource names: "Checkout API" and "checkout-api" do not collide.
    assert '"checkout-api",' in main and '"checkout-api-2",' in main
    assert_no_plaintext({"stdout": generated.stdout, "stderr": generated.stderr}, emulator.api_key)
    commands = config_commands(generated.stdout)
    secret_keys = [c[4] for c in commands if c[3] == "--secret"]
    assert secret_keys == [
        "sigsentry:apiKey",
        "checkout_api_accessKeyId",
        "checkout_api_secretAccessKey",
        "checkout_api_2_accessKeyId",
        "checkout_api_2_secretAccessKey",
        "payments_apiKey",
        "payments_appKey",
        "search_apiKey",
        "search_appKey",
        "edge_host",
    ]
    assert "# optional: pulumi config set --secret checkout_api_sessionToken" in generated.stdout

    # The generated code passes the linters as it is.
    for tool in (
        ["ruff", "check", "--no-cache", "--select", "E,F,I,UP,B", "."],
        ["ruff", "format", "--no-cache", "--check", "."],
        ["mypy", "--strict", "__main__.py"],
    ):
        linted = subprocess.run(
            [str(VENV_BIN / tool[0]), *tool[1:]],
            cwd=out,
            # The checkout is installed in editable mode, through an import hook mypy does not
            # follow: point it at the package as an installed copy would.
            env={**os.environ, "MYPYPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert linted.returncode == 0, linted.stdout + linted.stderr

    project = project_of(out)

    def program() -> None:
        runpy.run_path(str(out / "__main__.py"), run_name="__main__")

    stack = make_stack(program, project=project)
    work_dir = Path(stack.workspace.work_dir)
    for command in commands:
        if command[3] != "--secret":  # a plain setting, with its value: run as printed
            pulumi_env.run(*command[1:], "--stack", stack.name, cwd=work_dir)
            continue
        key = command[4]
        value = {"sigsentry:apiKey": emulator.api_key, "edge_host": LOKI_HOST}.get(key)
        # `pulumi config set --secret KEY` prompts for the value; the test passes it instead.
        pulumi_env.run(
            *command[1:], "--stack", stack.name, "--", value or CREDENTIAL_A, cwd=work_dir
        )

    before = len(emulator.requests())
    up = stack.up()
    assert changes(up) == {"create": 6}
    sent = writes(emulator, before)
    assert [method for method, _ in sent] == ["PUT"] * 5
    assert sorted(path for _, path in sent) == sorted(f"{LOG_SOURCES}/{s['id']}" for s in made)
    after = list_sources(api)
    assert sorted(map(fields, after)) == sorted(map(fields, made))
    assert sorted(s["id"] for s in log_source_states(pulumi_env, stack)) == sorted(
        s["id"] for s in made
    )

    stack.preview(expect_no_changes=True)  # fails with a CommandError on any change

    before = len(emulator.requests())
    destroy = stack.destroy()
    assert changes(destroy) == {"delete": 6}
    assert sorted(writes(emulator, before)) == sorted(
        ("DELETE", f"{LOG_SOURCES}/{s['id']}") for s in made
    )
    assert list_sources(api) == []
    assert_no_plaintext(
        {"up": up.stdout, "destroy": destroy.stdout, **backend_files(pulumi_env)},
        emulator.api_key,
        CREDENTIAL_A,
    )


def test_import_filters_and_never_overwrites_a_folder(
    tmp_path: Path, api: httpx.Client, emulator: Any
) -> None:
    made = make_by_hand(api)
    out = tmp_path / "datadog"
    generated = generate(emulator, "import", "--out", str(out), "--type", "datadog")
    assert generated.returncode == 0, generated.stderr
    main = (out / "__main__.py").read_text()
    adopted = [s["name"] for s in made if f'adopt_id="{s["id"]}"' in main]
    assert adopted == ["payments", "search"]

    named = generate(emulator, "import", "--out", str(tmp_path / "named"), "--name", "*heckout*")
    assert named.returncode == 0, named.stderr
    assert (tmp_path / "named" / "__main__.py").read_text().count("LogSource(") == 2  # case counts

    written = main
    again = generate(emulator, "import", "--out", str(out))
    assert again.returncode == 2
    assert "is not an empty folder" in again.stderr
    assert (out / "__main__.py").read_text() == written

    nothing = generate(emulator, "import", "--out", str(tmp_path / "none"), "--name", "zzz*")
    assert nothing.returncode == 1 and "no log source matches" in nothing.stderr
    assert not (tmp_path / "none").exists()


def test_help_names_every_flag_and_the_key_variable(emulator: Any) -> None:
    shown = generate(emulator, "import", "--help")
    assert shown.returncode == 0
    for flag in ("--out", "--api-url", "--project-id", "--type", "--name", "--project-name"):
        assert flag in shown.stdout
    for variable in ("SIGSENTRY_API_KEY", "SIGSENTRY_API_URL", "SIGSENTRY_PROJECT_ID"):
        assert variable in " ".join(shown.stdout.split())
    top = generate(emulator, "--help")
    assert top.returncode == 0 and "import" in top.stdout
