"""docs/provider.md's tables say what the code does: the provider settings and their environment
fallbacks and defaults, the credential keys of each type, which changes replace a source, and
the errors a user may meet (each message quoted there is one the code produces). Its per-type
examples are checked by `validate_log_source`, as a preview checks them.

The inputs table is rendered from `PROPERTIES` and compared in tests/typing/test_reference.py.
"""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import sigsentry_pulumi
from documentation.markdown import ROOT, code_spans, section, table
from sigsentry_pulumi import _constants, _errors
from sigsentry_pulumi._config import resolve_settings
from sigsentry_pulumi._rules import CREDENTIAL_RULES
from sigsentry_pulumi._types import PROPERTIES
from sigsentry_pulumi.testing import validate_log_source

PROVIDER_DOC = (ROOT / "docs" / "provider.md").read_text()
SETTING = re.compile(r"^sigsentry:[a-zA-Z]+$")
KEY = "ss_secret_docs-reference-key"


def package_modules() -> Iterator[Any]:
    for module in pkgutil.walk_packages(sigsentry_pulumi.__path__, "sigsentry_pulumi."):
        # `__main__` runs the command line; the mypy plugin is read by mypy only.
        if module.name.rsplit(".", 1)[-1] not in ("__main__", "mypy_plugin"):
            yield importlib.import_module(module.name)


def settings_in_code() -> set[str]:
    """Every provider setting (`sigsentry:...`) a module of the package names as a constant."""
    return {
        value
        for module in package_modules()
        for value in vars(module).values()
        if isinstance(value, str) and SETTING.match(value)
    }


# The provider settings


CONFIG_ROWS = table(section(PROVIDER_DOC, "## Configuration"))


def test_the_settings_table_lists_every_setting_the_code_reads() -> None:
    documented = {code_spans(row[0])[0] for row in CONFIG_ROWS}
    assert documented == settings_in_code()


@pytest.mark.parametrize("row", CONFIG_ROWS, ids=lambda row: code_spans(row[0])[0])
def test_each_setting_has_its_environment_fallback_and_default(row: list[str]) -> None:
    setting, environment, default = code_spans(row[0])[0], row[1], row[2]
    suffix = next(
        (
            name[len("CONFIG_") :]
            for name, value in vars(_constants).items()
            if name.startswith("CONFIG_") and value == setting
        ),
        None,
    )
    fallback = getattr(_constants, f"ENV_{suffix}", None) if suffix else None
    assert environment == (f"`{fallback}`" if fallback else ""), setting
    value = getattr(_constants, f"DEFAULT_{suffix}", None) if suffix else None
    if value is not None:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        assert default == f"`{shown}`", setting
    elif setting == _constants.CONFIG_API_KEY:
        assert "required" in default
    else:
        assert default in ("none", "`false`"), setting


def test_the_documented_defaults_are_the_resolved_ones() -> None:
    settings = resolve_settings(environ={_constants.ENV_API_KEY: KEY})
    assert (settings.api_url, settings.timeout, settings.max_retries) == (
        _constants.DEFAULT_API_URL,
        _constants.DEFAULT_TIMEOUT,
        _constants.DEFAULT_MAX_RETRIES,
    )
    assert settings.project_id is None


# Credentials


CREDENTIAL_ROWS = table(section(PROVIDER_DOC, "### Credentials, one type per `type`"))


@pytest.mark.parametrize("row", CREDENTIAL_ROWS, ids=lambda row: row[0])
def test_the_credentials_table_has_the_keys_the_provider_checks(row: list[str]) -> None:
    source_type = code_spans(row[0])[0]
    rule = CREDENTIAL_RULES[source_type]
    keys = re.compile(r"^[a-z][A-Za-z]+$")  # a key, not a note such as `type` inside JSON
    assert [k for k in code_spans(row[2]) if keys.match(k)][: len(rule.required)] == list(
        rule.required
    ) or set(code_spans(row[2])[: len(rule.required)]) == set(rule.required)
    assert {k for k in code_spans(row[3]) if keys.match(k)} == set(rule.optional)


def test_the_credentials_table_covers_every_type() -> None:
    assert [code_spans(row[0])[0] for row in CREDENTIAL_ROWS] == list(_constants.LOG_SOURCE_TYPES)


# What replaces a source


def replacing_state() -> list[str]:
    """The state names whose change replaces a source: the properties that replace on change,
    and `adoptId`, which the provider's diff replaces on when it names another source."""
    adopt = next(p.state for p in PROPERTIES if p.python == "adopt_id")
    return [p.state for p in PROPERTIES if p.replaces] + [adopt]


def test_the_docs_name_exactly_the_properties_that_replace_a_source() -> None:
    text = section(PROVIDER_DOC, "### Which changes replace a source")
    listed = re.findall(r"^\* `(\w+)`", text, flags=re.MULTILINE)
    assert listed == replacing_state()


