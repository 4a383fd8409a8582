"""The provider's diff follows the property table (`_types.PROPERTIES`), and the policy pack
reads only properties the table names: adding, renaming or re-flagging a property in the table
changes both, and a property the pack reads cannot be renamed away from it unnoticed."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from sigsentry_pulumi._types import PROPERTIES, STATE_NAMES, Property
from sigsentry_pulumi.provider import LogSourceProvider

POLICIES = Path(__file__).resolve().parents[2] / "sigsentry_pulumi" / "policies.py"

OLDS: dict[str, Any] = {
    "type": "cloudwatch",
    "name": "checkout",
    "credentials": {"accessKeyId": "AKIAOLD", "secretAccessKey": "old"},
    "sources": ["/aws/lambda/checkout-api"],
    "isActive": True,
    "verify": False,
}
CHANGED: dict[str, Any] = {
    "type": "datadog",
    "name": "checkout-renamed",
    "credentials": {"accessKeyId": "AKIANEW", "secretAccessKey": "new"},
    "sources": ["/aws/lambda/billing-worker"],
    "isActive": False,
    "verify": True,
    "account": "tenantb",
}


@pytest.mark.parametrize("prop", [p for p in PROPERTIES if p.compared], ids=lambda p: p.state)
def test_a_change_of_a_compared_property_is_a_change_and_replaces_as_the_table_says(
    prop: Property,
) -> None:
    result = LogSourceProvider().diff("ls_1", dict(OLDS), {**OLDS, prop.state: CHANGED[prop.state]})
    assert result.changes is True
    assert (prop.state in (result.replaces or [])) is prop.replaces


@pytest.mark.parametrize("prop", [p for p in PROPERTIES if p.filled is not None], ids=str)
def test_a_filled_default_is_no_change_against_its_explicit_value(prop: Property) -> None:
    olds = {key: value for key, value in OLDS.items() if key != prop.state}
    result = LogSourceProvider().diff("ls_1", olds, {**olds, prop.state: prop.filled})
    assert result.changes is False


def test_the_policy_pack_reads_only_properties_the_table_names() -> None:
    read = {
        node.args[0].value
        for node in ast.walk(ast.parse(POLICIES.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "props"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert {"type", "name", "credentials", "sources", "verify"} <= read  # the walk finds them
    assert read <= set(STATE_NAMES.values())
