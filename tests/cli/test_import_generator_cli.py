"""`sigsentry-pulumi import`: from sources made by hand to a Pulumi program managing them.

The generator runs as a user runs it (`python -m sigsentry_pulumi import`, a subprocess with
the key in the environment). Then its printed lines are carried out as they stand, one by one,
in a shell, as a user in an activated virtualenv would: the values of `pulumi config set
--secret` typed at its prompt, `python run.py ...` with the CLI built here first on PATH (it has
no Python language host, so this is the way the printed lines give for it).
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.stacks import CREDENTIAL_A, assert_no_plaintext, backend_files, writes
from raw_api import LOG_SOURCES, list_sources
from samples import CREDENTIALS, SERVICE_ACCOUNT, SOURCES
from sigsentry_pulumi._constants import DEFAULT_API_URL
from sigsentry_pulumi._errors import SigSentryError
from sigsentry_pulumi._models import LogSourceRecord
from sigsentry_pulumi.cli import _failure, generate_program, instructions
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
HOST = "https://logs.example.com"

# Sources made by hand: every type, one inactive, two names giving the same resource name, and
# long names (the generated code is laid out as ruff format would lay it out).
BY_HAND: list[dict[str, Any]] = [
    {"type": "cloudwatch", "name": "Checkout API"},
    {"type": "cloudwatch", "name": "checkout-api", "inactive": True},
    {"type": "datadog", "name": "payments"},
    {"type": "loki", "name": "edge"},
    {"type": "splunk", "name": "audit"},
    {"type": "elastic", "name": "Elasticsearch cluster of the search team"},
    {"type": "gcp_logging", "name": "Cloud Run revisions of the billing service in europe"},
]


def make_by_hand(api: httpx.Client) -> list[dict[str, Any]]:
    for source in BY_HAND:
        body = {
            "type": source["type"],
            "name": source["name"],
            "credentials": CREDENTIALS[source["type"]],
            "sources": SOURCES[source["type"]],
        }
        response = api.post(LOG_SOURCES, json=body)
        response.raise_for_status()
        if source.get("inactive"):
            made = response.json()["data"]["id"]
            api.put(f"{LOG_SOURCES}/{made}", json={"isActive": False}).raise_for_status()
    return list_sources(api)


def generate(emulator: Any, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIGSENTRY_API_URL": emulator.url}
    env["SIGSENTRY_API_KEY"] = emulator.api_key if key is None else key
    env.pop("SIGSENTRY_PROJECT_ID", None)
    if key == "":
        env.pop("SIGSENTRY_API_KEY")
    return subprocess.run(
        [sys.executable, "-m", "sigsentry_pulumi", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def printed_lines(stdout: str) -> list[str]:
    """The block of lines to run: the output's second paragraph, comments included."""
    return stdout.split("\n\n")[1].splitlines()


