"""Secrets through the real Pulumi CLI: the API key and every credential stay out of what the CLI
prints, the engine events, `pulumi stack export`, and every file of the backend and PULUMI_HOME,
in plain text and in base64 or hex; `pulumi stack output --show-secrets` alone reveals them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.program_config import all_encodings, fresh, quickstart_config
from cli.stacks import (
    CREDENTIAL_A,
    CREDENTIAL_B,
    backend_files,
    changes,
    example_program,
    project_name,
    writes,
)
from raw_api import list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

QUICKSTART = project_name("quickstart")


def event_text(events: Iterable[Any]) -> str:
    """The Automation API's engine events as JSON text (every field of every nested object)."""

    def fields(value: Any) -> Any:
        return vars(value) if hasattr(value, "__dict__") else str(value)

    return "\n".join(json.dumps(event, default=fields) for event in events)


def leaked(haystacks: Mapping[str, str], secrets: Iterable[str]) -> list[str]:
    """Where any secret appears, plain or encoded; names the place and the form, not the value."""
    forms = all_encodings(secrets)
    return [
        f"{where} (form #{index})"
        for where, text in haystacks.items()
        for index, form in enumerate(forms)
        if form in text
    ]


def stack_cli(pulumi_env: PulumiEnvironment, stack: Any, *args: str, check: bool = True) -> Any:
    return pulumi_env.run(
        *args, "--stack", stack.name, cwd=Path(stack.workspace.work_dir), check=check, timeout=120
    )


def test_secrets_stay_out_of_output_state_and_files_through_a_whole_lifecycle(
    make_stack: Callable[..., Any],
    emulator: Any,
    api: httpx.Client,
    pulumi_env: PulumiEnvironment,
) -> None:
    from pulumi import automation as auto

    config = quickstart_config()
    stack = make_stack(example_program("quickstart"), project=QUICKSTART, secrets=config.secret)
    events: list[Any] = []
    seen: dict[str, str] = {}

    preview = stack.preview(on_event=events.append)
    seen["preview"] = preview.stdout + preview.stderr
    up = stack.up(show_secrets=False, on_event=events.append)
    seen["up"] = up.stdout + up.stderr

    (source,) = list_sources(api)
    api.put(f"/v1/config/log-sources/{source['id']}", json={"name": "renamed-outside"})
    refresh = stack.refresh(show_secrets=False, on_event=events.append)
    assert changes(refresh).get("update") == 1
    seen["refresh"] = refresh.stdout + refresh.stderr

    # Rotate one credential: an update that sends the new value to the API.
    rotated = fresh("aws-rotated")
    stack.set_config(f"{QUICKSTART}:awsSecretAccessKey", auto.ConfigValue(rotated, secret=True))
    mark = len(emulator.requests())
    update = stack.up(show_secrets=False, on_event=events.append)
    assert changes(update) == {"update": 1, "same": 1}
    assert writes(emulator, mark) == [("PUT", f"/v1/config/log-sources/{source['id']}")]
    seen["update"] = update.stdout + update.stderr

    secrets = [*config.secret_values(), rotated, emulator.api_key, CREDENTIAL_A, CREDENTIAL_B]
    exported = stack_cli(pulumi_env, stack, "stack", "export")
    state = json.loads(exported.stdout)
    (log_source,) = [
        r for r in state["deployment"]["resources"] if r["type"].endswith("sigsentry:LogSource")
    ]
    # The credentials are in state, as ciphertext.
    assert "ciphertext" in log_source["inputs"]["credentials"]
    assert "ciphertext" in log_source["outputs"]["credentials"]
    seen["stack export"] = exported.stdout + exported.stderr

    listed = stack_cli(pulumi_env, stack, "stack", "output")
    assert "[secret]" in next(line for line in listed.stdout.splitlines() if "credentials" in line)
    masked = json.loads(stack_cli(pulumi_env, stack, "stack", "output", "--json").stdout)
    assert masked["credentials"] == "[secret]"
    assert masked["log_source_id"] == source["id"]
    seen["stack output"] = listed.stdout + listed.stderr + json.dumps(masked)

    # The one place the values appear: --show-secrets, with the rotated key.
    revealed = stack_cli(pulumi_env, stack, "stack", "output", "--json", "--show-secrets")
    assert json.loads(revealed.stdout)["credentials"] == {
        "accessKeyId": config.secret["awsAccessKeyId"],
        "secretAccessKey": rotated,
    }

    destroy = stack.destroy(show_secrets=False, on_event=events.append)
    assert changes(destroy) == {"delete": 2}
    seen["destroy"] = destroy.stdout + destroy.stderr
    seen["engine events"] = event_text(events)
    assert len(events) > 20  # the events were collected

    files = backend_files(pulumi_env)
    # The backend holds the stack's checkpoint, its history and backups, all without a secret.
    assert any("/.pulumi/history/" in path for path in files)
    # The workspace's stack settings hold the secret config, encrypted.
    settings = Path(stack.workspace.work_dir) / "Pulumi.dev.yaml"
    assert "secure:" in settings.read_text()
    files |= {
        str(path): path.read_text(errors="replace")
        for path in Path(stack.workspace.work_dir).rglob("*")
        if path.is_file()
    }
    assert leaked({**seen, **files}, secrets) == []


