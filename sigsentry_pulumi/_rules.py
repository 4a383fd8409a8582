"""The API's rules for a log source's inputs, checked offline (`validation` applies them).

`validate_inputs` checks a LogSource's inputs (the names stored in state that the API takes,
`_types.API_STATE`: `type`, `name`, `credentials`, `sources`, `isActive`, `verify`,
`projectId`) against every rule of the API contract, offline, and returns one `Problem` per
fault naming the field and the fix. A value that is not known yet (a preview's unknown) is
skipped, never rejected. No message quotes a credential value.

This module imports neither pydantic nor httpx: the provider's `check` runs it on the first call
of every plugin process, before any request, so it must stay cheap to import. The response models
live in `_models`.

A deliberate twin: the emulator (`sigsentry_emulator/models.py`) implements the same API rules
again. Neither imports the other, so the provider's tests, which run against the emulator, catch
a mistake in either; change a rule in both, from the contract.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_SENTINEL

from ._constants import LOG_SOURCE_TYPES
from ._types import API_STATE, PROVIDER_KEY

__all__ = [
    "CREDENTIAL_RULES",
    "CredentialRule",
    "Problem",
    "is_unknown",
    "validate_inputs",
]

MAX_NAME_LENGTH: Final = 255
MAX_SOURCES: Final = 100
MAX_SOURCE_LENGTH: Final = 1024
SERVICE_ACCOUNT_FIELDS: Final = ("type", "project_id", "client_email", "private_key")


@dataclass(frozen=True)
class CredentialRule:
    """The credential keys one log-source type takes."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def allowed(self) -> tuple[str, ...]:
        return self.required + self.optional


CREDENTIAL_RULES: Final[Mapping[str, CredentialRule]] = {
    "cloudwatch": CredentialRule(("accessKeyId", "secretAccessKey"), ("sessionToken",)),
    "datadog": CredentialRule(("apiKey", "appKey")),
    "loki": CredentialRule(("host",), ("apiKey", "orgId")),
    "splunk": CredentialRule(("host", "token")),
    # elastic takes either username + password or apiKey; _elastic_auth checks which
    "elastic": CredentialRule(("host",), ("username", "password", "apiKey")),
    "gcp_logging": CredentialRule(("serviceAccountJson",)),
}


@dataclass(frozen=True)
class Problem:
    """One fault in a LogSource's inputs: the state name of the field, and what to do."""

    field: str
    reason: str


def is_unknown(value: object) -> bool:
    """True for a value a preview does not know yet (as the plugin decodes it, or raw)."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN_SENTINEL)


def validate_inputs(inputs: Mapping[str, Any]) -> list[Problem]:
    """Every fault in `inputs`, in field order; [] when they are valid (or not known yet)."""
    problems = [
        Problem(key, f"unknown property {key!r}: a LogSource takes " + ", ".join(API_STATE))
        for key in inputs
        if key not in API_STATE and key != PROVIDER_KEY
    ]
    source_type = inputs.get("type")
    problems += _type(source_type)
    problems += _name(inputs.get("name"))
    problems += _sources(inputs.get("sources"))
    known_type = (
        source_type if isinstance(source_type, str) and source_type in CREDENTIAL_RULES else None
    )
    problems += _credentials(inputs.get("credentials"), known_type)
    for flag in ("isActive", "verify"):
        problems += _boolean(flag, inputs.get(flag))
    problems += _project_id(inputs.get("projectId"))
    return problems


def _type(value: object) -> list[Problem]:
    choices = ", ".join(LOG_SOURCE_TYPES)
    if is_unknown(value) or value in LOG_SOURCE_TYPES:
        return []
    if value is None:
        return [Problem("type", f"type is required: set it to one of {choices}")]
    if not isinstance(value, str):
        return [Problem("type", f"type must be a string: use one of {choices}")]
    shown = repr(value) if len(value) <= 40 else "this value"
    return [Problem("type", f"type {shown} is not supported: use one of {choices}")]


def _name(value: object) -> list[Problem]:
    if is_unknown(value):
        return []
    if value is None:  # LogSource fills in the resource name; only a bare provider call lacks it
        return [Problem("name", "name is required: give the log source a label")]
    if not isinstance(value, str):
        return [Problem("name", "name must be a string: give the source a text label")]
    if not _is_text(value):
        return [Problem("name", _NOT_TEXT)]
    length = len(value.strip())
    if length == 0:
        return [Problem("name", "name must not be empty or only whitespace: give it a label")]
    if length > MAX_NAME_LENGTH:
        return [
            Problem("name", f"name is {length} characters long: shorten it to {MAX_NAME_LENGTH}")
        ]
    return []


def _sources(value: object) -> list[Problem]:
    if is_unknown(value):
        return []
    if value is None:
        return [
            Problem("sources", "sources is required: list the log groups, indexes or selectors")
        ]
    if not isinstance(value, list | tuple):
        return [Problem("sources", 'sources must be a list of strings, e.g. ["/aws/lambda/api"]')]
    problems = []
    if not value:
        problems.append(
            Problem("sources", "sources is empty: list at least one log group, index or selector")
        )
    if len(value) > MAX_SOURCES:
        # one failure, not one per entry: a list of a million duplicates stays one line of output
        return [
            Problem("sources", f"sources has {len(value)} entries: split it, at most {MAX_SOURCES}")
        ]
    seen: set[str] = set()
    for index, entry in enumerate(value):
        field = f"sources[{index}]"
        if is_unknown(entry):
            continue
        if not isinstance(entry, str) or not entry:
            problems.append(
                Problem(field, "each source must be a non-empty string: remove this entry")
            )
        elif not _is_text(entry):
            problems.append(Problem(field, _NOT_TEXT))
        elif len(entry) > MAX_SOURCE_LENGTH:
            problems.append(
                Problem(
                    field,
                    f"source is {len(entry)} characters long: shorten it to {MAX_SOURCE_LENGTH}",
                )
            )
        elif entry in seen:
            problems.append(Problem(field, "this source is listed twice: remove the duplicate"))
        else:
            seen.add(entry)
    return problems


def _credentials(value: object, source_type: str | None) -> list[Problem]:
    """The credentials' shape, then each entry, then the type's keys, then value formats."""
    if is_unknown(value):
        return []
    rule = CREDENTIAL_RULES.get(source_type) if source_type else None
    if not isinstance(value, Mapping):
        return [_credentials_not_a_map(value, rule)]
    problems = [p for key, item in value.items() if (p := _credential_entry(key, item))]
    if rule is None or source_type is None:
        return problems  # the type's own problem is reported under `type`
    keys = {k for k in value if isinstance(k, str) and _is_text(k)}
    problems += _credential_keys(keys, source_type, rule)
    return problems + _credential_formats(value, source_type)


def _credentials_not_a_map(value: object, rule: CredentialRule | None) -> Problem:
    expected = f": set {', '.join(rule.required)}" if rule else ""
    if value is None:
        return Problem("credentials", f"credentials are required{expected}")
    return Problem("credentials", f"credentials must be a map of strings{expected}")


def _credential_entry(key: object, item: object) -> Problem | None:
    """What is wrong with one key and its value, said without echoing the value (a secret)."""
    if not isinstance(key, str) or not _is_text(key):
        return Problem("credentials", "credential keys must be strings: rename the key")
    field = f"credentials.{key}"
    if _is_number(item):
        # `orgId=1` reaches the provider as 1.0 (gRPC numbers are floats): say to quote it.
        return Problem(field, "must be a string, not a number: put it in quotes")
    if is_unknown(item):
        return None
    if not isinstance(item, str) or not item:
        return Problem(field, "must be a non-empty string: give it a value or drop the key")
    return None if _is_text(item) else Problem(field, _NOT_TEXT)


def _credential_keys(keys: set[str], source_type: str, rule: CredentialRule) -> list[Problem]:
    """Keys the type does not take, keys it requires that are missing, elastic's auth pair."""
    allowed = ", ".join(rule.required) + (
        f" (optional: {', '.join(rule.optional)})" if rule.optional else ""
    )
    problems = [
        Problem(
            f"credentials.{_short(key)}",
            f"not a credential key of type {source_type}: use {allowed}",
        )
        for key in sorted(keys - set(rule.allowed))
    ]
    problems += [
        Problem(f"credentials.{key}", f"required for type {source_type}: add it")
        for key in rule.required
        if key not in keys
    ]
    if source_type == "elastic":
        problems += _elastic_auth(keys)
    return problems


