"""What the plugin sends back when a provider call fails: the SDK's plugin answers with
`traceback.format_exc()`, which the CLI prints whole. An error of the package shows three frames
(the plugin's two and the provider's wrapper) and its message, with nothing chained; a
dependency the plugin's Python cannot import is named with that Python; a bug keeps its whole
traceback, down to the line at fault.
"""

from __future__ import annotations

import re
import sys
import traceback
from typing import Any

import pytest

from provider.cases import PluginFactory, emulator_config, inputs, urn
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import AuthenticationError, ConfigurationError, LogSourceProvider
from sigsentry_pulumi import provider as provider_module
from tools.plugin_driver import ProviderCallError, ProviderPlugin

FRAME = re.compile(r'^\s*File "', re.MULTILINE)
OPERATIONS = ("check", "diff", "create", "update", "read", "delete")


def frames(details: str) -> int:
    return len(FRAME.findall(details))


def assert_short(details: str, ending: str) -> None:
    assert details.startswith("Traceback (most recent call last):"), details
    assert frames(details) == 3, details
    assert "_client.py" not in details and "During handling" not in details, details
    assert details.strip().splitlines()[-1].startswith(ending), details


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_is_wrapped(operation: str) -> None:
    method = getattr(LogSourceProvider, operation)
    assert method.__wrapped__.__name__ == operation


def test_product_errors_of_each_call_show_three_frames(
    start_plugin: PluginFactory, emulator: EmulatorProcess, plugin: ProviderPlugin
) -> None:
    wrong_key = start_plugin(emulator_config(emulator, **{"sigsentry:apiKey": "ss_secret_nope"}))
    checked = wrong_key.check(urn("src"), {}, inputs()).inputs
    with pytest.raises(ProviderCallError) as create:
        wrong_key.create(urn("src"), checked)
    assert_short(create.value.details, "sigsentry_pulumi.AuthenticationError: SigSentry API error")
    with pytest.raises(ProviderCallError) as delete:
        wrong_key.delete("ls_00000000-0000-4000-8000-000000000001", urn("src"), checked)
    assert_short(delete.value.details, "sigsentry_pulumi.AuthenticationError:")

    gone = "ls_00000000-0000-4000-8000-000000000404"
    good = plugin.check(urn("src"), {}, inputs()).inputs
    with pytest.raises(ProviderCallError) as update:
        plugin.update(gone, urn("src"), good, {**good, "name": "renamed"})
    assert_short(update.value.details, f"sigsentry_pulumi.LogSourceGoneError: Log source {gone}")
    with pytest.raises(ProviderCallError) as read:
        plugin.read(gone, urn("src"), inputs={"__provider": good["__provider"]})
    assert_short(read.value.details, f"sigsentry_pulumi.NoSuchLogSourceError: Log source {gone}")


def test_a_bug_keeps_its_whole_traceback(plugin: ProviderPlugin) -> None:
    broken = dict(plugin.check(urn("src"), {}, inputs()).inputs)
    del broken["name"]  # the engine never sends this: the provider reads a missing key
    with pytest.raises(ProviderCallError) as caught:
        plugin.create(urn("src"), broken)
    details = caught.value.details
    assert details.strip().splitlines()[-1] == "KeyError: 'name'"
    assert frames(details) > 3, details
    assert "in _create_once" in details  # down to the line at fault


# -- the wrapper, in-process ----------------------------------------------------------------------


def deep(error: BaseException) -> None:
    def inner() -> None:
        raise error

    try:
        inner()
    except BaseException as caught:
        raise caught from ValueError("a cause that must not be printed")


def formatted(call: Any) -> str:
    try:
        call()
    except BaseException:
        return traceback.format_exc()
    raise AssertionError("no exception")


def test_the_wrapper_cuts_a_product_errors_traceback_and_context() -> None:
    wrapped = provider_module._reported(deep)
    text = formatted(lambda: wrapped(AuthenticationError("no", status=401, code="UNAUTHORIZED")))
    # `formatted` and the lambda stand for the plugin's wrapper and method; then the wrapper
    assert frames(text) == 3, text
    assert "a cause" not in text and "in inner" not in text
    assert text.splitlines()[-1].startswith("sigsentry_pulumi.AuthenticationError: ")


def test_a_missing_dependency_names_the_module_and_the_python() -> None:
    wrapped = provider_module._reported(deep)
    missing = ModuleNotFoundError("No module named 'httpx'", name="httpx")
    with pytest.raises(ConfigurationError) as caught:
        wrapped(missing)
    message = str(caught.value)
    assert f"The Python that runs the SigSentry provider ({sys.executable}) cannot" in message
    assert "cannot import httpx, which sigsentry-pulumi needs" in message
    assert "<virtualenv>/bin/pip install sigsentry-pulumi" in message


@pytest.mark.parametrize(
    "bug",
    [
        KeyError("name"),
        ModuleNotFoundError(
            "No module named 'sigsentry_pulumi._gone'", name="sigsentry_pulumi._gone"
        ),
    ],
    ids=["KeyError", "own-module"],
)
def test_other_exceptions_pass_through_untouched(bug: BaseException) -> None:
    wrapped = provider_module._reported(deep)
    text = formatted(lambda: wrapped(bug))
    assert "in inner" in text and "a cause that must not be printed" in text  # all of it
    with pytest.raises(type(bug)) as caught:
        wrapped(bug)
    assert caught.value is bug