def test_failing_operations_report_errors_without_secrets(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client
) -> None:
    """A credential test that fails and a create the API keeps refusing: the provider's errors
    (the plugin's tracebacks, relayed by the CLI) name the problem, never a secret."""
    from pulumi import automation as auto

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        config = pulumi.Config()
        LogSource(
            "failing-loki",
            type="loki",
            credentials={
                "host": config.require("lokiHost"),
                "apiKey": config.require_secret("secretA"),
                "orgId": config.require_secret("secretB"),
            },
            sources=['{app="checkout-api"}'],
            verify=True,
        )

    stack = make_stack(program, config={"lokiHost": "https://logs.invalid"})
    secrets = [emulator.api_key, CREDENTIAL_A, CREDENTIAL_B]

    # 1. The credential test fails (the host does not resolve): the new source is removed again.
    with pytest.raises(auto.CommandError) as verify_failed:
        stack.up(show_secrets=False)
    verify_text = str(verify_failed.value)
    assert "does not resolve" in verify_text
    assert list_sources(api) == []

    # 2. Every POST answers 500: the provider gives up after its retries.
    stack.set_config("sigsentry-cli-test:lokiHost", auto.ConfigValue("https://logs.example.com"))
    emulator.set_faults({"rules": [{"method": "POST", "fault": "500"}]})
    with pytest.raises(auto.CommandError) as create_failed:
        stack.up(show_secrets=False)
    create_text = str(create_failed.value)
    assert "500" in create_text or "INTERNAL_ERROR" in create_text
    assert list_sources(api) == []

    assert leaked({"verify": verify_text, "create": create_text}, secrets) == []


def _extra_key() -> None:
    """Loki credentials with a key Loki does not take, holding a secret."""
    import pulumi

    from sigsentry_pulumi import LogSource

    config = pulumi.Config()
    LogSource(  # type: ignore[call-overload]  # typed API refuses it too: a key Loki does not take
        "extra-key",
        type="loki",
        credentials={
            "host": "https://logs.example.com",
            "apiKey": config.require_secret("secretA"),
            "password": config.require_secret("secretB"),
        },
        sources=['{app="checkout-api"}'],
    )


def _elastic_without_auth() -> None:
    """Elastic credentials with neither apiKey nor username and password: a problem with the
    whole `credentials` property, whose value the engine prints."""
    import pulumi

    from sigsentry_pulumi import LogSource

    config = pulumi.Config()
    LogSource(  # type: ignore[call-overload]  # typed API refuses it too: no auth at all
        "no-auth",
        type="elastic",
        credentials={
            "host": "https://elastic.example.com",
            "token": config.require_secret("secretA"),
            "secret": config.require_secret("secretB"),
        },
        sources=["logs-*"],
    )


def _credentials_as_one_string() -> None:
    """The whole credential map passed as one secret string, a mistake the check refuses."""
    import pulumi

    from sigsentry_pulumi import LogSource

    config = pulumi.Config()
    LogSource(  # type: ignore[call-overload]  # typed API refuses it too: one string for the map
        "one-string",
        type="datadog",
        credentials=config.require_secret("secretA"),
        sources=["service:checkout-api"],
    )


@pytest.mark.parametrize(
    ("program", "problem"),
    [
        (_extra_key, "property credentials.password value {<nil>} has a problem: not a"),
        (_elastic_without_auth, "property credentials value {[secret]} has a problem: elastic"),
        (_credentials_as_one_string, "property credentials value {[secret]} has a problem: cred"),
    ],
    ids=["extra-key", "elastic-without-auth", "one-string"],
)
def test_check_failures_show_credentials_only_as_secret(
    program: Callable[[], None],
    problem: str,
    make_stack: Callable[..., Any],
    emulator: Any,
) -> None:
    """The engine prints the value of a property the provider's check refuses: for
    `credentials` (always secret) it prints `[secret]`; for a key inside it, nothing."""
    from pulumi import automation as auto

    stack = make_stack(program)
    with pytest.raises(auto.CommandError) as failed:
        stack.preview()
    text = str(failed.value)
    assert problem in text
    assert emulator.requests() == []  # refused before any API call
    assert leaked({"check failure": text}, [emulator.api_key, CREDENTIAL_A, CREDENTIAL_B]) == []


def test_verbose_engine_logs_hold_no_secret(
    make_stack: Callable[..., Any], emulator: Any, api: httpx.Client
) -> None:
    """Logs a user may attach to a bug report (`--debug`, `-v=9 --logtostderr --logflow`) over a
    create and a credential rotation: the engine's gRPC traffic with the plugin, no secret."""
    from pulumi import automation as auto

    config = quickstart_config()
    stack = make_stack(example_program("quickstart"), project=QUICKSTART, secrets=config.secret)
    verbose = {"debug": True, "log_verbosity": 9, "log_to_std_err": True, "log_flow": True}
    created = stack.up(show_secrets=False, **verbose)
    rotated = fresh("aws-rotated")
    stack.set_config(f"{QUICKSTART}:awsSecretAccessKey", auto.ConfigValue(rotated, secret=True))
    updated = stack.up(show_secrets=False, **verbose)
    assert changes(updated) == {"update": 1, "same": 1}
    assert len(list_sources(api)) == 1

    logs = {"create": created.stdout + created.stderr, "update": updated.stdout + updated.stderr}
    for where, text in logs.items():
        # The engine's structured log lines ({"time": ..., "level": ..., "msg": ..., "v": 9}):
        # the logs are really verbose.
        assert len(re.findall(r'^\{"time":', text, re.M)) > 100, where
        assert "].Check(urn:pulumi:dev::" in text, where  # the calls to the provider plugin
    assert "].Update(ls_" in logs["update"]
    secrets = [*config.secret_values(), rotated, emulator.api_key, CREDENTIAL_A, CREDENTIAL_B]
    assert leaked(logs, secrets) == []
