"""The engine notes' table "What each operation sends", checked against the real CLI.

Each test runs a program of `Recorded` resources and compares the calls the plugin received,
in order, with the table. `check` adds ``checkedBy`` to the inputs and `create` adds
``computed`` to the outputs, so a call's `olds` tell old inputs from old outputs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cli.engine_notes_support import Bench, deployed, labelled, set_config
from cli.recording_provider import CHECK_MARK, COMPUTED, Recorded, RecordingProvider
from cli.stacks import changes
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow


@pytest.fixture
def bench(pulumi_env: PulumiEnvironment) -> Bench:
    return Bench(pulumi_env)


def test_create_checks_with_empty_olds_then_creates_from_the_checked_inputs(bench: Bench) -> None:
    stack = bench.stack(labelled())
    stack.up()
    assert bench.methods() == ["check", "create"]
    (check,) = bench.calls("check")
    (create,) = bench.calls("create")
    assert check["olds"] == {}
    assert check["news"]["label"] == "one" and CHECK_MARK not in check["news"]
    assert create["props"][CHECK_MARK] == "check"  # what check returned


def test_preview_of_a_create_only_checks(bench: Bench) -> None:
    stack = bench.stack(labelled())
    preview = stack.preview()
    assert bench.methods() == ["check"]
    assert {getattr(k, "value", k): v for k, v in preview.change_summary.items()} == {"create": 2}


def test_update_checks_old_inputs_and_diffs_and_updates_old_outputs(bench: Bench) -> None:
    stack = deployed(bench)
    set_config(stack, label="two")
    stack.preview()
    assert bench.methods() == ["check", "diff"]
    bench.clear()
    result = stack.up()
    assert changes(result) == {"update": 1, "same": 1}
    assert bench.methods() == ["check", "diff", "update"]
    check, diff, update = bench.calls()[1:]
    assert check["olds"][CHECK_MARK] == "check" and COMPUTED not in check["olds"]  # inputs
    assert COMPUTED in diff["olds"] and COMPUTED in update["olds"]  # outputs
    assert diff["news"]["label"] == update["news"]["label"] == "two"


def test_replace_creates_the_new_resource_before_deleting_the_old(bench: Bench) -> None:
    stack = deployed(bench, replace_keys=["kind"])
    set_config(stack, kind="b")
    stack.preview()
    # the notes say a preview of a replacement calls Check and Diff: it checks the new
    # resource's inputs a second time too, as the update does
    assert bench.methods() == ["check", "diff", "check"]
    assert bench.calls("check")[1]["olds"] == {}
    bench.clear()
    result = stack.up()
    assert changes(result) == {"replace": 1, "same": 1}
    assert bench.methods() == ["check", "diff", "check", "create", "delete"]
    first_check, _, second_check, create, delete = bench.calls()[1:]
    assert first_check["olds"] != {} and second_check["olds"] == {}
    assert delete["id"] != create["id"]
    assert COMPUTED in delete["props"] and delete["props"]["kind"] == "a"  # old outputs


def test_provider_delete_before_replace_deletes_first(bench: Bench) -> None:
    stack = deployed(bench, replace_keys=["kind"], delete_before_replace=True)
    set_config(stack, kind="b")
    stack.up()
    assert bench.methods() == ["check", "diff", "check", "delete", "create"]


def option_program(option: bool, provider_says: bool | None) -> Callable[[], None]:
    def program() -> None:
        import pulumi

        Recorded(
            "res",
            {"kind": pulumi.Config().get("kind") or "a"},
            RecordingProvider(replace_keys=["kind"], delete_before_replace=provider_says),
            pulumi.ResourceOptions(delete_before_replace=option),
        )

    return program


@pytest.mark.parametrize(
    ("option", "provider_says", "order"),
    [
        (True, None, ["delete", "create"]),
        (True, False, ["delete", "create"]),
        (False, True, ["create", "delete"]),
    ],
)
def test_the_delete_before_replace_option_overrides_the_provider(
    bench: Bench, option: bool, provider_says: bool | None, order: list[str]
) -> None:
    stack = bench.stack(option_program(option, provider_says))
    stack.up()
    bench.clear()
    set_config(stack, kind="b")
    stack.up()
    assert bench.methods() == ["check", "diff", "check", *order]


def test_destroy_only_deletes_with_the_old_outputs(bench: Bench) -> None:
    stack = deployed(bench)
    stack.preview_destroy()
    assert bench.methods() == []  # a preview of a destroy calls nothing
    result = stack.destroy()
    assert changes(result) == {"delete": 2}
    (delete,) = bench.calls("delete")
    assert bench.methods() == ["delete"]
    assert delete["props"][COMPUTED].startswith("computed-")


def test_refresh_reads_with_the_old_outputs(bench: Bench) -> None:
    stack = deployed(bench)
    stack.preview_refresh()
    preview_methods = bench.methods()
    bench.clear()
    stack.refresh()
    assert bench.methods() == preview_methods == ["read", "diff"]
    (read,) = bench.calls("read")
    (diff,) = bench.calls("diff")
    assert COMPUTED in read["props"]  # outputs, not inputs
    # then Diff(olds=the refreshed outputs, news=the old inputs)
    assert COMPUTED in diff["olds"] and COMPUTED not in diff["news"]
    assert diff["news"][CHECK_MARK] == "check"


def test_import_option_fails_with_key_error_provider(bench: Bench) -> None:
    from pulumi import automation as auto

    def program() -> None:
        import pulumi

        Recorded("adopted", {"label": "one"}, opts=pulumi.ResourceOptions(import_="rec-existing"))

    stack = bench.stack(program)
    with pytest.raises(auto.CommandError) as failure:
        stack.up()
    assert "KeyError: '__provider'" in str(failure.value)
    assert bench.calls("read") == []  # it fails before the provider's read is called
