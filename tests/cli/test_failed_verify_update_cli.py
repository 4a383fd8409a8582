"""An update with `verify=True` whose credential test fails, through the real CLI.

The update's PUT has already given SigSentry the new credentials when the test call fails, and
the failed update leaves the stack with the old ones. The provider puts the old values back; when
that fails too, the next `up` with `verify=True` sends the program's credentials again. Either
way the stack and SigSentry end up holding the same credentials, which the tests read through
the emulator's own test call (a credential `invalid` fails it, any other passes).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cli.lifecycle_support import exported_log_sources, log_source_program
from cli.stacks import (
    CREDENTIAL_A,
    CREDENTIAL_B,
    PROJECT,
    StackFactory,
    assert_no_plaintext,
    backend_files,
    changes,
)
from raw_api import LOG_SOURCES, list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

BAD = "invalid"  # the emulator's test call rejects this credential value


def set_config(stack: Any, key: str, value: str, *, secret: bool = False) -> None:
    from pulumi import automation as auto

    stack.set_config(f"{PROJECT}:{key}", auto.ConfigValue(value, secret=secret))


def credentials_pass(api: httpx.Client, source_id: str) -> bool:
    """What SigSentry's test call says of the credentials it holds for `source_id`."""
    response = api.post(f"{LOG_SOURCES}/{source_id}/test")
    response.raise_for_status()
    ok: bool = response.json()["data"]["ok"]
    return ok


def deployed(make_stack: StackFactory, api: httpx.Client, **config: str) -> tuple[Any, str]:
    stack = make_stack(log_source_program(), config=config or None)
    assert changes(stack.up(show_secrets=False)) == {"create": 2}
    (source,) = list_sources(api)
    assert credentials_pass(api, source["id"])
    return stack, str(source["id"])


def fail_with_bad_credentials(stack: Any) -> str:
    from pulumi import automation as auto

    set_config(stack, "verify", "true")
    set_config(stack, "secretA", BAD, secret=True)
    with pytest.raises(auto.CommandError) as failed:
        stack.up(show_secrets=False)
    return str(failed.value)


def assert_agree(stack: Any, pulumi_env: PulumiEnvironment, api: httpx.Client, id_: str) -> None:
    assert [s["id"] for s in list_sources(api)] == [id_]
    assert [r["id"] for r in exported_log_sources(pulumi_env, stack)] == [id_]
    stack.preview(expect_no_changes=True)


def test_a_fixed_program_converges_after_a_failed_verified_update(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack, source_id = deployed(make_stack, api)
    message = fail_with_bad_credentials(stack)
    assert f"could not verify log source {source_id}" in message
    assert "Its previous credentials were put back, as the stack records them" in message
    assert credentials_pass(api, source_id)  # the old credentials, not the bad ones

    set_config(stack, "secretA", CREDENTIAL_A, secret=True)  # the program is fixed
    fixed = stack.up(show_secrets=False)
    assert changes(fixed) == {"update": 1, "same": 1}
    assert credentials_pass(api, source_id)
    assert_agree(stack, pulumi_env, api, source_id)
    assert_no_plaintext(
        {"error": message, "fixed": fixed.stdout + fixed.stderr, **backend_files(pulumi_env)},
        emulator.api_key,
        CREDENTIAL_A,
        CREDENTIAL_B,
    )


def test_turning_verify_off_after_a_failure_leaves_sigsentry_with_the_stacks_credentials(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack, source_id = deployed(make_stack, api)
    fail_with_bad_credentials(stack)
    # back to the program the stack records: nothing to do, and SigSentry holds those values
    set_config(stack, "verify", "false")
    set_config(stack, "secretA", CREDENTIAL_A, secret=True)
    assert changes(stack.up(show_secrets=False)) == {"same": 2}
    assert credentials_pass(api, source_id)
    assert_agree(stack, pulumi_env, api, source_id)


def test_a_failed_restore_says_so_and_the_next_up_converges(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack, source_id = deployed(make_stack, api, **{"sigsentry:maxRetries": "0"})
    # the update's PUT goes through; the PUT putting the old values back fails
    emulator.set_faults(
        {"rules": [{"method": "PUT", "path": f"{LOG_SOURCES}/*", "sequence": ["ok", "500"]}]}
    )
    message = fail_with_bad_credentials(stack)
    emulator.clear_faults()
    assert f"could not verify log source {source_id} after updating it" in message
    assert "SigSentry holds the new, unverified values" in message
    assert "run `pulumi up` with verify=True" in message
    assert not credentials_pass(api, source_id)  # as the message says

    set_config(stack, "secretA", CREDENTIAL_A, secret=True)
    assert changes(stack.up(show_secrets=False)) == {"update": 1, "same": 1}
    assert credentials_pass(api, source_id)
    assert_agree(stack, pulumi_env, api, source_id)
    assert_no_plaintext({"error": message}, emulator.api_key, CREDENTIAL_A, CREDENTIAL_B)
