"""The engine notes' "Secrets" claims, checked against the real CLI and its state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cli.engine_notes_support import FAKE_CREDENTIAL, Bench, is_secret
from cli.recording_provider import Recorded, RecordingProvider
from cli.stacks import assert_no_plaintext
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow


@pytest.fixture
def bench(pulumi_env: PulumiEnvironment) -> Bench:
    return Bench(pulumi_env)


def secret_inputs_program(**options: Any) -> Callable[[], None]:
    def program() -> None:
        import pulumi

        token = pulumi.Config().require_secret("secretA")
        Recorded(
            "res",
            {
                "token": token,
                "label": "plain",
                "nested": {"inner": token, "open": "visible"},
                "listed": [token, "visible"],
            },
            RecordingProvider(extra_outputs={"tokenCopy": FAKE_CREDENTIAL, "other": "x"}),
            pulumi.ResourceOptions(**options),
        )

    return program


def test_the_provider_sees_plaintext_and_the_state_re_marks_secret_inputs(bench: Bench) -> None:
    stack = bench.stack(secret_inputs_program())
    result = stack.up()
    (check,) = bench.calls("check")
    (create,) = bench.calls("create")
    assert check["news"]["token"] == create["props"]["token"] == FAKE_CREDENTIAL
    assert create["props"]["nested"]["inner"] == FAKE_CREDENTIAL
    assert create["props"]["listed"][0] == FAKE_CREDENTIAL

    state = bench.resource(stack, "res")
    inputs, outputs = state["inputs"], state["outputs"]
    assert is_secret(inputs["token"]) and is_secret(outputs["token"])
    assert not is_secret(outputs["label"])
    # an object holding a secret: only the secret key inside it is marked
    assert is_secret(outputs["nested"]["inner"]) and outputs["nested"]["open"] == "visible"
    # an array holding a secret: the whole array is marked
    assert is_secret(outputs["listed"])
    # an output that merely holds the same text under another name stays plain
    assert outputs["tokenCopy"] == FAKE_CREDENTIAL
    assert FAKE_CREDENTIAL not in result.stdout


def test_additional_secret_outputs_marks_outputs_by_name(bench: Bench) -> None:
    program = secret_inputs_program(additional_secret_outputs=["tokenCopy"])
    stack = bench.stack(program)
    stack.up()
    state = bench.resource(stack, "res")
    assert is_secret(state["outputs"]["tokenCopy"])
    assert not is_secret(state["outputs"]["other"])
    assert_no_plaintext({"state": bench.cli(stack, "stack", "export").stdout}, FAKE_CREDENTIAL)


def test_a_provider_cannot_return_output_secret(bench: Bench) -> None:
    from pulumi import automation as auto

    def program() -> None:
        Recorded("res", {"label": "one"}, RecordingProvider(wrap_secret=True))

    stack = bench.stack(program)
    with pytest.raises(auto.CommandError) as failure:
        stack.up()
    assert "There is no current event loop" in str(failure.value)


def test_the_id_is_never_secret(bench: Bench) -> None:
    def program() -> None:
        import pulumi

        Recorded(
            "res",
            {"token": pulumi.Config().require_secret("secretA")},
            RecordingProvider(id_from="token"),
            pulumi.ResourceOptions(additional_secret_outputs=["id"]),
        )

    stack = bench.stack(program)
    stack.up()
    state = bench.resource(stack, "res")
    assert is_secret(state["outputs"]["token"])
    assert state["id"] == FAKE_CREDENTIAL  # stored in plain text, whatever the options say


def test_update_and_refresh_keep_the_secret_marks(bench: Bench) -> None:
    def program() -> None:
        import pulumi

        config = pulumi.Config()
        Recorded(
            "res",
            {"token": config.require_secret("secretA"), "label": config.get("label") or "one"},
        )

    stack = bench.stack(program)
    stack.up()
    stack.set_config("engine-notes:label", auto_value("two"))
    stack.up()
    (update,) = bench.calls("update")
    assert update["news"]["token"] == FAKE_CREDENTIAL  # plaintext again
    assert is_secret(bench.resource(stack, "res")["outputs"]["token"])
    stack.refresh()
    (read,) = bench.calls("read")
    assert read["props"]["token"] == FAKE_CREDENTIAL
    state = bench.resource(stack, "res")
    assert is_secret(state["outputs"]["token"]) and is_secret(state["inputs"]["token"])
    assert_no_plaintext({"state": bench.cli(stack, "stack", "export").stdout}, FAKE_CREDENTIAL)


def auto_value(value: str) -> Any:
    from pulumi import automation as auto

    return auto.ConfigValue(value)
