"""Broken provider settings fail `pulumi preview` through the real CLI, before any request.

A missing API key, a key that cannot be sent in an HTTP header, or a `sigsentry:apiUrl` that is
not an absolute http(s) URL fails the preview with the message `up` gives, and the emulator's
request log stays empty. `sigsentry:validate=true` adds exactly one list request per deployment,
shared by every resource, that proves the key is accepted and may read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from cli.stacks import StackFactory, assert_no_plaintext
from raw_api import LOG_SOURCES

MISSING_KEY = (
    "No SigSentry API key is set. Run `pulumi config set --secret sigsentry:apiKey <key>`, or "
    "set the SIGSENTRY_API_KEY environment variable before running pulumi"
)
BAD_URL = "sigsentry:apiUrl must be an absolute http:// or https:// URL"
BAD_HEADER = "so it cannot be sent in an HTTP header"


def two_sources() -> None:
    """Two log sources, so a per-resource request would show up twice."""
    import pulumi

    from sigsentry_pulumi import LogSource

    config = pulumi.Config()
    secret = config.require_secret("secretA")
    LogSource(
        "aws",
        type="cloudwatch",
        credentials={"accessKeyId": "AKIAPREVIEW", "secretAccessKey": secret},
        sources=["/aws/lambda/a"],
    )
    LogSource(
        "dd",
        type="datadog",
        credentials={"apiKey": secret, "appKey": config.require_secret("secretB")},
        sources=["service:a"],
    )


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI (and so the provider plugin) inherits this process's environment.
    for name in ("SIGSENTRY_API_KEY", "SIGSENTRY_API_URL", "SIGSENTRY_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


PROBLEM = re.compile(
    r"error: pulumi-python:dynamic/sigsentry:LogSource resource '(?P<name>aws|dd)' "
    r"has a problem: (?P<reason>.*)$"
)


def problems(output: str) -> set[str]:
    """The reasons of the engine's check-failure diagnostics.

    The engine stops the deployment at the first resource whose check fails, so one of the two
    resources reports it (which one depends on which check answers first).
    """
    return {
        match["reason"].strip()
        for line in output.splitlines()
        if (match := PROBLEM.search(line.strip()))
    }


def failed_output(run: Callable[[], Any]) -> str:
    from pulumi import automation as auto

    with pytest.raises(auto.CommandError) as failure:
        run()
    return str(failure.value)


def set_key(stack: Any, value: str) -> None:
    from pulumi import automation as auto

    stack.set_config("sigsentry:apiKey", auto.ConfigValue(value, secret=True))


def test_a_preview_without_an_api_key_fails_naming_both_ways_to_set_it(
    make_stack: StackFactory, emulator: Any
) -> None:
    stack = make_stack(two_sources)
    stack.remove_config("sigsentry:apiKey")
    preview = failed_output(stack.preview)
    assert problems(preview) == {MISSING_KEY}, preview
    assert emulator.requests() == []
    # `up` stops at the same check with the same message, and creates nothing either
    assert problems(failed_output(stack.up)) == {MISSING_KEY}
    assert emulator.requests() == []


@pytest.mark.parametrize("url", ["127.0.0.1:8787", "ftp://127.0.0.1:8787", "http://"])
def test_a_preview_with_a_malformed_api_url_fails_without_a_request(
    make_stack: StackFactory, emulator: Any, url: str
) -> None:
    stack = make_stack(two_sources, config={"sigsentry:apiUrl": url})
    preview = failed_output(stack.preview)
    (reason,) = problems(preview)
    assert reason.startswith(BAD_URL), preview
    assert emulator.requests() == []


@pytest.mark.parametrize("flaw", ["\nX-Injected: 1", " second-word", "-ключ"])
def test_a_key_that_cannot_be_sent_in_a_header_fails_the_preview_without_showing_it(
    make_stack: StackFactory, emulator: Any, flaw: str
) -> None:
    stack = make_stack(two_sources)
    bad_key = emulator.api_key + flaw
    set_key(stack, bad_key)
    preview = failed_output(stack.preview)
    (reason,) = problems(preview)
    assert BAD_HEADER in reason and "(sigsentry:apiKey or SIGSENTRY_API_KEY)" in reason, preview
    assert_no_plaintext({"preview output": preview}, bad_key, emulator.api_key)
    assert emulator.requests() == []


def test_a_good_deployment_sends_one_list_request_only_when_validate_is_on(
    make_stack: StackFactory, emulator: Any
) -> None:
    from pulumi import automation as auto

    stack = make_stack(two_sources)
    stack.preview()
    assert emulator.requests() == []
    stack.set_config("sigsentry:validate", auto.ConfigValue("true"))
    preview = stack.preview()
    assert preview.change_summary == {"create": 3}  # the stack and both sources
    requests = emulator.requests()
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [("GET", LOG_SOURCES, 200)]
    emulator.clear_requests()
    stack.up()  # the Automation API's up runs one deployment (--skip-preview): one check
    requests = [(r["method"], r["path"]) for r in emulator.requests()]
    assert requests[0] == ("GET", LOG_SOURCES)
    # one POST per source (new sources: nothing to confirm); the two are made at once
    assert [method for method, _ in requests[1:]] == ["POST", "POST"]


@pytest.mark.parametrize(
    ("permissions", "expected"),
    [(None, "401 UNAUTHORIZED"), (("config:write",), "403 FORBIDDEN")],
)
def test_validate_fails_the_preview_on_a_rejected_key_with_one_request(
    make_stack: StackFactory,
    emulator: Any,
    permissions: tuple[str, ...] | None,
    expected: str,
) -> None:
    stack = make_stack(two_sources, config={"sigsentry:validate": "true"})
    if permissions is None:
        key = "ss_secret_not-a-real-key-0451"
    else:
        key = emulator.create_key(permissions=list(permissions)).api_key
    set_key(stack, key)
    preview = failed_output(stack.preview)
    (reason,) = problems(preview)
    assert reason.startswith("sigsentry:validate is on") and expected in reason, preview
    assert_no_plaintext({"preview output": preview}, key, emulator.api_key)
    assert [(r["method"], r["path"]) for r in emulator.requests()] == [("GET", LOG_SOURCES)]