def test_the_architecture_names_them_too() -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    sentence = re.search(r"Which changes replace a source: ([^(.]*)", " ".join(text.split()))
    assert sentence is not None
    assert re.findall(r"`(\w+)`", sentence.group(1)) == replacing_state()


# The examples


def per_type_examples() -> list[tuple[str, dict[str, Any]]]:
    """Each `LogSource(...)` of "One example per type", its arguments evaluated with config
    secrets read as plain strings (as a preview sees them once known)."""
    block = re.search(
        r"```python\n(.*?)```", section(PROVIDER_DOC, "## One example per type"), re.S
    )
    assert block is not None
    calls: list[tuple[str, dict[str, Any]]] = []

    class Config:
        def require_secret(self, key: str) -> str:
            return {"gcpKey": GCP_KEY}.get(key, f"{key}-value")

    def log_source(resource_name: str, **kwargs: Any) -> None:
        calls.append((resource_name, kwargs))

    namespace = {"pulumi": type("pulumi", (), {"Config": Config}), "LogSource": log_source}
    exec(compile(block.group(1), "provider.md", "exec"), namespace)  # noqa: S102 - our own docs
    return calls


GCP_KEY = (
    '{"type": "service_account", "project_id": "p", "client_email": "c@p.iam.gserviceaccount.com",'
    ' "private_key": "-----BEGIN PRIVATE KEY-----\\nx\\n-----END PRIVATE KEY-----\\n"}'
)
EXAMPLES = per_type_examples()


def test_there_is_one_example_per_type() -> None:
    assert [kwargs["type"] for _, kwargs in EXAMPLES] == list(_constants.LOG_SOURCE_TYPES)


