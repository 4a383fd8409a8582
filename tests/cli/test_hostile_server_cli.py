"""A server that misbehaves: a list whose cursor leads back, an answer trickled a byte at a time,
an error that echoes the request. Through the real Pulumi CLI (and `sigsentry-pulumi import`)
against the emulator's `repeatCursor`, `trickle` and `echo` faults, each command ends in
bounded time with an error that names the cause, and nothing secret shows anywhere.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from cli.stacks import (
    CREDENTIAL_B,
    StackFactory,
    assert_no_plaintext,
    backend_files,
    changes,
    log_source_states,
)
from raw_api import LOG_SOURCES, list_sources
from sigsentry_emulator.faults import REPEAT_CURSOR
from tools.fault_plans import many_sources_program
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def state_ids(pulumi_env: PulumiEnvironment, stack: Any) -> set[str]:
    return {r["id"] for r in log_source_states(pulumi_env, stack)}


def test_a_refresh_whose_list_cursor_leads_back_stops_naming_the_cursor_and_request_id(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    stack = make_stack(many_sources_program(2))
    stack.up(show_secrets=False)
    before = state_ids(pulumi_env, stack)
    # Every list page points back to the first. `times` only bounds how long a walk that never
    # notices could run (it would then end, and the refresh succeed).
    emulator.set_faults(
        {"rules": [{"method": "GET", "path": LOG_SOURCES, "fault": "repeatCursor", "times": 2000}]}
    )
    mark = len(emulator.requests())
    started = time.monotonic()
    with pytest.raises(auto.CommandError) as failed:
        stack.refresh()
    assert time.monotonic() - started < 60
    message = str(failed.value)
    assert f"gave nextCursor '{REPEAT_CURSOR}' a second time [request id req_" in message
    assert "report the cursor and request id to SigSentry support" in message
    gets = [r for r in emulator.requests()[mark:] if r["method"] == "GET"]
    assert 2 <= len(gets) <= 10  # a walk or two of two pages each, not thousands
    emulator.clear_faults()
    assert state_ids(pulumi_env, stack) == before  # the failed refresh dropped nothing
    assert changes(stack.refresh()) == {"same": 3}


def test_the_import_generator_stops_on_a_list_cursor_that_leads_back(
    emulator: Any, api: httpx.Client, tmp_path: Path
) -> None:
    api.post(
        LOG_SOURCES,
        json={
            "type": "datadog",
            "name": "by-hand",
            "credentials": {"apiKey": "k" * 12, "appKey": "a" * 12},
            "sources": ["service:x"],
        },
    ).raise_for_status()
    emulator.set_faults({"rules": [{"method": "GET", "fault": "repeatCursor", "times": 2000}]})
    env = {**os.environ, "SIGSENTRY_API_KEY": emulator.api_key, "SIGSENTRY_API_URL": emulator.url}
    env.pop("SIGSENTRY_PROJECT_ID", None)
    run = subprocess.run(
        [sys.executable, "-m", "sigsentry_pulumi", "import", "--out", str(tmp_path / "out")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1
    assert f"gave nextCursor '{REPEAT_CURSOR}' a second time" in run.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_answer_trickled_a_byte_at_a_time_fails_the_up_within_sigsentry_timeout(
    make_stack: StackFactory, emulator: Any, api: httpx.Client, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    # One byte every 0.5 s: each read is well inside the 2 s timeout, the whole answer to the
    # create (some 300 bytes) would take minutes.
    emulator.set_faults(
        {
            "rules": [
                {"method": "POST", "path": LOG_SOURCES, "fault": "trickle", "delaySeconds": 0.5}
            ]
        }
    )
    stack = make_stack(
        many_sources_program(1), config={"sigsentry:timeout": "2", "sigsentry:maxRetries": "0"}
    )
    started = time.monotonic()
    with pytest.raises(auto.CommandError) as failed:
        stack.up(show_secrets=False)
    took = time.monotonic() - started
    assert took < 45, f"up took {took:.0f} s"
    message = str(failed.value)
    assert "SigSentry POST /v1/config/log-sources timed out after 1 attempt(s)" in message
    assert "the last took longer than `sigsentry:timeout` (2 s," in message
    assert "pulumi config set sigsentry:timeout 60" in message

    # The create was made, its answer never arrived whole: the next `up` replays it.
    emulator.clear_faults()
    (made,) = list_sources(api)
    assert changes(stack.up(show_secrets=False)) == {"create": 1, "same": 1}
    assert [s["id"] for s in list_sources(api)] == [made["id"]]
    assert state_ids(pulumi_env, stack) == {made["id"]}


def echoed_forms(value: str) -> list[str]:
    """`value` as an echo may show it: plain, JSON-escaped (once, twice), URL-encoded, and the
    middle of its base64 at each byte alignment, whose ends it shares with the text around it."""
    texts = [value]
    for _ in range(2):
        texts += [json.dumps(t, ensure_ascii=a)[1:-1] for t in texts for a in (True, False)]
    forms = set(texts)
    for text in texts:
        forms |= {quote(text, safe=""), quote(text), quote_plus(text)}
        for lead in range(3):
            for encode in (base64.b64encode, base64.urlsafe_b64encode):
                forms.add(encode(bytes(lead) + text.encode()).decode()[4:-4])
    return sorted(form for form in forms if len(form) >= 8)


def test_an_error_echoing_the_request_shows_no_key_or_credential_anywhere(
    make_stack: StackFactory, emulator: Any, pulumi_env: PulumiEnvironment
) -> None:
    from pulumi import automation as auto

    # non-ASCII, a quote and a backslash: httpx sends it in JSON unescaped but for those two
    credential = f'cli-é-"echo"-\\-{secrets.token_hex(8)}'
    emulator.set_faults({"rules": [{"method": "POST", "path": LOG_SOURCES, "fault": "echo"}]})
    stack = make_stack(many_sources_program(1), secrets={"secretA": credential})
    seen: list[str] = []
    with pytest.raises(auto.CommandError) as failed:
        stack.up(show_secrets=False, on_output=seen.append)
    message = str(failed.value)
    assert [r["fault"] for r in emulator.requests() if r["method"] == "POST"] == ["echo"]

    # The CLI masks the plain value of a secret config value it knows ("[secret]"), not the
    # encoded forms: the provider must scrub them all before they leave the plugin.
    texts = {"error": message, "output": "".join(seen), **backend_files(pulumi_env)}
    needles = [
        form
        for value in (emulator.api_key, credential, CREDENTIAL_B)
        for form in echoed_forms(value)
    ]
    assert_no_plaintext(texts, *needles)
    assert log_source_states(pulumi_env, stack) == []
    assert "SigSentry API error 400 VALIDATION_ERROR: request rejected (injected fault)" in message
    assert "[request id Bearer [redacted]]" in message
