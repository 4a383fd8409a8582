"""The real pack process, driven by `run_policy_packs` as `pulumi preview --policy-pack` does."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sigsentry_pulumi.testing.policy import (
    AnalyzedResource,
    PolicyConfigError,
    PolicyPackError,
    PolicyViolation,
    PolicyViolationError,
    run_policy_packs,
)

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"
LOG_SOURCE = "pulumi-python:dynamic/sigsentry:LogSource"
PROJECT, STACK = "guardrails-it", "prod"
SERVICE_ACCOUNT = '{"type": "service_account", "project_id": "p", "private_key": "PK-SECRET-9"}'
CREDENTIAL_VALUES = ("AKIA-SECRET-1", "wJalr-SECRET-2", "hunter2-SECRET-3", "PK-SECRET-9")


def log_source(
    name: str, type_: str, credentials: dict[str, str], sources: list[str], **extra: Any
) -> AnalyzedResource:
    props = {
        "type": type_,
        "name": name,
        "credentials": credentials,
        "sources": sources,
        "isActive": True,
        "verify": False,
        "__provider": "gASV-pickled-provider",
        **extra,
    }
    urn = f"urn:pulumi:{STACK}::{PROJECT}::{LOG_SOURCE}::{name}"
    return AnalyzedResource(urn=urn, type=LOG_SOURCE, name=name, properties=props)


def good_stack() -> list[AnalyzedResource]:
    """One compliant source of each type, shaped like examples/all-types with a session token."""
    return [
        log_source(
            "prod-cloudwatch",
            "cloudwatch",
            {
                "accessKeyId": "AKIA-SECRET-1",
                "secretAccessKey": "wJalr-SECRET-2",
                "sessionToken": "token-SECRET-5",
            },
            ["/aws/lambda/checkout-api"],
        ),
        log_source(
            "prod-datadog",
            "datadog",
            {"apiKey": "dd-SECRET-6", "appKey": "dd-SECRET-7"},
            ["service:checkout"],
        ),
        log_source(
            "prod-loki",
            "loki",
            {"host": "https://loki.example.com", "apiKey": "hunter2-SECRET-3"},
            ['{app="checkout"}'],
        ),
        log_source(
            "prod-splunk",
            "splunk",
            {"host": "https://splunk.example.com:8089", "token": "sp-SECRET-8"},
            ["main"],
        ),
        log_source(
            "prod-elastic",
            "elastic",
            {"host": "https://es.example.com", "apiKey": "es-SECRET-0"},
            ["logs-checkout-*"],
        ),
        log_source(
            "prod-gcp-logging",
            "gcp_logging",
            {"serviceAccountJson": SERVICE_ACCOUNT},
            ['resource.type="cloud_run_revision"'],
        ),
    ]


def bad_stack() -> list[AnalyzedResource]:
    """Each guardrail broken exactly once (verify-enabled needs its stacks config)."""
    return [
        log_source(
            "insecure-loki",
            "loki",
            {"host": "http://hunter2-SECRET-3@loki.example.com"},
            ["a"],
            verify=True,
        ),
        log_source(
            "long-lived-keys",
            "cloudwatch",
            {
                "accessKeyId": "AKIA-SECRET-1",
                "secretAccessKey": "wJalr-SECRET-2",
                "sessionToken": "t-SECRET",
            },
            ["/aws/x"],
            verify=False,
        ),
        log_source(
            "Bad Name",
            "datadog",
            {"apiKey": "k-SECRET", "appKey": "a-SECRET"},
            ["service:x"],
            verify=True,
        ),
        log_source(
            "everything",
            "splunk",
            {"host": "https://s.example.com", "token": "sp-SECRET-8"},
            ["*"],
            verify=True,
        ),
        log_source(
            "too-many",
            "elastic",
            {"host": "https://e.example.com", "apiKey": "es-SECRET-0"},
            [f"i-{n}" for n in range(21)],
            verify=True,
        ),
        log_source(
            "dup", "gcp_logging", {"serviceAccountJson": SERVICE_ACCOUNT}, ["x"], verify=True
        ),
        AnalyzedResource(
            urn=f"urn:pulumi:{STACK}::{PROJECT}::{LOG_SOURCE}::dup-again",
            type=LOG_SOURCE,
            name="dup-again",
            properties={
                "type": "gcp_logging",
                "name": "dup",
                "credentials": {"serviceAccountJson": SERVICE_ACCOUNT},
                "sources": ["y"],
                "verify": True,
            },
        ),
        log_source(
            "static-keys",
            "cloudwatch",
            {"accessKeyId": "AKIA-SECRET-1", "secretAccessKey": "wJalr-SECRET-2"},
            ["/aws/y"],
            verify=True,
        ),
    ]


BAD_STACK_CONFIG = {"verify-enabled": {"stacks": ["prod", "prod-*"]}}
EXPECTED_BAD = {
    ("https-hosts", "mandatory", "insecure-loki"),
    ("verify-enabled", "mandatory", "long-lived-keys"),
    ("name-pattern", "advisory", "Bad Name"),
    ("no-catch-all-sources", "mandatory", "everything"),
    ("max-sources", "mandatory", "too-many"),
    ("unique-type-and-name", "mandatory", "dup-again"),
    ("cloudwatch-session-token", "advisory", "static-keys"),
}


def run(resources: list[AnalyzedResource], **kwargs: Any) -> list[PolicyViolation]:
    return run_policy_packs([PACK_DIR], resources, project=PROJECT, stack=STACK, **kwargs)


def test_compliant_stack_has_no_violations_under_the_default_config() -> None:
    assert run(good_stack()) == []


def test_each_guardrail_fires_once_with_its_enforcement_level() -> None:
    violations = run(bad_stack(), config=BAD_STACK_CONFIG)
    found = {(v.policy, v.enforcement_level, (v.urn or "").rsplit("::", 1)[-1]) for v in violations}
    assert found == EXPECTED_BAD
    assert Counter(v.policy for v in violations) == Counter(p for p, _, _ in EXPECTED_BAD)
    assert {v.pack for v in violations} == {"sigsentry-guardrails"}
    error = PolicyViolationError(violations)
    assert "preview failed: 5 mandatory policy violation(s)" in str(error)
    assert len(error.violations) == 7


def test_violation_message_is_the_description_then_the_policy_message() -> None:
    [violation] = run([bad_stack()[0]])
    description, detail = violation.message.split("\n", 1)
    assert description == "Loki, Splunk and Elastic hosts must use https://."
    assert detail.startswith("log source 'insecure-loki' (type loki): credentials.host uses plain")


def test_no_violation_or_repr_shows_a_credential() -> None:
    resources = bad_stack()
    violations = run(resources, config=BAD_STACK_CONFIG)
    text = repr(violations) + str(PolicyViolationError(violations)) + repr(resources)
    assert not any(value in text for value in CREDENTIAL_VALUES)


def test_config_changes_levels_and_values() -> None:
    resources = bad_stack()
    config = {
        "all": "advisory",
        "max-sources": {"maxSources": 25},
        "name-pattern": "disabled",
        "cloudwatch-session-token": {"enforcementLevel": "mandatory"},
    }
    violations = run(resources, config=config)
    levels = {v.policy: v.enforcement_level for v in violations}
    assert "max-sources" not in levels and "name-pattern" not in levels
    assert levels.pop("cloudwatch-session-token") == "mandatory"
    assert set(levels.values()) == {"advisory"}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"max-sources": {"maxSources": 0}},
            "max-sources: maxSources: 0 is less than the minimum of 1",
        ),
        (
            {"verify-enabled": {"stacks": "prod"}},
            'verify-enabled: stacks: "prod" is not of type "array"',
        ),
        ({"max-source": "mandatory"}, "names no policy of the pack(s): max-source"),
        ({"max-sources": {"maxSource": 3}}, "max-sources: maxSource: not a config property"),
        ({"https-hosts": "strict"}, "enforcementLevel 'strict' is not one of"),
    ],
)
def test_bad_config_is_rejected_naming_the_policy_and_field(
    config: dict[str, Any], expected: str
) -> None:
    with pytest.raises(PolicyConfigError) as caught:
        run(good_stack(), config=config)
    assert expected in str(caught.value)


def test_unknown_values_make_the_pack_skip_the_policy_with_an_advisory_note() -> None:
    from samples import unknown

    [resource] = bad_stack()[:1]
    props = {**resource.properties, "credentials": {"host": unknown()}}
    pending = AnalyzedResource(resource.urn, resource.type, resource.name, props)
    [violation] = run([pending], config={"name-pattern": "disabled"})
    assert violation.enforcement_level == "advisory"
    assert (
        "can't run policy 'https-hosts'" in violation.message
        and "during preview" in violation.message
    )


def write_pack(directory: Path, main: str) -> Path:
    directory.mkdir()
    (directory / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (directory / "__main__.py").write_text(textwrap.dedent(main))
    return directory


LEAKY_PACK = """
from pulumi_policy import PolicyPack, ResourceValidationPolicy

