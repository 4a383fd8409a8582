"""Valid log-source credentials and sources for each of the six types, as plain data.

Each secret value is unique enough to search outputs, errors and state files for it. `ROTATED`
is a second valid set with every secret value different (and, for Elastic, the other auth form).
"""

from __future__ import annotations

import json
from typing import Final

from pulumi.output import Unknown

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

# Credential keys whose values are not secret (and may well be printed): hosts, the Loki tenant,
# the Elastic user name.
_PLAIN_KEYS: Final = frozenset({"host", "orgId", "username"})
# Every secret credential value above: none may ever appear in output, errors or plain state.
SECRET_VALUES: Final = frozenset(
    value
    for credentials in (*CREDENTIALS.values(), *ROTATED.values())
    for key, value in credentials.items()
    if key not in _PLAIN_KEYS
)


def unknown() -> Unknown:
    """A value a preview does not know yet, as the engine hands it to a provider or a policy."""
    return Unknown()  # type: ignore[no-untyped-call]  # pulumi's Unknown.__init__ is unannotated
