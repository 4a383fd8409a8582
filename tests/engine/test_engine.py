"""The engine stand-in against a tiny provider: call sequences, state, secrets, failures."""

from __future__ import annotations

import asyncio
import json
import pickle
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.output import Unknown

from sigsentry_pulumi.testing import EngineError, Secret, Stack

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from engine_stub_provider import (  # noqa: E402
    Widget,
    journal,
    max_concurrency,
    plugin_env,
    plugin_pids,
)

CONFIG_TOKEN = "open-sesame"  # the stub provider reports `authorized` for this one
WIDGET_TOKEN = "widget-secret-77d2e0"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def make_stack(tmp_path: Path, store: Path) -> Callable[..., Stack]:
    def make(program: Any, **options: Any) -> Stack:
        config: dict[str, str | Secret] = {
            "stub:storeDir": str(store),
            "stub:token": Secret(CONFIG_TOKEN),
        }
        config.update(options.pop("config", {}))
        return Stack(
            program,
            state_file=tmp_path / "state.json",
            config=config,
            passphrase=options.pop("passphrase", PASSPHRASE),
            env=plugin_env(),
            **options,
        )

    return make


def calls(store: Path) -> list[list[str]]:
    """The provider calls since the last call of this function."""
    seen = journal(store)
    (store / "calls.log").unlink(missing_ok=True)
    return seen


def ops(store: Path) -> list[str]:
    return [call[0] for call in calls(store)]


def two_widgets(spec: dict[str, Any]) -> Callable[[], None]:
    """Widget a (with a secret token) and widget b whose `ref` is a's id."""

    def program() -> None:
        a = Widget(
            "a",
            name=spec.get("name", "alpha"),
            kind=spec.get("kind", "plain"),
            token=pulumi.Output.secret(spec.get("token", WIDGET_TOKEN)),
            delete_before_replace=spec.get("provider_dbr"),
            opts=pulumi.ResourceOptions(delete_before_replace=spec.get("option_dbr")),
        )
        if spec.get("with_b", True):
            b = Widget("b", name="beta", ref=a.id)
            pulumi.export("b_ref", b.ref)
        pulumi.export("a_id", a.id)
        pulumi.export("token", a.token)

    return program


def test_preview_of_a_new_stack_only_checks(make_stack: Callable[..., Stack], store: Path) -> None:
    stack = make_stack(two_widgets({}))
    result = stack.preview()
    assert result.counts() == {"create": 2}
    assert all(step.id is None for step in result.steps)
    assert ops(store) == ["check", "check"]
    # b's ref is a's id, not known before a exists: an unknown, as the engine previews it.
    assert isinstance(result.outputs["a_id"], Unknown)
    assert isinstance(result.outputs["b_ref"], Unknown)
    assert result.outputs["token"] == Secret(WIDGET_TOKEN)
    assert stack.resources() == []
    assert not (store.parent / "state.json").exists()


