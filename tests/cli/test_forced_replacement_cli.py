"""Forced replacements of a LogSource whose create body does not change, through the real CLI.

`pulumi up --replace URN`, `--target-replace URN` and a switch to an `account` with the same key
and URL replace the resource with a create whose body, and so whose derived Idempotency-Key, is
the old one's: SigSentry replays the old source, and the engine then deletes "the old id", which
is the same source. Each test ends with one live source whose id is the stack's, and a preview
that sees nothing to do. A replacement that deletes first (`delete_before_replace=True`) gets a
new source. A `replace_on_changes` option is not applied by the engine to a LogSource (its
provider's diff decides), so a change of `isActive` or `verify` under it is an update. A crash
between the replacement's create and its delete is the documented limit, recovered by
`pulumi refresh` then `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cli.engine_notes_support import Bench
from cli.lifecycle_support import SOURCES, exported_log_sources
from cli.stacks import (
    CREDENTIAL_A,
    CREDENTIAL_B,
    PROJECT,
    StackFactory,
    assert_no_plaintext,
    changes,
    writes,
)
from raw_api import LOG_SOURCES, list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

KEPT = "kept log source"


def source_program(**options: Any) -> Callable[[], None]:
    """One LogSource, `forced`; config `active`, `verify`, `account`, `adoptId` set those."""

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        config = pulumi.Config()
        LogSource(
            "forced",
            type="cloudwatch",
            credentials={
                "accessKeyId": config.require_secret("secretA"),
                "secretAccessKey": config.require_secret("secretB"),
            },
            sources=SOURCES,
            is_active=config.get_bool("active"),
            verify=config.get_bool("verify"),
            account=config.get("account"),
            adopt_id=config.get("adoptId"),
            opts=pulumi.ResourceOptions(**options),
        )

    return program


def set_config(stack: Any, key: str, value: str) -> None:
    from pulumi import automation as auto

    stack.set_config(f"{PROJECT}:{key}", auto.ConfigValue(value))


def the_source(api: httpx.Client) -> dict[str, Any]:
    (live,) = list_sources(api)
    return live


def assert_converged(
    stack: Any, pulumi_env: PulumiEnvironment, api: httpx.Client, live_id: str
) -> None:
    """One live source, the one the stack records, and nothing left to do."""
    assert [s["id"] for s in list_sources(api)] == [live_id]
    assert [r["id"] for r in exported_log_sources(pulumi_env, stack)] == [live_id]
    stack.preview(expect_no_changes=True)


def the_urn(pulumi_env: PulumiEnvironment, stack: Any) -> str:
    (state,) = exported_log_sources(pulumi_env, stack)
    urn: str = state["urn"]
    return urn


def force_replacement(stack: Any, pulumi_env: PulumiEnvironment) -> list[str]:
    """`pulumi up --replace` of the one source, which the engine reports as replaced; the
    CLI's output lines."""
    seen: list[str] = []
    result = stack.up(
        replace=[the_urn(pulumi_env, stack)], show_secrets=False, on_output=seen.append
    )
    assert changes(result) == {"replace": 1, "same": 1}
    return seen


