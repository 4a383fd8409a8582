"""Inputs for each of the six log-source types (from tests/samples.py), and helpers shared by the
provider tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider

from samples import CREDENTIALS, ROTATED, SECRET_VALUES, SOURCES, TYPES
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import LogSourceProvider
from tools.plugin_driver import ProviderPlugin

__all__ = [
    "CREDENTIALS",
    "PROVIDER",
    "ROTATED",
    "SOURCES",
    "TYPES",
    "PluginFactory",
    "checked",
    "emulator_config",
    "inputs",
    "provider_for",
    "secret_values",
    "urn",
    "without_provider",
]

PROVIDER: Final = serialize_provider(LogSourceProvider())
TYPE_TOKEN: Final = "pulumi-python:dynamic/sigsentry:LogSource"


def secret_values() -> set[str]:
    """Every secret credential value of the cases: none may ever appear in output or errors."""
    return set(SECRET_VALUES)


def urn(name: str) -> str:
    return f"urn:pulumi:dev::sigsentry-tests::{TYPE_TOKEN}::{name}"


def inputs(source_type: str = "cloudwatch", **overrides: Any) -> dict[str, Any]:
    """Inputs as the program registers them (state names), `__provider` included."""
    body: dict[str, Any] = {
        "__provider": PROVIDER,
        "type": source_type,
        "name": f"test-{source_type}",
        "credentials": dict(CREDENTIALS[source_type]),
        "sources": list(SOURCES[source_type]),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def provider_for(emulator: EmulatorProcess, **config: str) -> LogSourceProvider:
    """A provider called in-process, configured for the emulator (plus `config`)."""
    provider = LogSourceProvider()
    values = {"sigsentry:apiKey": emulator.api_key, "sigsentry:apiUrl": emulator.url, **config}
    provider.configure(ConfigureRequest(Config(values, "tests")))
    return provider


def checked(provider: LogSourceProvider, news: dict[str, Any]) -> dict[str, Any]:
    """`news` through the provider's check, which must find nothing wrong."""
    result = provider.check({}, news)
    assert result.failures == []
    return result.inputs


def without_provider(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "__provider"}


PluginFactory = Callable[..., ProviderPlugin]
"""The `start_plugin` fixture: a configured plugin for the given stack config."""


def emulator_config(emulator: EmulatorProcess, **extra: str) -> dict[str, str]:
    return {
        "sigsentry:apiUrl": emulator.url,
        "sigsentry:apiKey": emulator.api_key,
        "sigsentry:maxRetries": "2",
        **extra,
    }