def leak(args, report):
    report("the key is " + args.props["credentials"]["apiKey"])

PolicyPack("leaky", [ResourceValidationPolicy("leak", "Quotes a credential.", leak)])
"""


def test_a_pack_that_quotes_a_credential_is_redacted(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "leaky", LEAKY_PACK)
    resource = good_stack()[2]  # loki, apiKey hunter2-SECRET-3
    [violation] = run_policy_packs([pack], [resource], project=PROJECT, stack=STACK)
    assert violation.message.endswith("the key is [secret]")
    assert "hunter2" not in violation.message


def test_a_folder_without_pulumipolicy_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyPackError, match=r"has no PulumiPolicy\.yaml"):
        run_policy_packs([tmp_path], good_stack(), project=PROJECT, stack=STACK)


def test_a_pack_that_crashes_at_start_reports_its_output(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "broken", "raise SystemExit('policy pack exploded on import')\n")
    started = time.monotonic()
    with pytest.raises(PolicyPackError) as caught:
        run_policy_packs([pack], good_stack(), project=PROJECT, stack=STACK)
    assert "printed no port" in str(caught.value)
    assert "policy pack exploded on import" in str(caught.value)
    assert time.monotonic() - started < 30


VENV_PACK = """
import os
from pulumi_policy import PolicyPack, ResourceValidationPolicy