def user_environment(pulumi_env: PulumiEnvironment) -> dict[str, str]:
    """A shell in an activated virtualenv holding the packages, the built CLI first on PATH."""
    env = pulumi_env.env
    env["PATH"] = os.pathsep.join([str(pulumi_env.cli.parent), str(VENV_BIN), env["PATH"]])
    env["VIRTUAL_ENV"] = sys.prefix
    # Set by the private environment for the tests' own stacks; a user has none: run.py sets it.
    env.pop("PULUMI_RUNTIME_VIRTUALENV", None)
    # requirements.txt is already satisfied here; pip must not reach for a package index.
    env.update({"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return env


def typed_value(key: str, emulator: Any) -> str:
    """What the user types at `pulumi config set --secret KEY`'s prompt."""
    if key == "sigsentry:apiKey":
        return str(emulator.api_key)
    return HOST if key.endswith("_host") else CREDENTIAL_A


def carry_out(lines: list[str], emulator: Any, env: dict[str, str], start: Path) -> list[str]:
    """Run each printed line as it stands in a shell; returns each one's output, in order."""
    cwd, outputs = start, []
    for line in lines:
        words = shlex.split(line, comments=True)
        if not words:
            continue  # a choice left as printed: a comment
        if words[0] == "cd":
            cwd = cwd / words[1]
            continue
        typed = ""
        if words[:4] == ["pulumi", "config", "set", "--secret"] and "<" not in line:
            typed = typed_value(words[4], emulator) + "\n"
        ran = subprocess.run(
            ["bash", "-c", line],
            cwd=cwd,
            env=env,
            input=typed,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert ran.returncode == 0, f"{line}\n{ran.stdout}\n{ran.stderr}"
        outputs.append(ran.stdout + ran.stderr)
    return outputs


def fields(source: dict[str, Any]) -> tuple[Any, ...]:
    return (source["id"], source["type"], source["name"], source["sources"], source["isActive"])


def test_the_printed_lines_run_as_they_stand_adopt_every_source_without_a_post(
    tmp_path: Path, api: httpx.Client, emulator: Any, pulumi_env: PulumiEnvironment
) -> None:
    made = make_by_hand(api)
    out = tmp_path / "adopted"

    generated = generate(emulator, "import", "--out", str(out))
    assert generated.returncode == 0, generated.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
        "run.py",
    ]
    assert "sigsentry-pulumi" in (out / "requirements.txt").read_text()
    main = (out / "__main__.py").read_text()
    for source in made:
        assert f'adopt_id="{source["id"]}"' in main
    # Readable, unique resource names: "Checkout API" and "checkout-api" do not collide.
    assert '"checkout-api",' in main and '"checkout-api-2",' in main
    assert_no_plaintext({"stdout": generated.stdout, "stderr": generated.stderr}, emulator.api_key)

    lines = printed_lines(generated.stdout)
    elastic = "elasticsearch_cluster_of_the"  # cut at a word, 30 characters at most
    gcp = "cloud_run_revisions_of_the"
    assert lines[:3] == [
        f"cd {out}",
        "python -m pip install -r requirements.txt",
        "pulumi stack init dev",
    ]
    assert lines[3:] == [
        f"pulumi config set sigsentry:apiUrl {emulator.url}",
        "pulumi config set --secret sigsentry:apiKey",
        "pulumi config set --secret checkout_api_accessKeyId",
        "pulumi config set --secret checkout_api_secretAccessKey",
        "# optional: pulumi config set --secret checkout_api_sessionToken",
        "pulumi config set --secret checkout_api_2_accessKeyId",
        "pulumi config set --secret checkout_api_2_secretAccessKey",
        "# optional: pulumi config set --secret checkout_api_2_sessionToken",
        "pulumi config set --secret payments_apiKey",
        "pulumi config set --secret payments_appKey",
        "pulumi config set --secret edge_host",
        "# optional: pulumi config set --secret edge_apiKey",
        "# optional: pulumi config set --secret edge_orgId",
        "pulumi config set --secret audit_host",
        "pulumi config set --secret audit_token",
        f"pulumi config set --secret {elastic}_host",
        f"pulumi config set --secret {elastic}_apiKey",
        f"# or, instead of {elastic}_apiKey:",
        f"#   pulumi config set --secret {elastic}_username",
        f"#   pulumi config set --secret {elastic}_password",
        f"pulumi config set --secret {gcp}_serviceAccountJson < key.json",
        "python run.py preview",
        "python run.py up",
    ]
    # No hint written for the library: the command has no api_key option.
    assert "api_key=" not in generated.stdout

    # The generated code passes the linters as it is.
    for tool in (
        ["ruff", "check", "--no-cache", "--select", "E,F,I,UP,B", "."],
        ["ruff", "format", "--no-cache", "--check", "."],
        ["mypy", "--strict", "__main__.py", "run.py"],
    ):
        linted = subprocess.run(
            [str(VENV_BIN / tool[0]), *tool[1:]],
            cwd=out,
            # For a checkout installed without `editable_mode=compat` (an import hook mypy does
            # not follow): point mypy at the package as an installed copy would.
            env={**os.environ, "MYPYPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert linted.returncode == 0, linted.stdout + linted.stderr

    # The user's service-account key file, as Google hands it out (many lines).
    key_file = json.dumps(json.loads(SERVICE_ACCOUNT), indent=2)
    (out / "key.json").write_text(key_file + "\n")
    before = len(emulator.requests())
    env = user_environment(pulumi_env)
    outputs = carry_out(lines, emulator, env, tmp_path)
    preview, up = outputs[-2:]
    count = len(made) + 1  # the stack resource too
    assert f"+ {count} to create" in preview, preview
    assert f"+ {count} created" in up, up

    # No POST, no new source: one PUT to each existing source, with the credentials typed.
    sent = writes(emulator, before)
    assert [method for method, _ in sent] == ["PUT"] * len(made)
    assert sorted(path for _, path in sent) == sorted(f"{LOG_SOURCES}/{s['id']}" for s in made)
    assert sorted(map(fields, list_sources(api))) == sorted(map(fields, made))
    by_name = {s["name"]: s["id"] for s in made}
    elastic_id = by_name["Elasticsearch cluster of the search team"]
    assert emulator.credential_differences(elastic_id, {"host": HOST, "apiKey": CREDENTIAL_A}) == []
    gcp_id = by_name["Cloud Run revisions of the billing service in europe"]
    assert emulator.credential_differences(gcp_id, {"serviceAccountJson": key_file}) == []
    exported = subprocess.run(
        [str(pulumi_env.cli), "stack", "export"],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    states = [
        r["id"]
        for r in json.loads(exported)["deployment"]["resources"]
        if r["type"].endswith("sigsentry:LogSource")
    ]
    assert sorted(states) == sorted(s["id"] for s in made)

    # run.py again: nothing to change.
    again = carry_out(["python run.py preview"], emulator, env, out)[0]
    assert f"{count} unchanged" in again, again

    # The printed alternative, taken later: elastic's user and password instead of its apiKey.
    alternative = [line.removeprefix("#   ") for line in lines if line.startswith("#   ")]
    assert alternative == [
        f"pulumi config set --secret {elastic}_{k}" for k in ("username", "password")
    ]
    before = len(emulator.requests())
    switched = carry_out(
        [f"pulumi config rm {elastic}_apiKey", *alternative, "python run.py up"], emulator, env, out
    )[-1]
    assert "~ 1 updated" in switched, switched
    assert writes(emulator, before) == [("PUT", f"{LOG_SOURCES}/{elastic_id}")]
    typed = {"host": HOST, "username": CREDENTIAL_A, "password": CREDENTIAL_A}
    assert emulator.credential_differences(elastic_id, typed) == []
    assert_no_plaintext(
        {
            **{f"step {i}": text for i, text in enumerate(outputs)},
            "again": again,
            "switched": switched,
            **backend_files(pulumi_env),
        },
        emulator.api_key,
        CREDENTIAL_A,
    )


def test_import_filters_and_never_overwrites_a_folder(
    tmp_path: Path, api: httpx.Client, emulator: Any
) -> None:
    made = make_by_hand(api)
    out = tmp_path / "cloudwatch"
    generated = generate(emulator, "import", "--out", str(out), "--type", "cloudwatch")
    assert generated.returncode == 0, generated.stderr
    main = (out / "__main__.py").read_text()
    adopted = [s["name"] for s in made if f'adopt_id="{s["id"]}"' in main]
    assert sorted(adopted) == ["Checkout API", "checkout-api"]

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


def test_every_hint_names_the_commands_own_flags_and_variables(
    tmp_path: Path, emulator: Any
) -> None:
    out = str(tmp_path / "out")
    with socket.socket() as unused:  # a port nothing listens on once this closes
        unused.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{unused.getsockname()[1]}"
    failures = {
        "no key": generate(emulator, "import", "--out", out, key=""),
        "wrong key": generate(emulator, "import", "--out", out, key="ss_secret_wrong"),
        "tenant key": generate(
            emulator, "import", "--out", out, key=emulator.create_key(project_id=None).api_key
        ),
        "/v1 in the URL": generate(
            emulator, "import", "--out", out, "--api-url", emulator.url + "/v1"
        ),
        "not a URL": generate(emulator, "import", "--out", out, "--api-url", "localhost:1"),
        "closed port": generate(emulator, "import", "--out", out, "--api-url", closed),
    }
    expected = {
        "no key": "export SIGSENTRY_API_KEY=<key>",
        "wrong key": "401 UNAUTHORIZED: unknown API key. Check the key in SIGSENTRY_API_KEY",
        "tenant key": "needs a project: give --project-id (or SIGSENTRY_PROJECT_ID)",
        "/v1 in the URL": "check --api-url (or SIGSENTRY_API_URL), the server root",
        "not a URL": "--api-url (or SIGSENTRY_API_URL) must be an absolute http:// or https://",
        "closed port": f"could not connect to {closed} (connection refused",
    }
    for mistake, run in failures.items():
        assert run.returncode == 1, mistake
        assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1, run.stderr
        assert expected[mistake] in run.stderr, (mistake, run.stderr)
        if mistake in {"closed port", "/v1 in the URL"}:
            assert "Check --api-url (or SIGSENTRY_API_URL)" in run.stderr.replace("check", "Check")
        # Hints written for a program or the library would not fit the command.
        assert "pulumi config" not in run.stderr and "sigsentry:" not in run.stderr
        assert "api_key=" not in run.stderr and "Traceback" not in run.stderr
    assert not Path(out).exists()


class Redirecting(BaseHTTPRequestHandler):
    """A server root that sends every request to a sign-in page, as a wrong URL may."""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "https://login.example.com/sso")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_redirect_names_its_target_and_the_url_flag(tmp_path: Path, emulator: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        run = generate(emulator, "import", "--out", str(tmp_path / "out"), "--api-url", url)
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert run.stderr.startswith(
        "error: SigSentry answered 302 redirecting to https://login.example.com/sso: give "
        "--api-url (or SIGSENTRY_API_URL) the API's own address"
    )
    assert "sigsentry:" not in run.stderr


def test_a_stack_setting_named_by_the_library_is_translated_for_the_command() -> None:
    message = "redirected to https://login.example.com: check sigsentry:apiUrl"
    assert _failure(SigSentryError(message)) == (
        f"{message} (for this command, sigsentry:apiUrl is --api-url (or SIGSENTRY_API_URL))"
    )
    assert _failure(SigSentryError("no setting named")) == "no setting named"


def test_help_names_every_flag_and_the_key_variable(emulator: Any) -> None:
    shown = generate(emulator, "import", "--help")
    assert shown.returncode == 0
    for flag in ("--out", "--api-url", "--project-id", "--type", "--name", "--project-name"):
        assert flag in shown.stdout
    for variable in ("SIGSENTRY_API_KEY", "SIGSENTRY_API_URL", "SIGSENTRY_PROJECT_ID"):
        assert variable in " ".join(shown.stdout.split())
    assert "run.py" in shown.stdout
    top = generate(emulator, "--help")
    assert top.returncode == 0 and "import" in top.stdout


def test_docs_show_what_the_command_prints() -> None:
    """docs/provider.md's sample output, rebuilt from its two sources, line for line."""
    doc = (ROOT / "docs" / "provider.md").read_text()
    shown = doc[doc.index("$ sigsentry-pulumi import --out adopted\n") :].splitlines()[1:]
    shown = shown[: shown.index("python run.py up") + 1]
    records = [
        LogSourceRecord(
            id=f"ls_{name}",
            tenant_id="tnt_doc",
            type=kind,
            name=name,
            sources=["x"],
            is_active=True,
        )
        for kind, name in (("datadog", "payments"), ("elastic", "search"))
    ]
    _, secrets = generate_program(records)
    printed = instructions(Path("adopted"), len(records), DEFAULT_API_URL, None, secrets)
    assert printed[: len(shown)] == shown
