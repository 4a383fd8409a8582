"""Valid inputs for each of the six log-source types, and helpers shared by the provider tests."""

from __future__ import annotations

import json
from typing import Any, Final

from pulumi.dynamic.dynamic import serialize_provider

from sigsentry_pulumi import LogSourceProvider

PROVIDER: Final = serialize_provider(LogSourceProvider())
TYPE_TOKEN: Final = "pulumi-python:dynamic/sigsentry:LogSource"

SERVICE_ACCOUNT: Final = json.dumps(
    {
        "type": "service_account",
        "project_id": "acme-prod",
        "client_email": "sigsentry@acme-prod.iam.gserviceaccount.com",
        "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEgcp-material\n-----END-----\n",
    }
)

CREDENTIALS: Final[dict[str, dict[str, str]]] = {
    "cloudwatch": {"accessKeyId": "AKIAPROVIDERTEST", "secretAccessKey": "cw-secret-0451"},
    "datadog": {"apiKey": "dd-api-secret-0451", "appKey": "dd-app-secret-0451"},
    "loki": {"host": "https://loki.example.com", "apiKey": "loki-secret-0451", "orgId": "t1"},
    "splunk": {"host": "https://splunk.example.com:8089", "token": "splunk-secret-0451"},
    "elastic": {"host": "https://es.example.com", "username": "elastic", "password": "es-pw-0451"},
    "gcp_logging": {"serviceAccountJson": SERVICE_ACCOUNT},
}
ROTATED: Final[dict[str, dict[str, str]]] = {
    "cloudwatch": {"accessKeyId": "AKIAROTATED", "secretAccessKey": "cw-rotated-0452"},
    "datadog": {"apiKey": "dd-api-rotated-0452", "appKey": "dd-app-rotated-0452"},
    "loki": {"host": "https://loki2.example.com", "apiKey": "loki-rotated-0452"},
    "splunk": {"host": "https://splunk.example.com:8089", "token": "splunk-rotated-0452"},
    "elastic": {"host": "https://es.example.com", "apiKey": "es-rotated-0452"},
    "gcp_logging": {"serviceAccountJson": SERVICE_ACCOUNT.replace("acme-prod", "acme-next")},
}
SOURCES: Final[dict[str, list[str]]] = {
    "cloudwatch": ["/aws/lambda/checkout-api", "/aws/lambda/billing-worker"],
    "datadog": ["service:checkout-api", "service:billing-worker"],
    "loki": ['{app="checkout"}'],
    "splunk": ["index=main"],
    "elastic": ["logs-checkout-*"],
    "gcp_logging": ['resource.type="cloud_run_revision"'],
}
TYPES: Final = sorted(CREDENTIALS)


def secret_values() -> set[str]:
    """Every credential value of the cases: none may ever appear in output or errors."""
    values = {v for creds in (*CREDENTIALS.values(), *ROTATED.values()) for v in creds.values()}
    return {v for v in values if not v.startswith("https://") and v not in ("t1", "elastic")}


def urn(name: str) -> str:
    return f"urn:pulumi:dev::sigsentry-tests::{TYPE_TOKEN}::{name}"


def inputs(source_type: str = "cloudwatch", **overrides: Any) -> dict[str, Any]:
    """Inputs as the program registers them (state names), `__provider` included."""
    body: dict[str, Any] = {
        "__provider": PROVIDER,
        "type": source_type,
        "name": f"test-{source_type}",
        "credentials": dict(CREDENTIALS[source_type]),
        "sources": list(SOURCES[source_type]),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def without_provider(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "__provider"}
