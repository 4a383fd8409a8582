"""Request validation and the JSON shapes of the API (pydantic models, also the OpenAPI schemas).

`parse_create` and `parse_update` turn a decoded JSON body into a typed request or raise
`ValidationFailed` whose details name each bad field the way clients spell it
(`credentials.apiKey`, `sources[2]`). Structural rules live in the pydantic models; the rules that
depend on the log-source type (credential keys, `host` URLs, the service-account JSON) are checked
by `check_credentials`, because a PUT validates them against the stored source's type.

A deliberate twin: `sigsentry_pulumi/_rules.py` implements the same API rules again for the
provider's offline `check`. Neither imports the other, so the provider's tests, which run against
this emulator, catch a mistake in either; change a rule in both, from the contract
(docs/api-contract.md, rendered from these models' OpenAPI schemas).
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema

from .errors import MAX_DETAILS, FieldIssue, ValidationFailed

LogSourceType = Literal["cloudwatch", "datadog", "loki", "splunk", "elastic", "gcp_logging"]
LOG_SOURCE_TYPES: tuple[str, ...] = get_args(LogSourceType)

MAX_NAME_LENGTH = 255
MAX_SOURCES = 100
MAX_SOURCE_LENGTH = 1024
MAX_CREDENTIAL_KEYS = 32  # every type takes at most 4 keys; more is refused without a key walk
_SURROGATE = re.compile(r"[\ud800-\udfff]")
SOURCE_ID_PATTERN = r"^ls_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

# required and optional credential keys per type; elastic's two auth forms are checked apart
CREDENTIAL_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "cloudwatch": (frozenset({"accessKeyId", "secretAccessKey"}), frozenset({"sessionToken"})),
    "datadog": (frozenset({"apiKey", "appKey"}), frozenset()),
    "loki": (frozenset({"host"}), frozenset({"apiKey", "orgId"})),
    "splunk": (frozenset({"host", "token"}), frozenset()),
    "elastic": (frozenset({"host"}), frozenset({"username", "password", "apiKey"})),
    "gcp_logging": (frozenset({"serviceAccountJson"}), frozenset()),
}
SERVICE_ACCOUNT_FIELDS = ("type", "project_id", "client_email", "private_key")

Name = Annotated[
    str,
    Field(
        # documented only: the trimmed length is checked by _check_name, next to the other rules
        json_schema_extra={"pattern": r"\S", "maxLength": MAX_NAME_LENGTH},
        description="1-255 characters after trimming surrounding whitespace; need not be unique",
        examples=["prod-cloudwatch"],
    ),
]
SourceEntry = Annotated[str, Field(min_length=1, max_length=MAX_SOURCE_LENGTH)]
Sources = Annotated[
    list[SourceEntry],
    Field(
        min_length=1,
        max_length=MAX_SOURCES,
        json_schema_extra={"uniqueItems": True},
        description="1-100 distinct log groups, indexes or selectors",
        examples=[["/aws/lambda/checkout-api"]],
    ),
]
Credentials = Annotated[
    dict[str, Annotated[str, Field(min_length=1)]],
    Field(
        description="write-only; keys depend on `type` (see the API contract)",
        examples=[{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI"}],
    ),
]


class CreateLogSourceRequest(BaseModel):
    """Body of POST /v1/config/log-sources."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: LogSourceType
    name: Name
    credentials: Credentials
    sources: Sources


class UpdateLogSourceRequest(BaseModel):
    """Body of PUT /v1/config/log-sources/{id}; every field optional, `type` is not allowed."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # SkipJsonSchema: the fields may be omitted, not sent as null (parse_update rejects null)
    name: Name | SkipJsonSchema[None] = None
    credentials: Credentials | SkipJsonSchema[None] = None
    sources: Sources | SkipJsonSchema[None] = None
    isActive: bool | SkipJsonSchema[None] = None


class _UpdateFieldRules(BaseModel):
    """The rules of each update field when present (absent fields are simply not changed)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name
    credentials: Credentials
    sources: Sources
    isActive: bool


