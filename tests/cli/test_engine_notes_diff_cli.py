"""The engine notes' claims about DiffResult, Read results and values, against the real CLI."""

from __future__ import annotations

from typing import Any

import pytest

from cli.engine_notes_support import Bench, deployed, labelled, set_config
from cli.recording_provider import COMPUTED, UNKNOWN_MARK, Recorded, RecordingProvider
from cli.stacks import changes
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow


@pytest.fixture
def bench(pulumi_env: PulumiEnvironment) -> Bench:
    return Bench(pulumi_env)


def test_changes_false_means_no_change_whatever_replaces_says(bench: Bench) -> None:
    stack = deployed(bench, diff={"changes": False, "replaces": ["label"]})
    set_config(stack, label="two")
    result = stack.up()
    assert changes(result) == {"same": 2}
    assert bench.methods() == ["check", "diff"]


def test_changes_none_lets_the_engine_diff_the_inputs(bench: Bench) -> None:
    stack = deployed(bench, diff="engine")
    assert changes(stack.up()) == {"same": 2}
    set_config(stack, label="two")
    bench.clear()
    result = stack.up()
    assert changes(result) == {"update": 1, "same": 1}
    assert bench.methods() == ["check", "diff", "update"]


def test_changes_none_counts_a_changed_provider_as_a_change(bench: Bench) -> None:
    stack = deployed(bench, diff="engine", held="first")
    stack.workspace.program = labelled(diff="engine", held="second")
    result = stack.up()
    assert changes(result) == {"update": 1, "same": 1}


def test_replace_on_changes_only_acts_when_the_provider_leaves_changes_none(
    bench: Bench,
) -> None:
    def program_with(**behaviour: Any) -> Any:
        def program() -> None:
            import pulumi

            Recorded(
                "res",
                {"label": pulumi.Config().get("label") or "one"},
                RecordingProvider(**behaviour),
                pulumi.ResourceOptions(replace_on_changes=["label"]),
            )

        return program

    decided = bench.stack(program_with(), project="decided")
    decided.up()
    set_config(decided, label="two")
    assert changes(decided.up()) == {"update": 1, "same": 1}

    undecided = bench.stack(program_with(diff="engine"), project="undecided")
    undecided.up()
    set_config(undecided, label="two")
    assert changes(undecided.up()) == {"replace": 1, "same": 1}


def test_no_change_keeps_the_old_outputs_but_records_the_new_inputs(bench: Bench) -> None:
    stack = deployed(bench, diff={"changes": False}, held="first")
    before = bench.resource(stack, "res", show_secrets=True)
    set_config(stack, label="two")
    stack.workspace.program = labelled(diff={"changes": False}, held="second")
    assert changes(stack.up()) == {"same": 2}
    after = bench.resource(stack, "res", show_secrets=True)
    assert after["outputs"] == before["outputs"]  # the old label and the old __provider
    assert after["outputs"]["label"] == "one"
    # the notes say the old __provider stays: only the outputs' copy does; the inputs are the
    # new ones, the new provider included
    assert after["inputs"]["label"] == "two"
    assert after["inputs"]["__provider"] != before["inputs"]["__provider"]
    assert after["outputs"]["__provider"] == before["inputs"]["__provider"]


def test_read_gone_drops_the_resource_from_the_state(bench: Bench) -> None:
    stack = deployed(bench, read="gone")
    result = stack.refresh()
    assert changes(result) == {"delete": 1, "same": 1}
    urns = [r["urn"] for r in bench.export(stack)["resources"]]
    assert not any(urn.endswith("::res") for urn in urns)


def test_read_with_outs_none_fails_the_refresh(bench: Bench) -> None:
    from pulumi import automation as auto

    stack = deployed(bench, read="none")
    with pytest.raises(auto.CommandError) as failure:
        stack.refresh()
    assert "TypeError" in str(failure.value)


def test_read_result_inputs_replace_the_stored_inputs(bench: Bench) -> None:
    with_inputs = deployed(bench, read="drift", read_inputs=True)
    with_inputs.refresh()
    state = bench.resource(with_inputs, "res")
    assert state["outputs"]["label"] == state["inputs"]["label"] == "drifted"
    # the program still says "one": the next up is an update back to it
    preview = with_inputs.preview()
    assert {getattr(k, "value", k): v for k, v in preview.change_summary.items()} == {
        "update": 1,
        "same": 1,
    }


def test_read_without_inputs_keeps_the_stored_inputs(bench: Bench) -> None:
    stack = deployed(bench, read="drift")
    stack.refresh()
    state = bench.resource(stack, "res")
    assert state["outputs"]["label"] == "drifted"
    assert state["inputs"]["label"] == "one"


def test_numbers_arrive_as_floats(bench: Bench) -> None:
    def program() -> None:
        Recorded("counted", {"count": 3, "nested": {"n": 2}, "flag": True})

    stack = bench.stack(program)
    stack.up()
    (check,) = bench.calls("check")
    (create,) = bench.calls("create")
    assert check["news_types"]["count"] == create["props_types"]["count"] == "float"
    assert check["news_types"]["flag"] == "bool"
    assert isinstance(create["props"]["nested"]["n"], float)


def test_unknowns_reach_check_and_diff_in_preview(bench: Bench) -> None:
    def program() -> None:
        import pulumi

        label = pulumi.Config().get("label") or "one"
        first = Recorded("first", {"label": label})
        Recorded("second", {"ref": first.computed, "copy": first.label})  # type: ignore[attr-defined]

    stack = bench.stack(program)
    stack.preview()
    second_check = bench.calls("check")[1]
    # a resource being created has, in preview, its inputs as outputs and the rest unknown
    assert second_check["news"]["ref"] == UNKNOWN_MARK
    assert second_check["news"]["copy"] == "one"
    stack.up()
    set_config(stack, label="two")
    bench.clear()
    stack.preview()
    diffs = {c["news"].get("label", "second"): c for c in bench.calls("diff")}
    assert diffs["second"]["news"]["ref"] == UNKNOWN_MARK
    assert COMPUTED in diffs["second"]["olds"]
