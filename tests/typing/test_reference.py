"""The typed API, the provider's rules and docs/provider.md say the same thing.

Each credentials TypedDict has exactly the required and optional keys the provider's check
enforces (`CREDENTIAL_RULES`), `LogSourceType` lists exactly the types the API takes, the
arguments of `LogSource` are exactly those `PROPERTIES` documents, and the reference table in
docs/provider.md is the one rendered from `PROPERTIES`.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any, get_args

import pytest

from sigsentry_pulumi import (
    CloudWatchCredentials,
    DatadogCredentials,
    ElasticCredentials,
    GcpLoggingCredentials,
    LogSource,
    LogSourceArgs,
    LogSourceType,
    LokiCredentials,
    SplunkCredentials,
)
from sigsentry_pulumi._constants import LOG_SOURCE_TYPES
from sigsentry_pulumi._rules import CREDENTIAL_RULES
from sigsentry_pulumi._types import PROPERTIES, Property
from sigsentry_pulumi.resource import REPLACE_ON_CHANGES, SECRET_OUTPUTS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "provider.md"

SHAPES: dict[str, Any] = {  # TypedDict classes: mypy types them as plain `type`
    "cloudwatch": CloudWatchCredentials,
    "datadog": DatadogCredentials,
    "loki": LokiCredentials,
    "splunk": SplunkCredentials,
    "elastic": ElasticCredentials,
    "gcp_logging": GcpLoggingCredentials,
}


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def row(prop: Property) -> str:
    required = "**Required**" if prop.required else "Optional"
    default = prop.default or ""
    return (
        f"| `{prop.python}` | `{prop.state}` | {required} | {default} | {yes(prop.secret)} | "
        f"{yes(prop.replaces)} | {prop.doc} |"
    )


def inputs_table() -> str:
    header = (
        "| argument | state name | required | default | secret | replaces on change | "
        "description |\n|---|---|---|---|---|---|---|"
    )
    return "\n".join([header, *(row(prop) for prop in PROPERTIES)])


def test_the_type_literal_lists_exactly_the_api_types() -> None:
    assert get_args(LogSourceType) == LOG_SOURCE_TYPES
    assert set(SHAPES) == set(LOG_SOURCE_TYPES)


@pytest.mark.parametrize("source_type", LOG_SOURCE_TYPES)
def test_each_credentials_type_has_the_keys_the_provider_checks(source_type: str) -> None:
    shape, rule = SHAPES[source_type], CREDENTIAL_RULES[source_type]
    assert shape.__required_keys__ == frozenset(rule.required)
    assert shape.__optional_keys__ == frozenset(rule.optional)


def test_the_documented_properties_are_the_arguments_with_their_settings() -> None:
    keyword_only = [
        name
        for name, parameter in inspect.signature(LogSourceArgs.__init__).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert keyword_only == [prop.python for prop in PROPERTIES]
    assert {p.state for p in PROPERTIES if p.secret} == set(SECRET_OUTPUTS)
    assert {p.state for p in PROPERTIES if p.replaces} == set(REPLACE_ON_CHANGES)
    for prop in PROPERTIES:
        assert f"{prop.python}:" in (LogSource.__init__.__doc__ or ""), prop.python


def test_docs_hold_the_reference_rendered_from_the_properties() -> None:
    assert inputs_table() in DOCS.read_text(), inputs_table()


def test_the_class_docstring_names_every_argument_that_replaces_the_source() -> None:
    # The sentence ending "replaces the source": `adopt_id` replaces it only when it names
    # another source (the provider's own rule), the others whenever they change.
    doc = " ".join((LogSource.__doc__ or "").split())
    sentence = doc[: doc.index(" replaces the source;")].rsplit(". ", 1)[-1]
    named = set(re.findall(r"`(\w+)`", sentence))
    assert named == {p.python for p in PROPERTIES if p.replaces} | {"adopt_id"}, sentence