# response shapes (documentation and OpenAPI; the backend builds plain dicts of the same shape)


class LogSourceRecord(BaseModel):
    id: Annotated[str, Field(pattern=SOURCE_ID_PATTERN)]
    tenantId: str
    projectId: str
    type: LogSourceType
    name: str
    sources: list[str]
    isActive: bool
    createdAt: Annotated[str, Field(description="UTC, e.g. 2026-04-25T14:30:12Z")]
    updatedAt: str


class CreatedEnvelope(BaseModel):
    success: Literal[True]
    data: LogSourceRecord


class ListEnvelope(BaseModel):
    success: Literal[True]
    data: list[LogSourceRecord]
    nextCursor: str | None


class Updated(BaseModel):
    updated: Literal[True]


class UpdatedEnvelope(BaseModel):
    success: Literal[True]
    data: Updated


class Deleted(BaseModel):
    deleted: Literal[True]


class DeletedEnvelope(BaseModel):
    success: Literal[True]
    data: Deleted


class TestResult(BaseModel):
    ok: bool
    message: str
    sample: list[str] | None = Field(default=None, description="present when ok is true")


class TestEnvelope(BaseModel):
    success: Literal[True]
    data: TestResult


class ErrorDetail(BaseModel):
    field: str
    issue: str


class ErrorBody(BaseModel):
    code: Literal[
        "VALIDATION_ERROR",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "QUOTA_EXCEEDED",
        "NOT_FOUND",
        "METHOD_NOT_ALLOWED",
        "IDEMPOTENCY_CONFLICT",
        "PAYLOAD_TOO_LARGE",
        "RATE_LIMITED",
        "INTERNAL_ERROR",
        "SERVICE_UNAVAILABLE",
    ]
    message: str
    details: list[ErrorDetail] | None = None


class ErrorEnvelope(BaseModel):
    success: Literal[False]
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]


# OpenAPI: the per-type credential rules as JSON Schema (validation itself is the code above)

HOST_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#]\S*)?$"


def credentials_json_schema(source_type: str) -> dict[str, Any]:
    required, optional = CREDENTIAL_KEYS[source_type]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {key: _credential_value_schema(key) for key in sorted(required | optional)},
        "required": sorted(required),
        "additionalProperties": False,
        "description": f"write-only credentials of a {source_type} source",
    }
    if source_type == "elastic":
        schema["oneOf"] = [
            {"required": ["username", "password"], "not": {"required": ["apiKey"]}},
            {
                "required": ["apiKey"],
                "not": {"anyOf": [{"required": ["username"]}, {"required": ["password"]}]},
            },
        ]
    return schema


def _credential_value_schema(key: str) -> dict[str, Any]:
    if key == "host":
        return {"type": "string", "format": "uri", "pattern": HOST_PATTERN}
    if key == "serviceAccountJson":
        return {
            "type": "string",
            "minLength": 1,
            "contentMediaType": "application/json",
            "description": "a service-account key file: a JSON object with at least "
            + ", ".join(SERVICE_ACCOUNT_FIELDS),
        }
    return {"type": "string", "minLength": 1}


def type_schema_name(source_type: str) -> str:
    return "".join(part.capitalize() for part in source_type.split("_"))