def where(args, report):
    report("interpreter marker: " + os.environ.get("PACK_VENV_MARKER", "none"))

PolicyPack("venv-pack", [ResourceValidationPolicy("where", "Names its interpreter.", where)])
"""


def test_a_pack_with_its_own_virtualenv_runs_on_that_interpreter(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "with-venv", VENV_PACK)
    (pack / "PulumiPolicy.yaml").write_text(
        "runtime:\n  name: python\n  options:\n    virtualenv: venv\nversion: 0.0.1\n"
    )
    python = pack / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    # stands in for the virtualenv's interpreter: this one, with a marker the pack can see
    python.write_text(f'#!/bin/sh\nPACK_VENV_MARKER=venv exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)

    [violation] = run_policy_packs([pack], good_stack()[:1], project=PROJECT, stack=STACK)

    assert violation.message.endswith("interpreter marker: venv")


RAISING_PACK = """
from pulumi_policy import PolicyPack, ResourceValidationPolicy

def boom(args, report):
    raise RuntimeError("broken policy saw " + args.props["credentials"]["apiKey"])

PolicyPack("raising", [ResourceValidationPolicy("boom", "Always raises.", boom)])
"""


def test_a_policy_that_raises_fails_the_run_without_leaking(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "raising", RAISING_PACK)
    with pytest.raises(PolicyPackError) as caught:
        run_policy_packs([pack], [good_stack()[2]], project=PROJECT, stack=STACK)
    message = str(caught.value)
    assert "failed in Analyze" in message and "broken policy saw [secret]" in message
    assert "hunter2" not in message


def processes_in(directory: Path) -> list[int]:
    """Pids of live processes whose working directory is `directory` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == directory:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_pack_process_is_gone_after_the_run(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(PACK_DIR, pack, ignore=shutil.ignore_patterns("__pycache__"))
    run_policy_packs([pack], good_stack(), project=PROJECT, stack=STACK)
    assert processes_in(pack.resolve()) == []


SLOW_PACK = """
import time
from pulumi_policy import PolicyPack, ResourceValidationPolicy

def slow(args, report):
    time.sleep(120)

PolicyPack("slow", [ResourceValidationPolicy("slow", "Takes its time.", slow)])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc")
def test_killing_the_caller_kills_the_pack(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "slow", SLOW_PACK).resolve()
    caller = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from sigsentry_pulumi.testing.policy import AnalyzedResource, run_policy_packs; "
            "r = AnalyzedResource('urn:x', 't', 'n', {}); "
            "run_policy_packs([Path(sys.argv[1])], [r], project='p', stack='s')",
            str(pack),
        ]
    )
    try:
        deadline = time.monotonic() + 60
        while not (pids := processes_in(pack)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pids, "the pack never started"
        time.sleep(1)  # let the caller reach the slow Analyze call
        caller.send_signal(signal.SIGKILL)
        caller.wait(10)
        deadline = time.monotonic() + 10
        while processes_in(pack) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_in(pack) == []
    finally:
        if caller.poll() is None:
            caller.kill()


def test_a_violation_prints_on_one_line_with_level_pack_policy_and_resource() -> None:
    [violation] = run([bad_stack()[0]])
    line = str(violation)
    assert line.startswith("[mandatory]  sigsentry-guardrails  https-hosts (insecure-loki): ")
    assert "\n" not in line and "credentials.host uses plain http://" in line
