"""The deterministic simulation behind `POST /v1/config/log-sources/{id}/test`.

No network call is made. The outcome depends only on the stored record and its decrypted
credentials:

* any credential value exactly `invalid` → `ok: false`, "authentication failed", naming the key;
* a `host` whose hostname is `invalid` or ends in `.invalid` (the reserved RFC 2606 domain) →
  `ok: false`, "could not resolve host";
* otherwise `ok: true` with three synthetic log lines shaped like the platform's own output,
  derived from the source's id and its first `sources` entry (the same source always gives the
  same lines).

Not simulated: network timeouts, TLS errors, permission scopes, whether the named log groups,
indexes or selectors exist. Messages never quote a credential value (not even a host).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

INVALID_VALUE = "invalid"
PLATFORM_NAMES = {
    "cloudwatch": "Amazon CloudWatch Logs",
    "datadog": "Datadog",
    "loki": "Grafana Loki",
    "splunk": "Splunk",
    "elastic": "Elasticsearch",
    "gcp_logging": "Google Cloud Logging",
}


def simulate_test(
    source_type: str,
    source_id: str,
    sources: Sequence[str],
    credentials: Mapping[str, str],
    created_at: str,
) -> dict[str, object]:
    platform = PLATFORM_NAMES[source_type]
    for key in sorted(credentials):
        if credentials[key] == INVALID_VALUE:
            return {
                "ok": False,
                "message": f"{platform} rejected the credentials: authentication failed "
                f"(credentials.{key} is not valid)",
            }
    host = credentials.get("host")
    if host is not None and _is_reserved_invalid(host):
        return {
            "ok": False,
            "message": f"could not connect to {platform}: credentials.host does not resolve",
        }
    selector = sources[0]
    lines = [
        _LINE_SHAPES[source_type](selector, created_at, _token(source_id, i)) for i in range(3)
    ]
    return {
        "ok": True,
        "message": f"connected to {platform}; showing {len(lines)} recent lines from {selector}",
        "sample": lines,
    }


def _is_reserved_invalid(host: str) -> bool:
    hostname = (urlsplit(host).hostname or "").rstrip(".")
    return hostname == "invalid" or hostname.endswith(".invalid")


def _token(source_id: str, index: int) -> str:
    return hashlib.sha256(f"{source_id}:{index}".encode()).hexdigest()[:12]


def _cloudwatch(selector: str, ts: str, token: str) -> str:
    return f'{ts} {selector} INFO request_id={token} msg="handled request" duration_ms=42'


def _datadog(selector: str, ts: str, token: str) -> str:
    return json.dumps(
        {
            "timestamp": ts,
            "status": "info",
            "query": selector,
            "message": "handled request",
            "trace_id": token,
        }
    )


def _loki(selector: str, ts: str, token: str) -> str:
    return f'{selector} ts={ts} level=info traceID={token} msg="handled request"'


def _splunk(selector: str, ts: str, token: str) -> str:
    return (
        f'_time="{ts}" search="{selector}" log_level=INFO event_id={token} '
        'message="handled request"'
    )


def _elastic(selector: str, ts: str, token: str) -> str:
    return json.dumps(
        {
            "@timestamp": ts,
            "_index": selector,
            "log.level": "info",
            "trace.id": token,
            "message": "handled request",
        }
    )


def _gcp(selector: str, ts: str, token: str) -> str:
    return json.dumps(
        {
            "timestamp": ts,
            "severity": "INFO",
            "logName": selector,
            "insertId": token,
            "textPayload": "handled request",
        }
    )


_LINE_SHAPES: dict[str, Callable[[str, str, str], str]] = {
    "cloudwatch": _cloudwatch,
    "datadog": _datadog,
    "loki": _loki,
    "splunk": _splunk,
    "elastic": _elastic,
    "gcp_logging": _gcp,
}