def create_request_json_schemas(ref: str) -> dict[str, dict[str, Any]]:
    """`CreateLogSourceRequest` as a oneOf discriminated by `type`, with its parts.

    `ref` formats a component name into a reference (e.g. "#/components/schemas/{model}").
    """
    base = CreateLogSourceRequest.model_json_schema(ref_template=ref)
    schemas: dict[str, dict[str, Any]] = dict(base.pop("$defs", {}))
    variants = {}
    for source_type in LOG_SOURCE_TYPES:
        name = type_schema_name(source_type)
        schemas[f"{name}Credentials"] = credentials_json_schema(source_type)
        variant = {
            **base,
            "title": f"Create{name}LogSource",
            "properties": {
                **base["properties"],
                "type": {"type": "string", "const": source_type},
                "credentials": {"$ref": ref.format(model=f"{name}Credentials")},
            },
        }
        schemas[f"Create{name}LogSource"] = variant
        variants[source_type] = ref.format(model=f"Create{name}LogSource")
    schemas["CreateLogSourceRequest"] = {
        "title": "CreateLogSourceRequest",
        "oneOf": [{"$ref": target} for target in variants.values()],
        "discriminator": {"propertyName": "type", "mapping": variants},
    }
    update = UpdateLogSourceRequest.model_json_schema(ref_template=ref)
    schemas.update(update.pop("$defs", {}))
    update["properties"]["credentials"] = {
        "description": "replaces the stored set wholesale; keys of the source's type",
        "anyOf": [
            {"$ref": ref.format(model=f"{type_schema_name(t)}Credentials")}
            for t in LOG_SOURCE_TYPES
        ],
    }
    schemas["UpdateLogSourceRequest"] = update
    return schemas


# parsing


