"""Every default and fixed name the client and the provider share, in one place."""

from typing import Final

DEFAULT_API_URL: Final = "https://api.sigsentry.com"
DEFAULT_TIMEOUT: Final = 30.0
"""Seconds allowed for each attempt of a request, from connect to the last byte of the answer."""
DEFAULT_MAX_RETRIES: Final = 9
"""Retries after the first attempt, so at most ten attempts per call (see `_retry`)."""
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
MAX_RETRY_AFTER: Final = 60.0
"""A server's Retry-After is honoured up to this many seconds, never longer."""
RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})

LIST_PAGE_LIMIT: Final = 500
"""The largest page the list endpoint serves: a refresh walks as few pages as possible."""
MAX_LIST_PAGES: Final = 2000
"""Pages one walk of the list follows before it stops with an error: 1,000,000 sources at
`LIST_PAGE_LIMIT` a page, far beyond any plan's quota, so only a list that never ends meets it."""

LOG_SOURCES_PATH: Final = "/v1/config/log-sources"

IDEMPOTENCY_WINDOW_HOURS: Final = 24
"""How long SigSentry remembers an Idempotency-Key (the API contract)."""

LOG_SOURCE_TYPES: Final = ("cloudwatch", "datadog", "loki", "splunk", "elastic", "gcp_logging")

RESOURCE_MODULE: Final = "sigsentry"
RESOURCE_NAME: Final = "LogSource"
RESOURCE_TYPE: Final = f"pulumi-python:dynamic/{RESOURCE_MODULE}:{RESOURCE_NAME}"

# Stack configuration keys read by the provider, and their environment fallbacks.
CONFIG_API_KEY: Final = "sigsentry:apiKey"
CONFIG_API_URL: Final = "sigsentry:apiUrl"
CONFIG_PROJECT_ID: Final = "sigsentry:projectId"
CONFIG_TIMEOUT: Final = "sigsentry:timeout"
CONFIG_MAX_RETRIES: Final = "sigsentry:maxRetries"
CONFIG_PARALLELISM: Final = "sigsentry:parallelism"
ENV_API_KEY: Final = "SIGSENTRY_API_KEY"
ENV_API_URL: Final = "SIGSENTRY_API_URL"
ENV_PROJECT_ID: Final = "SIGSENTRY_PROJECT_ID"
ENV_PARALLELISM: Final = "SIGSENTRY_PARALLELISM"

DEFAULT_PARALLELISM: Final = 16
"""Calls the plugin serves at once (the SDK's own plugin serves 4); the engine's `--parallel`
stays the outer bound. Measured in benchmarks/README.md ("Calls at once")."""
MAX_PARALLELISM: Final = 64
SDK_PLUGIN_WORKERS: Final = 4
"""Calls `python -m pulumi.dynamic` serves at once on its own (`sigsentry:parallelism=4`)."""
