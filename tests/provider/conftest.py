"""Provider fixtures: the real `python -m pulumi.dynamic` plugin, configured for the emulator.

Each test gets its own plugin process, as each deployment does, so the process-wide list walk
of one test never serves another.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provider.cases import PluginFactory, emulator_config
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import SigSentryClient
from tools.plugin_driver import ProviderPlugin


@pytest.fixture
def start_plugin(tmp_path: Path) -> Iterator[PluginFactory]:
    """Start a plugin with the given stack config (and extra environment)."""
    started: list[ProviderPlugin] = []

    def start(config: dict[str, str], env: dict[str, str] | None = None) -> ProviderPlugin:
        plugin = ProviderPlugin(cwd=tmp_path, env=env).start()
        started.append(plugin)
        plugin.configure(config)
        return plugin

    yield start
    for plugin in started:
        plugin.stop()


@pytest.fixture
def plugin(emulator: EmulatorProcess, start_plugin: PluginFactory) -> ProviderPlugin:
    return start_plugin(emulator_config(emulator))


@pytest.fixture
def sigsentry(emulator: EmulatorProcess) -> Iterator[SigSentryClient]:
    """A `SigSentryClient` of the test's own, to look at (and change) what the provider did."""
    import httpx

    client = SigSentryClient(
        emulator.api_key, base_url=emulator.url, transport=httpx.HTTPTransport()
    )
    yield client
    client.close()