def decode_json(raw: bytes) -> object:
    """A request body as JSON, or 400 naming `body` (or the field at fault).

    Refused: text that is not UTF-8, NaN and Infinity (also as a number too large for a float),
    nesting too deep for the parser, and text the API could store or name in an error that holds
    a lone UTF-16 surrogate (`"\\ud800"` is valid JSON but not Unicode text: it could be neither
    stored nor echoed). Nesting the parser takes needs no limit of its own: no field of a valid
    body holds a container inside a container, so the rules refuse it naming the field, and
    nothing deeper is ever stored, serialised or echoed.
    """
    if not raw.strip():
        raise ValidationFailed("request body is empty", [FieldIssue("body", "required")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "request body is not UTF-8 text", [FieldIssue("body", "must be UTF-8 encoded JSON")]
        ) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValidationFailed(
            "malformed JSON body", [FieldIssue("body", "nested too deeply to parse")]
        ) from None
    except ValueError as exc:
        issue = "not valid JSON"
        if isinstance(exc, json.JSONDecodeError):
            issue += f" (line {exc.lineno}, column {exc.colno})"
        raise ValidationFailed("malformed JSON body", [FieldIssue("body", issue)]) from None
    return check_text(value)


def check_text(body: object) -> object:
    """`body` unchanged, or 400 naming the field whose text holds a lone surrogate.

    Checked: the keys and values of a body object, and the keys and entries of its fields (the
    `credentials` keys and values, the `sources` entries). That is all text a request can get
    stored or named in an error; anything deeper is refused by the rules without being read. One
    pass, no recursion, whatever the body holds.
    """
    if not isinstance(body, dict):
        return body  # not a request body; the caller refuses it as such
    for key, value in body.items():
        _check_text(key, "body", "a field name")
        if isinstance(value, str):
            _check_text(value, key)
        elif isinstance(value, dict):
            for inner_key, item in value.items():
                _check_text(inner_key, key, "a key")
                if isinstance(item, str):
                    _check_text(item, f"{key}.{inner_key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    _check_text(item, f"{key}[{index}]")
    return body


def _check_text(text: object, field: str, what: str = "text") -> None:
    if isinstance(text, str) and not text.isascii() and _SURROGATE.search(text):
        raise _not_unicode(field, what)


def _not_unicode(field: str, what: str = "text") -> ValidationFailed:
    return ValidationFailed(
        "request body holds text that is not valid Unicode",
        [
            FieldIssue(
                field,
                f"{what} holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape)",
            )
        ],
    )


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: valid JSON, but no number a float can hold
        raise ValueError("number out of range")
    return value


def parse_create(body: object) -> CreateLogSourceRequest:
    mapping, issues = _screen(_require_object(body), CreateLogSourceRequest)
    request: CreateLogSourceRequest | None = None
    try:
        request = CreateLogSourceRequest.model_validate(mapping)
    except ValidationError as exc:
        issues += _issues(exc)
    source_type = mapping.get("type")
    known_type = (
        source_type if isinstance(source_type, str) and source_type in CREDENTIAL_KEYS else None
    )
    issues += _field_rules(mapping, known_type)
    if issues or request is None:
        raise issues.failure()
    return request


def parse_update(body: object) -> UpdateLogSourceRequest:
    """Structural checks only; the caller checks credentials against the stored type."""
    mapping, issues = _screen(_require_object(body), UpdateLogSourceRequest)
    if "type" in mapping:
        issues.append(
            FieldIssue("type", "type is immutable; create a new log source for another platform")
        )
    issues += [
        FieldIssue(key, "must not be null; omit the field to leave it unchanged")
        for key, value in mapping.items()
        if value is None
    ]
    rest = {k: v for k, v in mapping.items() if k != "type" and v is not None}
    try:
        _UpdateFieldRules.model_validate(rest)
    except ValidationError as exc:
        issues += _issues(exc, absent_ok=True)
    issues += _field_rules(rest, None)
    if issues:
        raise issues.failure()
    return UpdateLogSourceRequest.model_validate(rest)


def _screen(mapping: dict[str, Any], model: type[BaseModel]) -> tuple[dict[str, Any], _Issues]:
    """The body's known fields of a sane size, and an issue for everything else.

    No valid body has unknown fields, more than `MAX_SOURCES` sources or more than a handful of
    credential keys, so those are reported here in one pass instead of one validation error per
    element, and unknown fields past the first `MAX_DETAILS` are only counted: refusing a body
    costs one pass over it, however it is built.
    """
    known = tuple(dict.fromkeys(("type", *model.model_fields)))
    unknown = [key for key in mapping if key not in known]
    issues = _Issues(FieldIssue(key, "unknown field") for key in unknown[:MAX_DETAILS])
    issues.unlisted = max(0, len(unknown) - MAX_DETAILS)
    kept: dict[str, Any] = {}
    for key in (k for k in known if k in mapping):
        value = mapping[key]
        if key == "sources" and isinstance(value, list) and len(value) > MAX_SOURCES:
            issues.append(
                FieldIssue("sources", f"must have 1-{MAX_SOURCES} entries, not {len(value)}")
            )
        elif key == "credentials" and isinstance(value, dict) and len(value) > MAX_CREDENTIAL_KEYS:
            issues.append(
                FieldIssue("credentials", f"has {len(value)} keys; a log source takes at most 4")
            )
        else:
            kept[key] = value
    return kept, issues


class _Issues(list[FieldIssue]):
    """Issues to report, and how many more of the same kind were only counted."""

    unlisted = 0

    def failure(self) -> ValidationFailed:
        return ValidationFailed(
            "request body failed validation", _first_per_field(self), unlisted=self.unlisted
        )


def check_credentials(source_type: str, credentials: dict[str, str]) -> list[FieldIssue]:
    """Per-type credential rules; issues name `credentials.<key>` and never quote a value."""
    required, optional = CREDENTIAL_KEYS[source_type]
    issues = [
        FieldIssue(
            f"credentials.{key}",
            f"unknown credential key for type {source_type}; allowed: "
            + ", ".join(sorted(required | optional)),
        )
        for key in sorted(credentials.keys() - required - optional)
    ]
    issues += [
        FieldIssue(f"credentials.{key}", f"required for type {source_type}")
        for key in sorted(required - credentials.keys())
    ]
    if source_type == "elastic":
        issues += _check_elastic_auth(credentials)
    if "host" in credentials and not _is_http_url(credentials["host"]):
        issues.append(FieldIssue("credentials.host", "must be an absolute http:// or https:// URL"))
    if "serviceAccountJson" in credentials:
        issues += _check_service_account(credentials["serviceAccountJson"])
    return issues


def _field_rules(mapping: dict[str, Any], source_type: str | None) -> list[FieldIssue]:
    """The rules beyond each field's JSON type, for every field whose JSON type is right."""
    issues: list[FieldIssue] = []
    name, sources, credentials = (mapping.get(k) for k in ("name", "sources", "credentials"))
    if isinstance(name, str):
        issues += _check_name(name)
    if isinstance(sources, list) and all(isinstance(s, str) for s in sources):
        issues += _check_sources(sources)
    if (
        source_type is not None
        and isinstance(credentials, dict)
        and all(isinstance(v, str) for v in credentials.values())
    ):
        issues += check_credentials(source_type, credentials)
    return issues


def _first_per_field(issues: list[FieldIssue]) -> list[FieldIssue]:
    seen: dict[str, FieldIssue] = {}
    for issue in issues:
        seen.setdefault(issue.field, issue)
    return list(seen.values())


def _require_object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed(
            "request body must be a JSON object", [FieldIssue("body", "must be a JSON object")]
        )
    return body


def _check_name(name: str) -> list[FieldIssue]:
    length = len(name.strip())
    if 1 <= length <= MAX_NAME_LENGTH:
        return []
    return [FieldIssue("name", f"must be 1-{MAX_NAME_LENGTH} characters after trimming")]


def _check_sources(sources: list[str]) -> list[FieldIssue]:
    seen: set[str] = set()
    issues = []
    for index, entry in enumerate(sources):
        if entry in seen:
            issues.append(
                FieldIssue(f"sources[{index}]", "duplicate entry; entries must be distinct")
            )
        seen.add(entry)
    return issues


def _check_elastic_auth(credentials: dict[str, str]) -> list[FieldIssue]:
    has_user, has_password = "username" in credentials, "password" in credentials
    has_api_key = "apiKey" in credentials
    if has_api_key and (has_user or has_password):
        return [
            FieldIssue(
                "credentials.apiKey",
                "give either username and password, or apiKey, not both",
            )
        ]
    if has_api_key or (has_user and has_password):
        return []
    if has_user:
        return [FieldIssue("credentials.password", "required when username is given")]
    if has_password:
        return [FieldIssue("credentials.username", "required when password is given")]
    return [FieldIssue("credentials", "elastic needs username and password, or apiKey")]


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(hostname) and value == value.strip()


def _check_service_account(raw: str) -> list[FieldIssue]:
    field = "credentials.serviceAccountJson"
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than json can parse
        return [FieldIssue(field, "must be a service-account key file's JSON text")]
    if not isinstance(parsed, dict):
        return [FieldIssue(field, "must be a JSON object")]
    missing = [
        k for k in SERVICE_ACCOUNT_FIELDS if not isinstance(parsed.get(k), str) or not parsed[k]
    ]
    if missing:
        return [FieldIssue(field, "missing or empty: " + ", ".join(missing))]
    return []


_ISSUE_TEXT = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "list_type": "must be an array",
    "dict_type": "must be an object of strings",
    "literal_error": "must be one of: " + ", ".join(LOG_SOURCE_TYPES),
    "string_pattern_mismatch": "must not be empty or only whitespace",
}


def _issues(exc: ValidationError, *, absent_ok: bool = False) -> list[FieldIssue]:
    issues = []
    for error in exc.errors(include_url=False, include_input=False):
        if absent_ok and error["type"] == "missing" and len(error["loc"]) == 1:
            continue
        loc = [part for part in error["loc"] if part != "[key]"]
        issues.append(FieldIssue(_field_path(loc), _ISSUE_TEXT.get(error["type"], error["msg"])))
    return issues


def _field_path(loc: list[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "body"
