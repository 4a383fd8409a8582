"""docs/testing.md's two test files, run as a user runs them: copied into an empty project and
run with pytest in a subprocess (the integration one with the real `pulumi` CLI and the emulator
fixture the installed plugin provides). Each also runs broken, with `type="cloudwach"`, and must
then fail naming `type`, so neither can pass without testing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing_kit.user_project import TESTING_DOC, RunPytest, doc_files

UNIT = "test_log_sources_unit.py"
INTEGRATION = "test_log_sources_integration.py"
UNSUPPORTED = "type 'cloudwach' is not supported: use one of cloudwatch, datadog"


def documented(name: str) -> str:
    files = doc_files(TESTING_DOC.read_text(encoding="utf-8"))
    assert name in files, f"docs/testing.md has no python block starting with '# {name}'"
    return files[name]


def broken(source: str, good: str, bad: str) -> str:
    assert source.count(good) == 1, f"{good!r} is not in the documented test once"
    return source.replace(good, bad)


def test_the_docs_hold_exactly_the_two_test_files() -> None:
    assert sorted(doc_files(TESTING_DOC.read_text(encoding="utf-8"))) == [INTEGRATION, UNIT]


def test_documented_unit_test_passes(run_pytest: RunPytest) -> None:
    result = run_pytest({UNIT: documented(UNIT)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_documented_unit_test_fails_a_misspelt_type_naming_the_field(
    run_pytest: RunPytest,
) -> None:
    source = broken(documented(UNIT), 'log_type="cloudwatch"', 'log_type="cloudwach"')
    result = run_pytest({UNIT: source})
    assert result.returncode == 1, result.stdout + result.stderr
    # The two tests of the good program fail, with the field and the valid types shown.
    assert "2 failed, 2 passed" in result.stdout
    assert f"type: {UNSUPPORTED}" in result.stdout
    assert "LogSourceCheckError: LogSource 'checkout-logs' has problems" in result.stdout
    assert "INTERNALERROR" not in result.stdout + result.stderr


@pytest.mark.slow
def test_documented_integration_test_passes_with_the_real_cli(
    run_pytest: RunPytest, pulumi_cli: Path
) -> None:
    result = run_pytest({INTEGRATION: documented(INTEGRATION)}, pulumi_cli, "-s")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout
    # The CLI's own output (printed by on_output): one source created, then deleted.
    assert "+ 2 created" in result.stdout
    assert "- 2 deleted" in result.stdout
    assert "example-secret" not in result.stdout + result.stderr


@pytest.mark.slow
def test_documented_integration_test_fails_a_misspelt_type_naming_the_field(
    run_pytest: RunPytest, pulumi_cli: Path
) -> None:
    source = broken(documented(INTEGRATION), 'type="cloudwatch",', 'type="cloudwach",')
    result = run_pytest({INTEGRATION: source}, pulumi_cli)
    assert result.returncode == 1, result.stdout[-6000:] + result.stderr[-3000:]
    assert "1 failed" in result.stdout
    assert UNSUPPORTED in result.stdout
