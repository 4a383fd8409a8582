"""The Pulumi-style renderer, on hand-built steps and results (no engine, no network)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from pulumi.output import Unknown

from sigsentry_pulumi.testing.render import format_value, render, render_outputs, render_summary
from sigsentry_pulumi.testing.values import Secret

TYPE = "pulumi-python:dynamic/sigsentry:LogSource"


@dataclass(frozen=True)
class FakeStep:
    op: str
    name: str = "prod-cloudwatch"
    type: str = TYPE
    urn: str = ""
    id: str | None = None
    changed_keys: tuple[str, ...] = ()
    replace_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class FakeResult:
    operation: str
    steps: list[FakeStep]
    outputs: dict[str, Any] = field(default_factory=dict)
    policy_violations: list[Any] = field(default_factory=list)


def test_first_up_shows_the_create_the_outputs_and_the_count() -> None:
    result = FakeResult(
        "up",
        [FakeStep("create")],
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
    result = FakeResult("preview", [FakeStep("create"), FakeStep("same", name="other")])
    text = render(result)
    assert text.startswith("Previewing update (dev)")
    assert "Plan" in text.splitlines()[2]
    assert "    + 1 to create" in text
    assert "    1 unchanged" in text


def test_second_up_with_nothing_to_do_reports_only_unchanged() -> None:
    result = FakeResult("up", [FakeStep("same"), FakeStep("same", name="b")])
    summary = render(result).split("Resources:")[1]
    assert summary.strip() == "2 unchanged"


@pytest.mark.parametrize(
    ("op", "symbol", "done"),
    [("update", "~", "updated"), ("replace", "+-", "replaced"), ("delete", "-", "deleted")],
)
def test_each_change_has_pulumis_symbol_and_status(op: str, symbol: str, done: str) -> None:
    text = render(FakeResult("up", [FakeStep(op)]))
    row = next(line for line in text.splitlines() if "prod-cloudwatch" in line)
    assert row.startswith(f" {symbol.ljust(4)}{TYPE}")
    assert done in row
    assert f"    {symbol.ljust(2)}1 {done}" in text


def test_update_and_replace_name_the_changed_properties_replacing_first() -> None:
    steps = [
        FakeStep("update", changed_keys=("name", "sources")),
        FakeStep("replace", name="b", changed_keys=("name", "type"), replace_keys=("type",)),
    ]
    text = render(FakeResult("up", steps))
    assert "[diff: ~name,sources]" in text
    assert "[diff: ~type,name]" in text


def test_destroy_prints_no_outputs() -> None:
    text = render(FakeResult("destroy", [FakeStep("delete")], {"log_source_id": "ls_1"}))
    assert text.startswith("Destroying (dev)")
    assert "Outputs:" not in text
    assert "    - 1 deleted" in text


def test_policy_violations_are_listed() -> None:
    text = render(FakeResult("preview", [FakeStep("create")], policy_violations=["no-inactive"]))
    assert "Policies:\n    no-inactive" in text


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
    assert format_value(Unknown()) == "output<string>"
    assert format_value(3.0) == "3"
    assert format_value(True) == "true"
    assert format_value(["x"]) == '[\n    [0]: "x"\n]'
    assert format_value({}) == "{}"
