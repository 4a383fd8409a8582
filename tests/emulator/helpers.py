"""Request bodies and small helpers shared by the emulator tests."""

from __future__ import annotations

import json
from typing import Any

CLOUDWATCH: dict[str, Any] = {
    "type": "cloudwatch",
    "name": "prod-cloudwatch",
    "credentials": {
        "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    },
    "sources": ["/aws/lambda/checkout-api", "/aws/lambda/billing-worker"],
}

SERVICE_ACCOUNT = json.dumps(
    {
        "type": "service_account",
        "project_id": "acme-prod",
        "client_email": "sigsentry@acme-prod.iam.gserviceaccount.com",
        "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQ-gcp-secret\n-----END PRIVATE KEY-----",
    }
)

# one valid body per type, each with credential values unique enough to grep the db files for
VALID_BODIES: dict[str, dict[str, Any]] = {
    "cloudwatch": CLOUDWATCH,
    "datadog": {
        "type": "datadog",
        "name": "datadog-prod",
        "credentials": {"apiKey": "dd-api-secret-0001", "appKey": "dd-app-secret-0002"},
        "sources": ["service:checkout-api", "service:billing-worker"],
    },
    "loki": {
        "type": "loki",
        "name": "loki",
        "credentials": {"host": "https://loki.example.com", "apiKey": "loki-secret-0003"},
        "sources": ['{app="checkout"}'],
    },
    "splunk": {
        "type": "splunk",
        "name": "splunk",
        "credentials": {"host": "https://splunk.example.com:8089", "token": "splunk-secret-0004"},
        "sources": ["main"],
    },
    "elastic": {
        "type": "elastic",
        "name": "elastic",
        "credentials": {
            "host": "https://es.example.com:9200",
            "username": "es-user-0006",
            "password": "es-password-secret-0005",
        },
        "sources": ["logs-*"],
    },
    "gcp_logging": {
        "type": "gcp_logging",
        "name": "gcp",
        "credentials": {"serviceAccountJson": SERVICE_ACCOUNT},
        "sources": ["projects/acme-prod/logs/run.googleapis.com%2Fstdout"],
    },
}


def credential_values(body: dict[str, Any]) -> list[str]:
    return list(body["credentials"].values())