@pytest.mark.parametrize(("resource_name", "kwargs"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_each_example_passes_the_providers_check(
    resource_name: str, kwargs: dict[str, Any]
) -> None:
    kwargs = {
        **kwargs,
        "project_id": None if kwargs.get("project_id") == "prj_..." else kwargs.get("project_id"),
    }
    assert validate_log_source(resource_name, **kwargs) == []


# Errors


ERROR_ROWS = table(section(PROVIDER_DOC, "## Errors you may meet"))


def quoted(cell: str) -> list[str]:
    """The message fragments a cell quotes: its code spans with some text of their own (a span
    of only `...` and placeholders would match any message)."""
    return [f for f in code_spans(cell) if len(re.sub(r"\.\.\.|…|\bN\b|\bT\b|\W", "", f)) >= 4]


def fragment_pattern(fragment: str) -> re.Pattern[str]:
    """A quoted message fragment as a pattern: `...` stands for any text, `N` and `T` for a
    number, `ls_...` for an id."""
    parts = re.split(r"(\.\.\.|…|\bN\b|\bT\b)", fragment.strip())
    pattern = "".join(
        ".*?" if part in ("...", "…") else r"[\d.]+" if part in ("N", "T") else re.escape(part)
        for part in parts
    )
    return re.compile(pattern, re.DOTALL)


@functools.cache
def source_templates() -> tuple[str, ...]:
    """Every f-string and string the package's modules hold, a module constant filled in by its
    value and any other hole as `...`: messages that only a running plugin produces."""
    templates = []
    for module in package_modules():
        tree = ast.parse(Path(str(module.__file__)).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = ""
                for part in node.values:
                    if isinstance(part, ast.Constant):
                        text += str(part.value)
                    elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name):
                        value = vars(module).get(part.value.id)
                        text += value if isinstance(value, str) else "..."
                    else:
                        text += "..."
                templates.append(text)
    return tuple(templates)


def client_failure(handler: Any, call: Any) -> str:
    client = sigsentry_pulumi.SigSentryClient(
        KEY,
        base_url="https://api.sigsentry.test",
        project_id="prj_docs",
        transport=httpx.MockTransport(handler),
        sleep=lambda _s: None,
        max_retries=1,
        jitter=lambda: 0.0,
    )
    with pytest.raises(sigsentry_pulumi.SigSentryError) as caught:
        call(client)
    return str(caught.value)


def raising(error: Exception) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


def listing(cursors: Iterator[str]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={"success": True, "data": [], "nextCursor": next(cursors)},
            headers={"X-Request-Id": "req_docs"},
        )

    return handler


def every_cursor() -> Iterator[str]:
    number = 0
    while True:
        number += 1
        yield f"c{number}"


def settings_failure(config: dict[str, object], environ: dict[str, str]) -> str:
    with pytest.raises(_errors.ConfigurationError) as caught:
        resolve_settings(config.get, environ)
    return str(caught.value)


def api_error(status: int, code: str, **extra: Any) -> str:
    return str(
        _errors.error_for_status(status, code, "the API's message", request_id="req_docs", **extra)
    )


def produced_messages() -> dict[type[BaseException], list[str]]:
    """The messages the code produces for the failures the table lists, by exception class."""
    with_key = {_constants.ENV_API_KEY: KEY}
    messages: dict[type[BaseException], list[str]] = {
        _errors.ConfigurationError: [
            settings_failure({}, {}),
            settings_failure({}, {_constants.ENV_API_KEY: "two words"}),
            settings_failure({_constants.CONFIG_TIMEOUT: "soon"}, with_key),
            settings_failure({_constants.CONFIG_MAX_RETRIES: "-1"}, with_key),
            settings_failure({_constants.CONFIG_API_URL: "api.sigsentry.com"}, with_key),
            str(_errors.missing_dependency("httpx", "/venv/bin/python")),
        ],
        _errors.VerificationFailedError: [
            str(
                _errors.VerificationFailedError(
                    "ls_1", "could not connect", restored=["credentials"]
                )
            )
        ],
        _errors.LogSourceGoneError: [str(_errors.LogSourceGoneError("ls_1"))],
        _errors.NoSuchLogSourceError: [str(_errors.NoSuchLogSourceError("ls_1", "prj_docs"))],
        _errors.RollbackFailedError: [
            str(
                _errors.RollbackFailedError(
                    "ls_1", RuntimeError("the test failed"), RuntimeError("503")
                )
            ),
            str(
                _errors.RollbackFailedError(
                    "ls_1",
                    _errors.VerificationFailedError("ls_1", "bad key"),
                    RuntimeError("503"),
                    updated=True,
                )
            ),
        ],
        _errors.APIConnectionError: [
            client_failure(
                raising(httpx.ConnectError("refused")), lambda c: c.delete_log_source("ls_1")
            ),
            client_failure(
                raising(httpx.ReadError("reset")), lambda c: c.delete_log_source("ls_1")
            ),
        ],
        _errors.RedirectError: [
            client_failure(
                lambda request: httpx.Response(302, headers={"Location": "https://x.test/v1"}),
                lambda c: c.delete_log_source("ls_1"),
            )
        ],
        _errors.APITimeoutError: [
            client_failure(
                raising(httpx.ReadTimeout("slow")), lambda c: c.delete_log_source("ls_1")
            )
        ],
        _errors.UnexpectedResponseError: [
            client_failure(listing(iter(["again", "again"])), lambda c: list(c.iter_log_sources())),
            client_failure(listing(every_cursor()), lambda c: list(c.iter_log_sources())),
        ],
        _errors.BadRequestError: [
            api_error(
                400, "VALIDATION_ERROR", details=[{"field": "X-Project-Id", "issue": "required"}]
            )
        ],
        _errors.AuthenticationError: [api_error(401, "UNAUTHORIZED")],
        _errors.PermissionDeniedError: [api_error(403, "FORBIDDEN")],
        _errors.QuotaExceededError: [api_error(403, "QUOTA_EXCEEDED")],
        _errors.RouteNotFoundError: [api_error(404, "NOT_FOUND", route_missing=True)],
        _errors.ConflictError: [api_error(409, "IDEMPOTENCY_CONFLICT")],
        _errors.RateLimitError: [api_error(429, "RATE_LIMITED")],
        _errors.InternalServerError: [
            api_error(500, "INTERNAL_ERROR"),
            api_error(503, "SERVICE_UNAVAILABLE"),
        ],
    }
    problems = validate_log_source(
        "docs", type="loki", credentials={"host": "loki.example.com"}, sources=["a", "b", ""]
    )
    messages[ValueError] = [
        f"{p.field}: {p.reason}" for p in problems
    ]  # a preview's check failures
    return messages


MESSAGES = produced_messages()
NOT_IN_THE_TABLE = {
    _errors.SigSentryError: "the base class",
    _errors.APIStatusError: "a base class; an unknown 4xx status is reported as the API says",
    _errors.NotFoundError: "the provider turns a missing source into `LogSourceGoneError` (update),"
    " `NoSuchLogSourceError` (get) or a deletion (refresh, delete)",
}


@pytest.mark.parametrize("row", ERROR_ROWS, ids=lambda row: row[0][:40])
def test_each_quoted_message_is_one_the_code_produces(row: list[str]) -> None:
    corpus = [message for messages in MESSAGES.values() for message in messages]
    for fragment in quoted(row[0]):
        pattern = fragment_pattern(fragment)
        if fragment.startswith(("sigsentry:", "credentials.", "sources[")) and " " not in fragment:
            continue  # a setting or field named in the cell's own words
        assert any(pattern.search(m) for m in corpus) or any(
            pattern.search(t) for t in source_templates()
        ), fragment


EXCEPTIONS: list[type[BaseException]] = sorted(
    (
        member
        for member in (getattr(_errors, name) for name in _errors.__all__)
        if isinstance(member, type) and issubclass(member, BaseException)
    ),
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("error", EXCEPTIONS, ids=lambda cls: cls.__name__)
def test_every_exception_a_user_can_meet_has_a_row(error: type[BaseException]) -> None:
    if error in NOT_IN_THE_TABLE:
        return
    fragments = [fragment_pattern(f) for row in ERROR_ROWS for f in quoted(row[0])]
    assert error in MESSAGES, f"no message produced for {error.__name__}"
    for message in MESSAGES[error]:
        assert any(pattern.search(message) for pattern in fragments), message