def _credential_formats(value: Mapping[Any, Any], source_type: str) -> list[Problem]:
    """A `host` that is not an http(s) URL; a GCP service-account key that is not one."""
    problems = []
    host = value.get("host")
    if isinstance(host, str) and host and not is_unknown(host) and not _is_http_url(host):
        problems.append(
            Problem(
                "credentials.host",
                "must be an absolute http:// or https:// URL, e.g. https://logs.example.com",
            )
        )
    account = value.get("serviceAccountJson")
    if source_type == "gcp_logging" and isinstance(account, str) and not is_unknown(account):
        problems += _service_account(account)
    return problems


def _elastic_auth(keys: set[str]) -> list[Problem]:
    user, password, api_key = "username" in keys, "password" in keys, "apiKey" in keys
    if api_key and (user or password):
        return [
            Problem(
                "credentials.apiKey",
                "give either username and password, or apiKey, not both",
            )
        ]
    if api_key or (user and password):
        return []
    if user:
        return [Problem("credentials.password", "required with username: add it, or use apiKey")]
    if password:
        return [Problem("credentials.username", "required with password: add it, or use apiKey")]
    return [Problem("credentials", "elastic needs username and password, or apiKey: add one")]


def _service_account(raw: str) -> list[Problem]:
    field = "credentials.serviceAccountJson"
    if not raw:
        return []  # already reported as empty
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json can parse
        return [Problem(field, "must be the JSON text of a service-account key file")]
    if not isinstance(parsed, dict):
        return [Problem(field, "must be a JSON object (a service-account key file)")]
    missing = [
        k for k in SERVICE_ACCOUNT_FIELDS if not isinstance(parsed.get(k), str) or not parsed[k]
    ]
    if missing:
        return [
            Problem(field, "the key file lacks " + ", ".join(missing) + ": download a new JSON key")
        ]
    return []


def _boolean(field: str, value: object) -> list[Problem]:
    if value is None or is_unknown(value) or isinstance(value, bool):
        return []
    kinds: dict[type, str] = {str: "a string", list: "a list", dict: "a map"}
    kind = "a number" if _is_number(value) else kinds.get(type(value), "another kind of value")
    return [Problem(field, f"{field} must be true or false (a boolean), not {kind}")]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _project_id(value: object) -> list[Problem]:
    if value is None or is_unknown(value):
        return []
    if not isinstance(value, str) or not value.strip() or not _is_text(value):
        return [Problem("projectId", "projectId must be a project id such as prj_...")]
    return []


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(hostname) and value == value.strip()


_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")
_NOT_TEXT: Final = (
    "holds a lone UTF-16 surrogate, which is not text the API can store: fix how it is encoded"
)


def _is_text(value: str) -> bool:
    """False for a string with a lone surrogate (it would not encode as UTF-8 for the API)."""
    return value.isascii() or _SURROGATE.search(value) is None


def _short(text: str) -> str:
    return text if len(text) <= 64 else text[:61] + "..."
