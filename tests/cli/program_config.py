"""Stack config for the shipped examples and the policy pack's bad program, with fresh secrets.

Each secret value starts with ``cli-example-<label>-`` and ends with random hex, so a test can look
for every one of them (and their encodings) in output and state. Keys carry no namespace:
`make_stack` puts them in the project's.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field


def fresh(label: str) -> str:
    return f"cli-example-{label}-{secrets.token_hex(8)}"


def service_account_json() -> str:
    """A Google service-account key of the shape the API accepts, with a fresh private key."""
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "demo-project",
            "client_email": "logs@demo-project.iam.gserviceaccount.com",
            "private_key": f"-----BEGIN PRIVATE KEY-----\n{fresh('pk')}\n-----END",
        }
    )


@dataclass(frozen=True)
class ProgramConfig:
    """Plain and secret stack config for one program (keys without the project namespace)."""

    plain: dict[str, str] = field(default_factory=dict)
    secret: dict[str, str] = field(default_factory=dict, repr=False)

    def secret_values(self) -> list[str]:
        """Every secret value, and for the service-account JSON also its private key alone."""
        values = list(self.secret.values())
        for value in self.secret.values():
            if value.startswith("{"):
                values.append(json.loads(value)["private_key"])
        return values


def quickstart_config() -> ProgramConfig:
    return ProgramConfig(
        secret={"awsAccessKeyId": fresh("akid"), "awsSecretAccessKey": fresh("aws")},
    )


def all_types_config(*, loki_host: str = "https://logs.example.com") -> ProgramConfig:
    return ProgramConfig(
        plain={
            "lokiHost": loki_host,
            "splunkHost": "https://splunk.example.com:8089",
            "elasticHost": "https://elastic.example.com:9200",
        },
        secret={
            "awsAccessKeyId": fresh("akid"),
            "awsSecretAccessKey": fresh("aws"),
            "awsSessionToken": fresh("sts"),
            "datadogApiKey": fresh("dd-api"),
            "datadogAppKey": fresh("dd-app"),
            "lokiApiKey": fresh("loki"),
            "splunkToken": fresh("splunk"),
            "elasticApiKey": fresh("elastic"),
            "gcpServiceAccountJson": service_account_json(),
        },
    )


def bad_program_config() -> ProgramConfig:
    """tests/policy/bad_program reads the all-types secrets, and no plain config."""
    secret = dict(all_types_config().secret)
    return ProgramConfig(secret=secret)


def encodings(value: str) -> list[str]:
    """What `value` would look like if something stored or printed it encoded: itself, hex (both
    cases), and standard and URL-safe base64 at each of the three byte alignments it could have
    inside a longer encoded blob (the part of the encoding that depends on `value` alone)."""
    raw = value.encode()
    forms = {value, binascii.hexlify(raw).decode(), binascii.hexlify(raw).decode().upper()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            encoded = encode(b"\0" * offset + raw).decode()
            # Drop the first group (it mixes in the bytes before) unless aligned, and the last
            # group (it may mix in the bytes after, or padding).
            core = encoded[4 if offset else 0 : -4]
            assert len(core) >= 16, "value too short to look for its encodings"
            forms.add(core)
    return sorted(forms)


def all_encodings(values: Iterable[str]) -> list[str]:
    return [form for value in values for form in encodings(value)]