def test_up_replace_keeps_the_source_and_says_why(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack = make_stack(source_program())
    stack.up(show_secrets=False)
    before = the_source(api)
    mark = len(emulator.requests())
    seen = force_replacement(stack, pulumi_env)
    # the replayed POST and the empty PUT confirming its id, and no DELETE of that source
    assert writes(emulator, mark) == [
        ("POST", LOG_SOURCES),
        ("PUT", f"{LOG_SOURCES}/{before['id']}"),
    ]
    assert_converged(stack, pulumi_env, api, before["id"])
    output = "\n".join(seen)
    line = next(line for line in output.splitlines() if KEPT in line)
    assert f"kept log source {before['id']} (name 'forced') instead of deleting it" in line
    assert "24-hour idempotency window" in line and "delete_before_replace=True" in line
    assert_no_plaintext({"up": output}, emulator.api_key, CREDENTIAL_A, CREDENTIAL_B)


def test_target_replace_keeps_the_source(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    program = source_program()
    stack = make_stack(program)
    stack.up(show_secrets=False)
    before = the_source(api)
    mark = len(emulator.requests())
    # The Automation API has no --target-replace: the CLI runs the inline program itself.
    done = Bench(pulumi_env).cli_program(
        stack,
        program,
        "up",
        "--yes",
        "--skip-preview",
        "--target-replace",
        the_urn(pulumi_env, stack),
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 replaced" in done.stdout
    assert KEPT in done.stdout + done.stderr
    assert writes(emulator, mark) == [
        ("POST", LOG_SOURCES),
        ("PUT", f"{LOG_SOURCES}/{before['id']}"),
    ]
    assert_converged(stack, pulumi_env, api, before["id"])


@pytest.mark.parametrize(
    ("key", "value", "field"), [("active", "false", "isActive"), ("verify", "true", "verify")]
)
def test_replace_on_changes_of_a_field_the_create_does_not_send_keeps_the_source(
    make_stack: StackFactory,
    emulator: Any,
    api: httpx.Client,
    pulumi_env: PulumiEnvironment,
    key: str,
    value: str,
    field: str,
) -> None:
    # The provider's diff answers `changes` itself, so the engine does not apply the option
    # (docs/engine-notes-checked.md): the change is an update of the same source.
    stack = make_stack(source_program(replace_on_changes=[field]))
    stack.up(show_secrets=False)
    before = the_source(api)
    set_config(stack, key, value)
    mark = len(emulator.requests())
    result = stack.up(show_secrets=False)
    assert changes(result) == {"update": 1, "same": 1}
    assert [m for m, _ in writes(emulator, mark)] in (["PUT"], ["PUT", "POST"])
    assert_converged(stack, pulumi_env, api, before["id"])


def test_a_switch_to_an_account_with_the_same_key_and_url_keeps_the_source(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack = make_stack(
        source_program(),
        config={"tenantb:apiUrl": emulator.url},
        secrets={"tenantb:apiKey": emulator.api_key},
    )
    stack.up(show_secrets=False)
    before = the_source(api)
    set_config(stack, "account", "tenantb")
    seen: list[str] = []
    result = stack.up(show_secrets=False, on_output=seen.append)
    assert changes(result) == {"replace": 1, "same": 1}
    assert KEPT in "\n".join(seen)
    assert_converged(stack, pulumi_env, api, before["id"])
    (state,) = exported_log_sources(pulumi_env, stack)
    assert state["inputs"]["account"] == "tenantb"


def test_up_replace_of_an_adopting_source_keeps_the_source(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    # The replacement's create adopts the very source the engine then deletes as the old one.
    made = api.post(
        LOG_SOURCES,
        json={
            "type": "cloudwatch",
            "name": "by-hand",
            "credentials": {"accessKeyId": "by-hand-id", "secretAccessKey": "by-hand-secret"},
            "sources": ["old"],
        },
    )
    made.raise_for_status()
    adopted = made.json()["data"]["id"]
    stack = make_stack(source_program())
    set_config(stack, "adoptId", adopted)
    stack.up(show_secrets=False)
    mark = len(emulator.requests())
    seen = force_replacement(stack, pulumi_env)
    assert "DELETE" not in [method for method, _ in writes(emulator, mark)]
    assert f"kept log source {adopted} (name 'forced')" in "\n".join(seen)
    assert "adopted it again" in "\n".join(seen)
    assert_converged(stack, pulumi_env, api, adopted)


def test_delete_before_replace_gets_a_new_source(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack = make_stack(source_program(delete_before_replace=True))
    stack.up(show_secrets=False)
    before = the_source(api)
    mark = len(emulator.requests())
    seen = force_replacement(stack, pulumi_env)
    # deleted first, so the create's replay finds it gone and makes a new one
    after = the_source(api)
    gone = f"{LOG_SOURCES}/{before['id']}"
    assert [w for w in writes(emulator, mark) if w[0] != "POST"] == [
        ("DELETE", gone),
        ("PUT", gone),  # the replay's id, asked twice before its 404 counts
        ("PUT", gone),
    ]  # the create under the next key is a new source: nothing to confirm
    assert after["id"] != before["id"]
    assert KEPT not in "\n".join(seen)
    assert_converged(stack, pulumi_env, api, after["id"])


def test_a_failed_verify_in_a_forced_replacement_keeps_the_live_source(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    stack = make_stack(source_program())
    set_config(stack, "verify", "true")
    stack.up(show_secrets=False)
    before = the_source(api)
    # the credential test fails from now on (SigSentry's side changed, not the program)
    emulator.set_faults(
        {"rules": [{"method": "POST", "path": f"{LOG_SOURCES}/*/test", "sequence": ["500"] * 20}]}
    )
    stack.set_config("sigsentry:maxRetries", auto.ConfigValue("0"))
    with pytest.raises(auto.CommandError):
        stack.up(replace=[the_urn(pulumi_env, stack)], show_secrets=False)
    emulator.clear_faults()
    assert_converged(stack, pulumi_env, api, before["id"])


def test_a_crash_between_the_replacements_create_and_delete_is_recovered_by_refresh_then_up(
    pulumi_env: PulumiEnvironment, emulator: Any, api: httpx.Client
) -> None:
    """The limit docs/provider.md states: the next `up` (a new process) runs the pending
    delete of the old entry, which names the same source, and reports success; `pulumi refresh`
    then `pulumi up` bring the source back."""
    from pulumi import automation as auto

    from cli import engine_notes_driver
    from cli.interrupted_up import killed_mid_create, unlock

    bench = Bench(pulumi_env)
    stack = bench.stack(
        engine_notes_driver.log_source_program,
        config={"sigsentry:apiUrl": emulator.url, "engine-notes:slowSibling": "false"},
        secrets={"sigsentry:apiKey": emulator.api_key},
    )
    stack.up()
    first = the_source(api)
    urn = bench.resource(stack, "interrupted")["urn"]

    def replaced_not_deleted() -> bool:
        """The checkpoint holds the replacement and the old entry marked for deletion; the
        slow sibling keeps the engine from reaching the delete."""
        for path in (pulumi_env.state / ".pulumi" / "stacks").rglob("*.json"):
            text = path.read_text()
            if text.count(f'"urn":"{urn}"') >= 2 and '"delete":true' in text:
                return True
        return False

    stack.set_config("engine-notes:slowSibling", auto.ConfigValue("true"))
    with killed_mid_create(bench, stack, "log-source", ready=replaced_not_deleted, replace=urn):
        pass
    unlock(bench, stack)
    assert [s["id"] for s in list_sources(api)] == [first["id"]]

    stack.set_config("engine-notes:slowSibling", auto.ConfigValue("false"))
    stack.up()  # reports success ...
    assert list_sources(api) == []  # ... while its pending delete removed the source
    assert [r["id"] for r in bench.export(stack)["resources"] if r["urn"] == urn] == [first["id"]]

    stack.refresh()
    stack.up()
    (again,) = list_sources(api)
    assert [r["id"] for r in bench.export(stack)["resources"] if r["urn"] == urn] == [again["id"]]
    stack.preview(expect_no_changes=True)
