"""The Pulumi-style renderer, on hand-built steps and results (no engine, no network)."""

from __future__ import annotations

from typing import Any

import pytest
from samples import unknown

from sigsentry_pulumi.testing import OperationResult, Secret, Step
from sigsentry_pulumi.testing.policy import PolicyViolation
from sigsentry_pulumi.testing.render import format_value, render, render_outputs, render_summary

TYPE = "pulumi-python:dynamic/sigsentry:LogSource"


def make_step(
    op: Any,
    name: str = "prod-cloudwatch",
    changed_keys: tuple[str, ...] = (),
    replace_keys: tuple[str, ...] = (),
) -> Step:
    urn = f"urn:pulumi:dev::demo::{TYPE}::{name}"
    return Step(op, urn, TYPE, name, None, changed_keys, replace_keys)


def make_result(
    operation: Any,
    steps: list[Step],
    outputs: dict[str, Any] | None = None,
    policy_violations: list[PolicyViolation] | None = None,
) -> OperationResult:
    return OperationResult(operation, steps, outputs or {}, policy_violations or [])


def test_first_up_shows_the_create_the_outputs_and_the_count() -> None:
    result = make_result(
        "up",
        [make_step("create")],
        {"log_source_id": "ls_1", "credentials": Secret({"secretAccessKey": "wJal-SECRET"})},
    )
    text = render(result, stack="dev", duration=1.25)
    lines = text.splitlines()
    assert lines[0] == "Updating (dev)"
    row = next(line for line in lines if "prod-cloudwatch" in line)
    assert row.startswith(" +   " + TYPE)
    assert row.endswith("created")
    assert '    log_source_id: "ls_1"' in lines
    assert "    credentials  : [secret]" in lines
    assert "    + 1 created" in lines
    assert "Duration: 1.2s" in lines or "Duration: 1.3s" in lines
    assert "wJal-SECRET" not in text


def test_preview_uses_plan_words_and_to_create_counts() -> None:
    result = make_result("preview", [make_step("create"), make_step("same", name="other")])
    text = render(result)
    assert text.startswith("Previewing update (dev)")
    assert "Plan" in text.splitlines()[2]
    assert "    + 1 to create" in text
    assert "    1 unchanged" in text


def test_second_up_with_nothing_to_do_reports_only_unchanged() -> None:
    result = make_result("up", [make_step("same"), make_step("same", name="b")])
    summary = render(result).split("Resources:")[1]
    assert summary.strip() == "2 unchanged"


@pytest.mark.parametrize(
    ("op", "symbol", "done"),
    [("update", "~", "updated"), ("replace", "+-", "replaced"), ("delete", "-", "deleted")],
)
def test_each_change_has_pulumis_symbol_and_status(op: str, symbol: str, done: str) -> None:
    text = render(make_result("up", [make_step(op)]))
    row = next(line for line in text.splitlines() if "prod-cloudwatch" in line)
    assert row.startswith(f" {symbol.ljust(4)}{TYPE}")
    assert done in row
    assert f"    {symbol.ljust(2)}1 {done}" in text


def test_a_replacement_counts_once_as_replaced_like_pulumis_summary() -> None:
    steps = [make_step("replace"), make_step("delete-replaced")]
    text = render(make_result("up", steps))
    summary = text.split("Resources:")[1]
    assert summary.strip() == "+-1 replaced"
    assert "deleted original" in text  # the old source's deletion is still shown as a row


def test_update_and_replace_name_the_changed_properties_replacing_first() -> None:
    steps = [
        make_step("update", changed_keys=("name", "sources")),
        make_step("replace", name="b", changed_keys=("name", "type"), replace_keys=("type",)),
    ]
    text = render(make_result("up", steps))
    assert "[diff: ~name,sources]" in text
    assert "[diff: ~type,name]" in text


def test_destroy_prints_no_outputs() -> None:
    text = render(make_result("destroy", [make_step("delete")], {"log_source_id": "ls_1"}))
    assert text.startswith("Destroying (dev)")
    assert "Outputs:" not in text
    assert "    - 1 deleted" in text


def test_policy_violations_are_listed_one_per_line() -> None:
    violation = PolicyViolation(
        "sigsentry-guardrails", "no-inactive", "advisory", "Sources stay active.\nIt is off.", None
    )
    text = render(make_result("preview", [make_step("create")], policy_violations=[violation]))
    assert f"Policy Violations:\n    {violation}\n" in text


def test_empty_stack_says_zero_resources() -> None:
    assert render_summary([], planning=False) == "Resources:\n    0 resources"


def test_nested_secrets_and_sdk_secret_wrappers_are_masked() -> None:
    sdk_wrapper = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": "token-SECRET",
    }
    outputs = {"ids": {"a": "ls_1", "key": Secret("k-SECRET")}, "raw": sdk_wrapper}
    text = render_outputs(outputs)
    assert "SECRET" not in text
    assert text.count("[secret]") == 2
    assert 'a  : "ls_1"' in text


def test_unknowns_numbers_and_lists_are_formatted_like_pulumi() -> None:
    assert format_value(unknown()) == "output<string>"
    assert format_value(3.0) == "3"
    assert format_value(True) == "true"
    assert format_value(["x"]) == '[\n    [0]: "x"\n]'
    assert format_value({}) == "{}"
