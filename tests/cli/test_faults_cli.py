"""Writes that survive lost answers, injected faults and leaks, through the real Pulumi CLI.

Each test runs Automation API stacks (the real engine and the real `python -m pulumi.dynamic`
plugin) against the emulator with faults injected (sigsentry_emulator/faults.py), and checks
what a user would notice: the command's exit, what the CLI printed, what SigSentry holds (no
duplicate, no orphan) and what the state holds. The large runs (150 sources, a killed `up`, ten
concurrent stacks) are in benchmarks/faults.py.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.stacks import (
    CREDENTIAL_A,
    StackFactory,
    assert_no_plaintext,
    backend_files,
    changes,
    log_source_states,
)
from raw_api import LOG_SOURCES, list_sources
from tools.fault_plans import (
    duplicates,
    fault_spec,
    faults_injected,
    many_sources_program,
    orphans,
)
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

# The mark `pulumi stack export` leaves on a value encrypted in state.
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def output_of(result: Any) -> str:
    return str(result.stdout) + str(result.stderr)


def state_ids(pulumi_env: PulumiEnvironment, stack: Any) -> set[str]:
    return {r["id"] for r in log_source_states(pulumi_env, stack)}


def posts(emulator: Any, since: int = 0) -> list[dict[str, Any]]:
    return [
        r for r in emulator.requests()[since:] if r["method"] == "POST" and r["path"] == LOG_SOURCES
    ]


def test_a_retry_prints_one_line_the_user_sees_in_the_cli_output(
    make_stack: StackFactory, emulator: Any, pulumi_env: PulumiEnvironment
) -> None:
    emulator.set_faults(
        {"rules": [{"method": "POST", "path": LOG_SOURCES, "sequence": ["503"], "retryAfter": 0}]}
    )
    stack = make_stack(many_sources_program(1))
    seen: list[str] = []
    up = stack.up(show_secrets=False, on_output=seen.append)
    assert changes(up) == {"create": 2}
    # The engine shows the plugin's stderr as a message of the stack: live, then once more in
    # the Diagnostics section.
    text = "\n".join(seen)
    live, diagnostics = text.split("Diagnostics:", 1)
    announced = "SigSentry answered 503 to POST log-sources (name 'src-000'); retrying in"
    for part in (live, diagnostics):
        (line,) = [line for line in part.splitlines() if announced in line]
        assert re.search(r"retrying in \d+\.\d s \(attempt 2 of 10\)$", line)
    assert [r["status"] for r in posts(emulator)] == [503, 201]
    assert_no_plaintext({"up": output_of(up)}, emulator.api_key, CREDENTIAL_A)


def test_a_create_whose_answer_was_lost_is_replayed_by_the_next_up_not_made_twice(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    # No retries, and SigSentry commits the create but the answer never arrives: `up` fails
    # and Pulumi does not learn of the source.
    emulator.set_faults({"rules": [{"method": "POST", "path": LOG_SOURCES, "sequence": ["drop"]}]})
    stack = make_stack(many_sources_program(1), config={"sigsentry:maxRetries": "0"})
    with pytest.raises(auto.CommandError) as failed:
        stack.up(show_secrets=False)
    assert "got no answer after 1 attempt(s)" in str(failed.value)
    (committed,) = list_sources(api)
    assert state_ids(pulumi_env, stack) == set()

    up = stack.up(show_secrets=False)
    assert changes(up) == {"create": 1, "same": 1}
    assert [s["id"] for s in list_sources(api)] == [committed["id"]]  # replayed, not made again
    assert state_ids(pulumi_env, stack) == {committed["id"]}
    assert [r["replayed"] for r in posts(emulator)] == [False, True]


def test_destroy_then_up_with_the_same_program_creates_working_sources(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    stack = make_stack(many_sources_program(3))
    first = stack.up(show_secrets=False)
    assert changes(first) == {"create": 4}
    old_ids = {s["id"] for s in list_sources(api)}
    stack.destroy()
    assert list_sources(api) == []

    mark = len(emulator.requests())
    again = stack.up(show_secrets=False)  # seconds later: well inside the 24 h window
    assert changes(again) == {"create": 4}
    live = list_sources(api)
    assert len(live) == 3 and not {s["id"] for s in live} & old_ids
    assert state_ids(pulumi_env, stack) == {s["id"] for s in live}
    # each create replayed the deleted source first, saw it gone, and created under a new key
    assert sorted(r["replayed"] for r in posts(emulator, mark)) == [False] * 3 + [True] * 3

    stack.set_config("sigsentry-cli-test:suffix", auto_value("-renamed"))
    renamed = stack.up(show_secrets=False)  # the new sources work: an update reaches them
    assert changes(renamed) == {"update": 3, "same": 1}
    assert sorted(s["name"] for s in list_sources(api)) == [
        "src-000-renamed",
        "src-001-renamed",
        "src-002-renamed",
    ]


def auto_value(value: str) -> Any:
    from pulumi import automation as auto

    return auto.ConfigValue(value)


def test_a_lifecycle_at_30_percent_faults_completes_with_no_duplicate_and_no_orphan(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    count = 20
    stack = make_stack(many_sources_program(count))
    emulator.set_faults(fault_spec(0.3, seed=11))
    started = time.monotonic()
    seen: list[str] = []

    up = stack.up(show_secrets=False, on_output=seen.append)
    assert changes(up) == {"create": count + 1}
    stack.set_config("sigsentry-cli-test:suffix", auto_value("-renamed"))
    renamed = stack.up(show_secrets=False, on_output=seen.append)
    assert changes(renamed) == {"update": count, "same": 1}
    stack.refresh(on_output=seen.append)

    emulator.clear_faults()
    live = list_sources(api)
    assert len(live) == count and duplicates(live) == 0
    assert orphans(live, state_ids(pulumi_env, stack)) == 0
    assert state_ids(pulumi_env, stack) == {s["id"] for s in live}
    assert all(s["name"].endswith("-renamed") for s in live)

    emulator.set_faults(fault_spec(0.3, seed=12))
    stack.destroy(on_output=seen.append)
    emulator.clear_faults()
    assert list_sources(api) == []
    assert time.monotonic() - started < 240

    injected = faults_injected(emulator.requests())
    assert sum(injected.values()) >= 20 and set(injected) == {"429", "500", "503", "drop"}
    progress = [line for line in seen if "retrying in" in line or "waiting" in line]
    assert len(progress) >= sum(injected.values()) // 2  # the retries were shown
    assert_no_plaintext({"output": "".join(seen)}, emulator.api_key, CREDENTIAL_A)


def test_no_secret_in_any_artefact_for_a_key_with_a_newline_or_one_letter_credentials(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    # An API key with a line break in it is refused before any request, without being echoed.
    head, tail = "ss_secret_" + secrets.token_hex(6), "Injected-" + secrets.token_hex(6)
    broken_key = f"{head}\n{tail}"
    broken = make_stack(many_sources_program(1), stack_name="broken-key")
    broken.set_config("sigsentry:apiKey", auto.ConfigValue(broken_key, secret=True))
    with pytest.raises(auto.CommandError) as refused:
        broken.up(show_secrets=False)
    refusal = str(refused.value)
    assert "cannot be sent in an HTTP header" in refusal or "HTTP header cannot" in refusal
    assert emulator.requests() == []

    # One-letter credentials: created and kept in state (as ciphertext only), then a quota error
    # whose server text holds those letters in words. The message stays readable (no
    # "[redacted]" inside a word) and shows neither letter on its own.
    emulator.set_quota(1)
    letters = make_stack(one_letter_datadog_program(), stack_name="letters")
    created = letters.up(show_secrets=False)
    assert changes(created) == {"create": 2}
    (state,) = log_source_states(pulumi_env, letters)
    for where in ("inputs", "outputs"):
        assert SECRET_SIG in state[where]["credentials"]  # encrypted, not the letters
    exported = pulumi_env.run(
        "stack", "export", "--stack", "letters", cwd=Path(letters.workspace.work_dir)
    ).stdout
    assert '"q"' not in exported and '"z"' not in exported

    letters.set_config("sigsentry-cli-test:letterCount", auto.ConfigValue("2"))
    with pytest.raises(auto.CommandError) as quota:
        letters.up(show_secrets=False)
    message = str(quota.value)
    assert "sigsentry_pulumi.QuotaExceededError: SigSentry API error 403 QUOTA_EXCEEDED" in message
    assert "has reached its quota of 1 log sources" in message  # the server's words, whole
    assert "sigsentry_pulumi._errors" not in message
    assert not re.search(r"\w\[redacted\]|\[redacted\]\w", message)
    assert message.count("raise the plan") == 1  # the hint, said once

    texts = {
        "refused": refusal,
        "created": output_of(created),
        "quota": message,
        **backend_files(pulumi_env),
    }
    escaped_forms = [broken_key, repr(broken_key)[1:-1], head, tail]
    assert_no_plaintext(texts, *escaped_forms, emulator.api_key)
    for where in ("refused", "created", "quota"):
        assert not re.search(r"(?<!\w)[qz](?!\w)", texts[where]), where


def one_letter_datadog_program() -> Callable[[], None]:
    """`letterCount` (default 1) Datadog sources whose credentials are one letter each."""

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        for index in range(pulumi.Config().get_int("letterCount") or 1):
            LogSource(
                f"letters-{index}",
                type="datadog",
                credentials={"apiKey": "q", "appKey": "z"},
                sources=["a"],
            )

    return program


def test_a_timeout_names_sigsentry_timeout_and_a_wrong_api_url_names_sigsentry_api_url(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    emulator.set_faults({"rules": [{"fault": "slow", "delaySeconds": 3}]})
    slow = make_stack(
        many_sources_program(1),
        stack_name="slow",
        config={"sigsentry:timeout": "0.5", "sigsentry:maxRetries": "1"},
    )
    with pytest.raises(auto.CommandError) as timed_out:
        slow.up(show_secrets=False)
    message = str(timed_out.value)
    assert "timed out after 2 attempt(s): the last took longer than `sigsentry:timeout`" in message
    assert "(0.5 s, from connecting to the last byte of the answer)" in message
    emulator.clear_faults()
    # once SigSentry answers in time, the same up goes through, with one source
    assert changes(slow.up(show_secrets=False)) == {"create": 1, "same": 1}
    (made,) = list_sources(api)
    assert state_ids(pulumi_env, slow) == {made["id"]}
    slow.destroy()

    wrong = make_stack(
        many_sources_program(1),
        stack_name="wrong-url",
        config={"sigsentry:apiUrl": emulator.url + "/v1"},
    )
    with pytest.raises(auto.CommandError) as not_a_route:
        wrong.up(show_secrets=False)
    message = str(not_a_route.value)
    assert "404 NOT_FOUND" in message and "check `sigsentry:apiUrl`" in message
    assert "does not exist" not in message


RATE = ("--rate-limit", "5")


def test_stacks_deployed_at_once_on_one_rate_limited_key_all_succeed() -> None:
    """benchmarks/faults.py `concurrent`, small: 4 stacks of 5 sources, each `up` and `destroy`
    in its own process at the same moment, on a key allowed 5 requests per second."""
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "faults.py"
    run = subprocess.run(
        [sys.executable, str(script), "concurrent", *("--stacks", "4", "--count", "5"), *RATE],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    figures = json.loads(run.stdout)
    assert figures["up exits"] == [0] * 4 and figures["destroy exits"] == [0] * 4
    assert figures["429 answered"] > 0  # the key's limit was met ...
    assert figures["429 errors shown to users"] == 0  # ... and every 429 was waited out
    assert figures["wait lines shown"] == figures["429 answered"]
    assert figures["sources"] == 20 and figures["every stack holds its count"]
    assert figures["orphans"] == 0 and figures["state ids = SigSentry's"]
    assert figures["sources after destroy"] == 0
