"""Stacks of Pulumi programs configured like the shipped examples, against the emulator."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from pathlib import Path

from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi.testing import Secret, Stack


def secret(label: str) -> Secret:
    """A fresh secret config value; each starts with `example-{label}-`."""
    return Secret(f"example-{label}-{secrets.token_hex(8)}")


def service_account() -> Secret:
    """A fresh Google service-account key, as the `gcpServiceAccountJson` config value."""
    return Secret(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "demo-project",
                "client_email": "logs@demo-project.iam.gserviceaccount.com",
                "private_key": f"-----BEGIN PRIVATE KEY-----\n{secrets.token_hex(16)}\n-----END",
            }
        )
    )


def all_types_config() -> dict[str, str | Secret]:
    """The config the all-types example reads (keys without its namespace), fresh secrets."""
    return {
        "awsAccessKeyId": secret("akid"),
        "awsSecretAccessKey": secret("aws"),
        "awsSessionToken": secret("sts"),
        "datadogApiKey": secret("dd-api"),
        "datadogAppKey": secret("dd-app"),
        "lokiHost": "https://logs.example.com",
        "lokiApiKey": secret("loki"),
        "splunkHost": "https://splunk.example.com:8089",
        "splunkToken": secret("splunk"),
        "elasticHost": "https://elastic.example.com:9200",
        "elasticApiKey": secret("elastic"),
        "gcpServiceAccountJson": service_account(),
    }


def emulator_stack(
    program: Path,
    project: str,
    program_config: Mapping[str, str | Secret],
    emulator: EmulatorProcess,
    state_file: Path,
    *,
    stack: str = "dev",
) -> Stack:
    """A stack of `program` whose provider talks to `emulator`; `program_config` keys are put in
    the `project` namespace, as `pulumi config set` does."""
    config: dict[str, str | Secret] = {
        "sigsentry:apiUrl": emulator.url,
        "sigsentry:apiKey": Secret(emulator.api_key),
        **{f"{project}:{key}": value for key, value in program_config.items()},
    }
    return Stack(program, state_file=state_file, config=config, stack=stack)