def test_up_creates_then_a_second_up_is_all_same(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    stack = make_stack(two_widgets({}))
    created = stack.up()
    assert created.counts() == {"create": 2}
    a_id = created.step("a").id
    assert created.outputs["b_ref"] == a_id == created.outputs["a_id"]
    # up = a preview deployment (Check only) then an update deployment, in two plugin processes.
    processes = plugin_pids(store)
    assert [c[0] for c in calls(store)] == ["check", "check", "check", "create", "check", "create"]
    assert processes[0] == processes[1] != processes[2]
    before = {r.name: r.outputs["revision"] for r in stack.resources()}

    again = stack.up()
    assert again.counts() == {"same": 2}
    assert not {"create", "update", "delete"} & set(ops(store))
    # "same" keeps the old outputs: the provider was not asked for new ones.
    assert {r.name: r.outputs["revision"] for r in stack.resources()} == before


def test_update_sends_old_outputs_and_reports_changed_keys(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    spec: dict[str, Any] = {}
    stack = make_stack(two_widgets(spec))
    a_id = stack.up().step("a").id
    calls(store)
    spec["name"] = "alpha-renamed"
    planned = stack.preview().step("a")
    assert (planned.op, planned.changed_keys) == ("update", ("name",))
    assert ops(store) == ["check", "diff", "check", "diff"]  # no write in preview
    done = stack.up()
    assert done.counts() == {"update": 1, "same": 1}
    assert done.step("a").id == a_id
    assert ["update", a_id, "alpha-renamed"] in calls(store)
    record = json.loads((store / f"{a_id}.json").read_text())
    assert record["name"] == "alpha-renamed"


def test_replace_creates_first_and_deletes_the_old_one_at_the_end(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    spec: dict[str, Any] = {}
    stack = make_stack(two_widgets(spec))
    old_id = stack.up().step("a").id
    calls(store)
    spec["kind"] = "fancy"
    planned = stack.preview()
    assert planned.step("a").op == "replace" and planned.step("a").replace_keys == ("kind",)
    assert planned.step("b").op == "update"  # b's ref becomes unknown: a change
    calls(store)

    done = stack.up()
    new_id = done.step("a").id
    assert new_id != old_id
    assert done.outputs["b_ref"] == new_id  # the dependent sees the new id
    sequence = [c[0] for c in calls(store)][4:]  # after the preview: Check, Diff of a and b
    # Check, Diff, Check(olds={}), Create; b updated; the old a deleted last.
    assert sequence == ["check", "diff", "check", "create", "check", "diff", "update", "delete"]
    assert [s.op for s in done.steps] == ["replace", "update", "delete-replaced"]
    assert done.steps[-1].id == old_id
    assert not (store / f"{old_id}.json").exists()


@pytest.mark.parametrize(
    ("provider_dbr", "option_dbr", "delete_first"),
    [(True, None, True), (None, True, True), (True, False, False)],
    ids=["provider-asks", "option-asks", "option-overrides-provider"],
)
def test_delete_before_replace(
    make_stack: Callable[..., Stack],
    store: Path,
    provider_dbr: bool | None,
    option_dbr: bool | None,
    delete_first: bool,
) -> None:
    spec: dict[str, Any] = {"with_b": False, "provider_dbr": provider_dbr}
    stack = make_stack(two_widgets(spec))
    stack.up()
    calls(store)
    spec.update(kind="fancy", option_dbr=option_dbr)
    stack.up()
    writes = [c[0] for c in calls(store) if c[0] in ("create", "delete")]
    assert writes == (["delete", "create"] if delete_first else ["create", "delete"])


def test_replace_on_changes_applies_when_the_provider_leaves_the_diff_to_the_engine(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    spec: dict[str, Any] = {"name": "one"}

    def program() -> None:
        Widget(
            "w",
            name=spec["name"],
            engine_diff=True,
            opts=pulumi.ResourceOptions(replace_on_changes=["name"]),
        )

    stack = make_stack(program)
    stack.up()
    assert stack.up().counts() == {"same": 1}
    spec["name"] = "two"
    step = stack.up().steps[0]
    assert (step.op, step.replace_keys) == ("replace", ("name",))


def test_a_resource_dropped_from_the_program_is_deleted(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    spec: dict[str, Any] = {}
    stack = make_stack(two_widgets(spec))
    b_id = stack.up().step("b").id
    spec["with_b"] = False
    assert stack.preview().step("b").op == "delete"
    assert (store / f"{b_id}.json").exists()
    done = stack.up()
    assert done.step("b").op == "delete"
    assert not (store / f"{b_id}.json").exists()
    assert [r.name for r in stack.resources()] == ["a"]


def test_secrets_are_encrypted_in_state_and_marked_in_outputs(
    make_stack: Callable[..., Stack], store: Path, tmp_path: Path
) -> None:
    def program() -> None:
        w = Widget(
            "w",
            name="n",
            token=pulumi.Output.secret(WIDGET_TOKEN),
            opts=pulumi.ResourceOptions(additional_secret_outputs=["kind"]),
        )
        pulumi.export("token", w.token)
        pulumi.export("kind", w.kind)
        pulumi.export("name", w.name)

    stack = make_stack(program)
    result = stack.up()
    assert result.outputs == {
        "token": Secret(WIDGET_TOKEN),
        "kind": Secret("plain"),
        "name": "n",
    }
    (resource,) = stack.resources()
    assert resource.outputs["token"] == Secret(WIDGET_TOKEN)
    assert resource.inputs["token"] == Secret(WIDGET_TOKEN)
    assert isinstance(resource.outputs["__provider"], Secret)
    assert resource.outputs["authorized"] is True  # the secret config reached the provider
    state_text = (tmp_path / "state.json").read_text()
    assert WIDGET_TOKEN not in state_text and CONFIG_TOKEN not in state_text
    assert repr(result.outputs["token"]) == "[secret]"
    assert WIDGET_TOKEN not in repr(result) and WIDGET_TOKEN not in stack.plugin_output
    with pytest.raises(TypeError):
        pickle.dumps(result.outputs["token"])


def test_wrong_passphrase_is_a_clear_error(make_stack: Callable[..., Stack]) -> None:
    make_stack(two_widgets({"with_b": False})).up()
    with pytest.raises(EngineError, match="incorrect passphrase"):
        make_stack(two_widgets({}), passphrase="wrong").resources()


def test_check_failure_names_resource_property_and_fix_and_touches_nothing(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    spec: dict[str, Any] = {"name": ""}
    stack = make_stack(two_widgets(spec))
    with pytest.raises(EngineError) as caught:
        stack.up()
    message = str(caught.value)
    assert "Widget 'a'" in message
    assert "property 'name'" in message and "set `name` to a non-empty string" in message
    assert "no resource was changed" in message
    assert caught.value.step == "check"
    assert not {"create", "update", "delete"} & set(ops(store))
    assert stack.resources() == []


def test_provider_failure_keeps_completed_work_and_never_shows_a_secret(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    leaky = "leak-9c2f41d7"

    def program() -> None:
        first = Widget("first", name="ok")
        Widget("second", name="bad", token=pulumi.Output.secret(leaky), ref=first.id)

    stack = make_stack(program)
    with pytest.raises(EngineError) as caught:
        stack.up()
    error = caught.value
    assert error.step == "create" and error.urn is not None and error.urn.endswith("::second")
    assert leaky not in str(error) and "token [secret] was refused" in str(error)
    assert [s.name for s in error.steps] == ["first"]
    assert [r.name for r in stack.resources()] == ["first"]  # recorded, so not leaked


def test_at_most_four_provider_calls_at_once(make_stack: Callable[..., Stack], store: Path) -> None:
    def program() -> None:
        for index in range(8):
            Widget(f"w{index}", name=f"n{index}")

    stack = make_stack(program, config={"stub:delay": "0.15"})
    assert stack.up().counts() == {"create": 8}
    assert max_concurrency(store) == 4


def test_refresh_records_drift_and_the_next_up_restores_it(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    stack = make_stack(two_widgets({"with_b": False}))
    a_id = stack.up().step("a").id
    record = store / f"{a_id}.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "name": "renamed-outside"}))
    calls(store)

    refreshed = stack.refresh()
    assert ops(store) == ["read", "diff"]
    step = refreshed.step("a")
    assert (step.op, step.changed_keys) == ("refresh", ("name",))
    (resource,) = stack.resources()
    assert resource.inputs["name"] == "renamed-outside"
    assert resource.inputs["token"] == Secret(WIDGET_TOKEN)  # secrets stay secret

    restored = stack.up()
    assert (restored.step("a").op, restored.step("a").changed_keys) == ("update", ("name",))
    assert json.loads(record.read_text())["name"] == "alpha"


def test_refresh_drops_a_vanished_resource_and_the_next_up_recreates_it(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    stack = make_stack(two_widgets({"with_b": False}))
    a_id = stack.up().step("a").id
    (store / f"{a_id}.json").unlink()
    assert stack.refresh().step("a").op == "delete"
    assert stack.resources() == []
    again = stack.up()
    assert again.step("a").op == "create" and again.step("a").id != a_id


def test_get_reads_through_the_provider_and_destroy_leaves_it_alone(
    make_stack: Callable[..., Stack], store: Path, tmp_path: Path
) -> None:
    owner = Stack(
        two_widgets({"with_b": False}),
        state_file=tmp_path / "owner.json",
        config={"stub:storeDir": str(store)},
        passphrase=PASSPHRASE,
        env=plugin_env(),
    )
    a_id = owner.up().step("a").id
    assert a_id is not None
    calls(store)

    lookup = {"enabled": True}

    def program() -> None:
        if lookup["enabled"]:
            found = Widget.get("found", a_id)
            pulumi.export("found_name", found.name)

    reader = make_stack(program)
    result = reader.up()
    assert result.outputs["found_name"] == "alpha"
    assert result.steps[0].op == "read"
    assert "read" in ops(store)
    reader.destroy()
    assert (store / f"{a_id}.json").exists()
    assert reader.resources() == []

    # A read the program no longer makes is forgotten, and never deleted.
    reader.up()
    lookup["enabled"] = False
    assert reader.up().steps == []
    assert reader.resources() == []
    assert (store / f"{a_id}.json").exists()


def test_get_of_a_missing_id_fails_clearly(make_stack: Callable[..., Stack]) -> None:
    def program() -> None:
        Widget.get("ghost", "no-such-id")

    with pytest.raises(EngineError, match="no resource with id 'no-such-id' exists"):
        make_stack(program).preview()


def test_destroy_deletes_dependents_first(make_stack: Callable[..., Stack], store: Path) -> None:
    stack = make_stack(two_widgets({}))
    stack.up()
    calls(store)
    result = stack.destroy()
    assert [s.name for s in result.steps] == ["b", "a"]
    assert ops(store) == ["delete", "delete"]
    assert stack.resources() == [] and stack.outputs() == {}
    assert sorted(p.name for p in store.iterdir()) == []


def test_runs_a_project_folder_with_its_config_defaults(
    tmp_path: Path, store: Path, make_stack: Callable[..., Stack]
) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text(
        textwrap.dedent(
            """\
            name: widgets
            runtime: python
            main: src/
            config:
              widgetName:
                default: from-default
            """
        )
    )
    (project / "src" / "__main__.py").write_text(
        textwrap.dedent(
            """\
            import pulumi
            from engine_stub_provider import Widget

            config = pulumi.Config()
            w = Widget("w", name=config.require("widgetName"), token=config.require_secret("tok"))
            pulumi.export("name", w.name)
            pulumi.export("project", pulumi.get_project())
            pulumi.export("token", w.token)
            """
        )
    )
    stack = make_stack(project, config={"widgets:tok": Secret("folder-secret")})
    result = stack.up()
    assert result.outputs == {
        "name": "from-default",
        "project": "widgets",
        "token": Secret("folder-secret"),
    }
    assert result.steps[0].urn == "urn:pulumi:dev::widgets::pulumi-python:dynamic/stub:Widget::w"


def test_config_keys_must_be_namespaced(make_stack: Callable[..., Stack]) -> None:
    with pytest.raises(EngineError, match="'apiKey' has no namespace: write '<project>:apiKey'"):
        make_stack(two_widgets({}), config={"apiKey": "x"})


def test_a_failing_program_is_an_engine_error(make_stack: Callable[..., Stack]) -> None:
    def program() -> None:
        raise RuntimeError("typo in the program")

    with pytest.raises(EngineError, match="the program failed: RuntimeError: typo in the program"):
        make_stack(program).preview()


def test_an_interrupted_replacement_deletes_the_old_resource_next_time(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    spec: dict[str, Any] = {"with_b": False}
    stack = make_stack(two_widgets(spec))
    old_id = stack.up().step("a").id
    spec["kind"] = "fancy"
    (store / "fail-deletes").touch()
    with pytest.raises(EngineError) as caught:
        stack.up()
    assert caught.value.step == "delete" and "HTTP 503" in str(caught.value)
    (new,) = stack.resources()
    assert new.id != old_id and new.inputs["kind"] == "fancy"
    assert (store / f"{old_id}.json").exists()

    (store / "fail-deletes").unlink()
    calls(store)
    retried = stack.up()
    assert [(s.op, s.id) for s in retried.steps] == [("same", new.id), ("delete-replaced", old_id)]
    assert not (store / f"{old_id}.json").exists()


def test_only_dynamic_resources_can_be_deployed(make_stack: Callable[..., Stack]) -> None:
    def program() -> None:
        pulumi.CustomResource("aws:s3/bucket:Bucket", "logs", {})

    with pytest.raises(EngineError, match="only Python dynamic resources") as caught:
        make_stack(program).preview()
    assert caught.value.urn is not None and caught.value.urn.endswith("::logs")


def test_a_folder_without_pulumi_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"no Pulumi\.yaml in"):
        Stack(tmp_path, state_file=tmp_path / "state.json")


def test_a_program_error_never_shows_a_secret_config_value(
    make_stack: Callable[..., Stack],
) -> None:
    def program() -> None:
        token = pulumi.Config("stub").require("token")
        raise ValueError(f"cannot use {token}")

    with pytest.raises(EngineError) as caught:
        make_stack(program).preview()
    assert str(caught.value) == "the program failed: ValueError: cannot use [secret]"
    assert caught.value.__cause__ is None


def test_preview_hands_checked_inputs_to_policy_packs(
    make_stack: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from sigsentry_pulumi.testing import policy

    seen: dict[str, Any] = {}

    def fake_run_policy_packs(packs: Any, resources: Any, **options: Any) -> list[Any]:
        seen.update(packs=list(packs), resources=list(resources), **options)
        level = "mandatory" if options["config"].get("strict") else "advisory"
        return [policy.PolicyViolation("pack", "no-beta", level, "beta is banned", None)]

    monkeypatch.setattr(policy, "run_policy_packs", fake_run_policy_packs)
    stack = make_stack(two_widgets({}))
    result = stack.preview(policy_packs=[tmp_path / "pack"], policy_config={"strict": False})
    assert [v.policy for v in result.policy_violations] == ["no-beta"]
    assert seen["packs"] == [tmp_path / "pack"]
    assert (seen["project"], seen["stack"]) == ("project", "dev")
    by_name = {resource.name: resource for resource in seen["resources"]}
    assert by_name["a"].type == "pulumi-python:dynamic/stub:Widget"
    assert "__provider" not in by_name["a"].properties
    assert by_name["a"].properties["token"] == Secret(WIDGET_TOKEN)
    assert isinstance(by_name["b"].properties["ref"], Unknown)  # sent as the unknown sentinel

    with pytest.raises(policy.PolicyViolationError) as caught:
        stack.preview(policy_packs=[tmp_path / "pack"], policy_config={"strict": True})
    assert caught.value.violations[0].enforcement_level == "mandatory"


def test_the_callers_event_loop_is_left_alone(make_stack: Callable[..., Stack]) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        make_stack(two_widgets({"with_b": False})).preview()
        assert asyncio.get_event_loop() is loop and not loop.is_closed()
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_a_diff_without_changes_is_same_whatever_replaces_says(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    spec = {"kind": "plain"}

    def program() -> None:
        Widget("w", name="n", kind=spec["kind"], quiet=True)

    stack = make_stack(program)
    w_id = stack.up().step("w").id
    calls(store)
    spec["kind"] = "fancy"  # the provider names `kind` in replaces, but says changes=False
    assert stack.preview().counts() == {"same": 1}
    done = stack.up()
    assert done.counts() == {"same": 1} and done.step("w").id == w_id
    assert not {"create", "update", "delete"} & set(ops(store))
    (resource,) = stack.resources()
    assert resource.outputs["kind"] == "plain"


def test_same_keeps_the_old_outputs_with_their_old_provider(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    spec = {"tag": "v1"}

    def program() -> None:
        Widget("w", name="n", provider_tag=spec["tag"])

    stack = make_stack(program)
    stack.up()
    (before,) = stack.resources()
    spec["tag"] = (
        "v2"  # a new pickled provider, the same inputs: the provider's diff says no change
    )
    assert stack.up().counts() == {"same": 1}
    (after,) = stack.resources()
    assert after.outputs == before.outputs
    assert after.outputs["__provider"] == before.inputs["__provider"]
    assert after.inputs["__provider"] != before.inputs["__provider"]


def test_refresh_shows_drift_only_where_the_providers_diff_sees_it(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    stack = make_stack(two_widgets({"with_b": False}))
    a_id = stack.up().step("a").id
    record = store / f"{a_id}.json"
    # a field the provider's diff does not compare changes outside Pulumi
    record.write_text(json.dumps({**json.loads(record.read_text()), "colour": "teal"}))
    calls(store)
    refreshed = stack.refresh()
    assert ops(store) == ["read", "diff"]
    assert (refreshed.step("a").op, refreshed.step("a").changed_keys) == ("same", ())
    (resource,) = stack.resources()
    assert resource.outputs["colour"] == "teal"  # state still takes what Read returned
    assert resource.outputs["token"] == Secret(WIDGET_TOKEN)  # Read's outputs re-marked secret


def test_the_state_file_holds_no_plaintext_secret_after_any_operation(
    make_stack: Callable[..., Stack], store: Path, tmp_path: Path
) -> None:
    spec: dict[str, Any] = {}
    stack = make_stack(two_widgets(spec))
    state_file = tmp_path / "state.json"
    rejected = "reject-me"  # the stub provider fails a write carrying this token

    def assert_clean() -> None:
        text = state_file.read_text()
        for secret in (WIDGET_TOKEN, CONFIG_TOKEN, rejected):
            assert secret not in text
            assert secret not in stack.plugin_output

    stack.up()
    assert_clean()
    spec["token"] = rejected
    with pytest.raises(EngineError) as failed_update:
        stack.up()
    assert failed_update.value.step == "update"
    assert_clean()
    assert stack.resources()[0].outputs["token"] == Secret(WIDGET_TOKEN)
    stack.refresh()
    assert_clean()
    (store / "fail-deletes").touch()
    with pytest.raises(EngineError) as failed_destroy:
        stack.destroy()
    assert failed_destroy.value.step == "delete"
    assert_clean()
    (store / "fail-deletes").unlink()
    stack.destroy()
    assert_clean()


def test_the_import_option_is_refused_before_any_provider_call(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    # The dynamic plugin would fail with KeyError '__provider': say what to do instead.
    def program() -> None:
        Widget("w", name="n", opts=pulumi.ResourceOptions(import_="existing-widget"))

    with pytest.raises(EngineError, match="the `import_` option is not supported") as caught:
        make_stack(program).preview()
    assert caught.value.step == "register"
    assert ops(store) == []


def test_a_replacement_whose_create_fails_leaves_the_old_resource_in_place(
    make_stack: Callable[..., Stack], store: Path
) -> None:
    spec: dict[str, Any] = {"with_b": False}
    stack = make_stack(two_widgets(spec))
    old_id = stack.up().step("a").id
    spec.update(kind="fancy", token="reject-me")  # the replacement's create fails
    with pytest.raises(EngineError) as caught:
        stack.up()
    assert caught.value.step == "create"
    (kept,) = stack.resources()
    assert kept.id == old_id
    # The program goes back to what it was: nothing to do, and the old widget is not deleted.
    spec.update(kind="plain", token=WIDGET_TOKEN)
    calls(store)
    again = stack.up()
    assert [(s.op, s.id) for s in again.steps] == [("same", old_id)]
    assert "delete" not in ops(store)
    assert (store / f"{old_id}.json").exists()
