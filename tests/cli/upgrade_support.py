"""Golden stacks: the state a release wrote, kept so later releases prove they still manage it.

Each release's folder under tests/cli/golden/ holds what that release's `pulumi up` left behind:
`stack.json` (`pulumi stack export`: the pickled provider path, the state names, the credentials
encrypted under the passphrase in `golden.json`), the emulator's database with its key file (the
sources those ids name), and `golden.json` (the tenant, project and test keys that database
knows). tests/cli/test_upgrade_cli.py imports every folder with the code of today.

`make golden` writes the folder of the version in pyproject.toml, once per release; a folder that
exists is never rewritten (`FORCE=1` rewrites it, before the release ships only). Everything in
it is made up for the test: the keys open only that database, the credentials are labels.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent / "golden"
PROJECT = "sigsentry-golden"
STACK = "golden"
TENANT_B = "tenantb"

# The program's sources, one per type, named `golden-<type>`; `golden-adopted` adopts a source
# made outside Pulumi and `golden-tenantb` lives in a second tenant (`account="tenantb"`).
SOURCES: dict[str, tuple[dict[str, str], list[str]]] = {
    "cloudwatch": (
        {
            "accessKeyId": "golden-access-key-id",
            "secretAccessKey": "golden-secret-access-key",
            "sessionToken": "golden-session-token",
        },
        ["/aws/lambda/golden"],
    ),
    "datadog": ({"apiKey": "golden-datadog-api", "appKey": "golden-datadog-app"}, ["service:a"]),
    "loki": ({"host": "https://loki.golden.test", "apiKey": "golden-loki-key"}, ['{app="golden"}']),
    "splunk": ({"host": "https://splunk.golden.test", "token": "golden-splunk-token"}, ["main"]),
    "elastic": (
        {"host": "https://elastic.golden.test", "apiKey": "golden-elastic-key"},
        ["logs-*"],
    ),
    "gcp_logging": (
        {
            "serviceAccountJson": json.dumps(
                {
                    "type": "service_account",
                    "project_id": "golden",
                    "client_email": "golden@golden.iam.gserviceaccount.com",
                    "private_key": "-----BEGIN PRIVATE KEY-----\ngolden\n-----END-----\n",
                }
            )
        },
        ['resource.type="cloud_run_revision"'],
    ),
}
ADOPTED = ({"apiKey": "golden-adopted-api", "appKey": "golden-adopted-app"}, ["service:adopted"])
IN_TENANT_B = ({"host": "https://splunk.b.golden.test", "token": "golden-b-token"}, ["tenant-b"])

SECRET_VALUES = sorted(
    {
        value
        for credentials, _ in [*SOURCES.values(), ADOPTED, IN_TENANT_B]
        for key, value in credentials.items()
        if key not in ("host", "serviceAccountJson")
    }
)


def golden_program(adopt_id: str, *, edited: bool = False) -> Any:
    """The golden stack's program; `edited` adds one selector to the datadog source."""

    def program() -> None:
        from sigsentry_pulumi import LogSource

        declared: dict[str, dict[str, Any]] = {
            f"golden-{kind}": {"type": kind, "credentials": credentials, "sources": sources}
            for kind, (credentials, sources) in SOURCES.items()
        }
        declared["golden-adopted"] = {
            "type": "datadog",
            "credentials": ADOPTED[0],
            "sources": ADOPTED[1],
            "adopt_id": adopt_id,
        }
        declared["golden-tenantb"] = {
            "type": "splunk",
            "credentials": IN_TENANT_B[0],
            "sources": IN_TENANT_B[1],
            "account": TENANT_B,
        }
        if edited:
            declared["golden-datadog"]["sources"] = [*SOURCES["datadog"][1], "service:b"]
        for name, arguments in declared.items():
            LogSource(name, **arguments)

    return program


def stack_config(golden: dict[str, Any], url: str) -> dict[str, Any]:
    """The stack config (Automation API `ConfigValue`s) for an emulator at `url`."""
    from pulumi import automation as auto

    return {
        "sigsentry:apiUrl": auto.ConfigValue(url),
        "sigsentry:apiKey": auto.ConfigValue(golden["apiKey"], secret=True),
        f"{TENANT_B}:apiUrl": auto.ConfigValue(url),
        f"{TENANT_B}:apiKey": auto.ConfigValue(golden["tenantBApiKey"], secret=True),
    }


def regenerate(folder: Path) -> None:
    """Run this release's `pulumi up` of the golden program and keep what it leaves in `folder`."""
    import httpx

    from raw_api import LOG_SOURCES, auth
    from sigsentry_emulator.testing import EmulatorProcess
    from tools.pulumi_cli import PulumiEnvironment

    with tempfile.TemporaryDirectory(prefix="sigsentry-golden-") as tmp:
        work = Path(tmp)
        db = work / "emulator.db"
        with EmulatorProcess(db) as emulator:
            tenant_b = emulator.create_key(new_tenant=True)
            made_outside = httpx.post(
                emulator.url + LOG_SOURCES,
                headers=auth(emulator.api_key),
                json={
                    "type": "datadog",
                    "name": "made-outside",
                    "sources": ["service:old"],
                    "credentials": {"apiKey": "golden-old-api", "appKey": "golden-old-app"},
                },
                timeout=30,
            )
            made_outside.raise_for_status()
            golden = {
                "tenantId": emulator.tenant_id,
                "projectId": emulator.project_id,
                "apiKey": emulator.api_key,
                "tenantBApiKey": tenant_b.api_key,
                "adoptId": made_outside.json()["data"]["id"],
                "passphrase": "golden-passphrase-for-tests-only",
            }
            env = PulumiEnvironment(work / "pulumi", passphrase=golden["passphrase"])
            stack = env.inline_stack(
                golden_program(golden["adoptId"]), project=PROJECT, stack=STACK
            )
            stack.set_all_config(stack_config(golden, emulator.url))
            stack.up()
            # The CLI's own export: the Automation API's adds --show-secrets.
            exported = env.run(
                "stack", "export", "--stack", STACK, cwd=Path(stack.workspace.work_dir)
            )
        # One file per database: fold the write-ahead log in before copying it.
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(db, folder / "emulator.db")
        shutil.copy(db.with_name(db.name + ".key"), folder / "emulator.db.key")
        (folder / "golden.json").write_text(json.dumps(golden, indent=2) + "\n", encoding="utf-8")
        (folder / "stack.json").write_text(exported.stdout, encoding="utf-8")


def main(argv: list[str]) -> int:
    from sigsentry_pulumi import __version__

    folder = GOLDEN / __version__
    if folder.exists() and "--force" not in argv:
        print(f"{folder} exists: a released version's golden stack is never rewritten")
        return 1
    shutil.rmtree(folder, ignore_errors=True)
    regenerate(folder)
    print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
