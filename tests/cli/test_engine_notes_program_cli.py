"""The engine notes' claims about the program side (pickled providers, type tokens, state
names), checked against the real CLI; the LogSource ones against the emulator."""

from __future__ import annotations

import base64
import importlib
import json
import runpy
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.engine_notes_support import Bench, is_secret
from cli.recording_provider import PROVIDER_KEY, Recorded, RecordingProvider
from cli.stacks import CREDENTIAL_A, changes
from raw_api import list_sources
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

LOG_SOURCE_TOKEN = "pulumi-python:dynamic/sigsentry:LogSource"
HELD = "held-by-the-provider"


@pytest.fixture
def bench(pulumi_env: PulumiEnvironment) -> Bench:
    return Bench(pulumi_env)


def emulator_stack(bench: Bench, emulator: Any, program: Callable[[], None]) -> Any:
    return bench.stack(
        program,
        config={"sigsentry:apiUrl": emulator.url},
        secrets={"sigsentry:apiKey": emulator.api_key},
    )


def pickled(bench: Bench, stack: Any, name: str) -> str:
    """The plaintext of a resource's ``__provider`` (base64 of the dill pickle)."""
    value = bench.resource(stack, name, show_secrets=True)["inputs"][PROVIDER_KEY]
    # --show-secrets still wraps a secret, with its plaintext as JSON
    blob = json.loads(value["plaintext"])
    assert isinstance(blob, str)
    return blob


def test_provider_importable_from_a_module_is_pickled_by_reference_as_a_secret(
    bench: Bench,
) -> None:
    stack = bench.stack(lambda: Recorded("res", {"label": "one"}, RecordingProvider(held=HELD)))
    stack.up()
    assert is_secret(bench.resource(stack, "res")["inputs"][PROVIDER_KEY])
    blob = pickled(bench, stack, "res")
    assert len(blob) < 200
    pickle = base64.b64decode(blob)
    assert b"RecordingProvider" in pickle
    assert HELD.encode() in pickle  # a value the provider holds is frozen into the state
    assert HELD not in bench.cli(stack, "stack", "export").stdout  # encrypted there


def test_provider_class_in_main_is_pickled_by_value(bench: Bench, tmp_path: Path) -> None:
    script = tmp_path / "program.py"
    script.write_text(
        textwrap.dedent(
            """
            from pulumi.dynamic import CreateResult, Resource, ResourceProvider

            class MainProvider(ResourceProvider):
                def create(self, props):
                    return CreateResult("main-1", {"label": props["label"]})

            class MainResource(Resource, module="enginenotes", name="Main"):
                def __init__(self, name, props):
                    super().__init__(MainProvider(), name, props)

            MainResource("res", {"label": "one"})
            """
        )
    )
    stack = bench.stack(lambda: runpy.run_path(str(script), run_name="__main__"))
    result = stack.up()
    assert changes(result) == {"create": 2}
    blob = pickled(bench, stack, "res")
    assert 500 < len(blob) < 15_000  # 860 characters for this one-method class
    assert b"MainProvider" in base64.b64decode(blob)


def test_renaming_the_provider_module_breaks_refresh_and_destroy(
    bench: Bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi import automation as auto

    folder = tmp_path / "modules"
    folder.mkdir()
    module = folder / "notes_moving_provider.py"
    module.write_text(
        "from pulumi.dynamic import CreateResult, ResourceProvider\n\n\n"
        "class MovingProvider(ResourceProvider):\n"
        "    def create(self, props):\n"
        "        return CreateResult('moving-1', {})\n"
    )
    monkeypatch.syspath_prepend(str(folder))
    bench.python_path.append(str(folder))

    def program() -> None:
        moving = importlib.import_module("notes_moving_provider")
        Recorded("res", {"label": "one"}, moving.MovingProvider())

    stack = bench.stack(program)
    stack.up()
    module.rename(folder / "notes_moved_provider.py")
    monkeypatch.delitem(sys.modules, "notes_moving_provider")
    for operation in (stack.refresh, stack.destroy):
        with pytest.raises(auto.CommandError) as failure:
            operation()
        assert "No module named 'notes_moving_provider'" in str(failure.value)


def test_a_provider_holding_an_httpx_client_cannot_be_pickled(bench: Bench) -> None:
    from pulumi import automation as auto

    def program() -> None:
        with httpx.Client() as client:
            Recorded("res", {"label": "one"}, RecordingProvider(client=client))

    stack = bench.stack(program)
    with pytest.raises(auto.CommandError) as failure:
        stack.up()
    assert "cannot pickle 'SSLContext' object" in str(failure.value)
    assert bench.calls() == []


def test_log_source_token_subclasses_and_camel_case_state_names(
    bench: Bench, emulator: Any, api: httpx.Client
) -> None:
    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        class TeamSource(LogSource):
            pass

        class PlainSubclass(Recorded):
            pass

        # typed loosely: these tests check the engine, not the credential types
        credentials: Any = {"apiKey": pulumi.Config().require_secret("secretA"), "appKey": "app"}
        paused = LogSource(
            "paused",
            type="datadog",
            credentials=credentials,
            sources=["service:checkout"],
            is_active=False,
        )
        TeamSource("team", type="datadog", credentials=credentials, sources=["service:team"])
        PlainSubclass("plain-subclass", {"label": "one"})
        pulumi.export("paused_is_active", paused.is_active)

    stack = emulator_stack(bench, emulator, program)
    result = stack.up()
    assert result.outputs["paused_is_active"].value is False
    types = {r["urn"].rsplit("::", 1)[1]: r["type"] for r in bench.export(stack)["resources"]}
    assert types["paused"] == types["team"] == LOG_SOURCE_TOKEN
    assert types["plain-subclass"] == "pulumi-python:dynamic:Resource"
    paused = bench.resource(stack, "paused")
    assert paused["inputs"]["isActive"] is False and paused["outputs"]["isActive"] is False
    assert "is_active" not in paused["inputs"] and "projectId" in paused["outputs"]
    # LogSourceProvider is pickled by reference: 88 base64 characters, as provider.py says
    assert len(pickled(bench, stack, "paused")) == 88
    assert {s["name"]: s["isActive"] for s in list_sources(api)} == {
        "paused": False,
        "team": True,
    }
    assert CREDENTIAL_A not in result.stdout


def test_log_source_previews_with_an_input_not_known_yet(
    bench: Bench, emulator: Any, api: httpx.Client
) -> None:
    def program() -> None:
        downstream_source(Recorded("upstream", {"label": "one"}))

    stack = emulator_stack(bench, emulator, program)
    preview = stack.preview()
    assert {getattr(k, "value", k): v for k, v in preview.change_summary.items()} == {"create": 3}
    assert list_sources(api) == []
    stack.up()
    (source,) = list_sources(api)
    assert source["name"] == bench.resource(stack, "upstream")["outputs"]["computed"]


def test_log_source_diff_counts_an_unknown_as_a_change_in_preview(
    bench: Bench, emulator: Any, api: httpx.Client
) -> None:
    def program() -> None:
        import pulumi

        upstream = Recorded("upstream", {"label": pulumi.Config().get("label") or "one"})
        downstream_source(upstream)

    stack = emulator_stack(bench, emulator, program)
    stack.up()
    (source,) = list_sources(api)
    stack.set_config("engine-notes:label", auto_value("two"))
    mark = len(emulator.requests())
    preview = stack.preview()
    # the upstream update makes `computed` unknown in the preview, so LogSource's diff says
    # the source will change; the update itself keeps `computed`, and the source stays
    assert {getattr(k, "value", k): v for k, v in preview.change_summary.items()} == {
        "update": 2,
        "same": 1,
    }
    result = stack.up()
    assert changes(result) == {"update": 1, "same": 2}
    assert [r["method"] for r in emulator.requests()[mark:] if r["method"] != "GET"] == []
    assert list_sources(api) == [source]


def downstream_source(upstream: Recorded) -> None:
    """A LogSource named after `upstream`'s ``computed`` output."""
    import pulumi

    from sigsentry_pulumi import LogSource

    name: Any = upstream.computed  # type: ignore[attr-defined]
    credentials: Any = {
        "host": "https://loki.example",
        "apiKey": pulumi.Config().require_secret("secretA"),
    }
    sources = ['{app="checkout"}']
    LogSource("downstream", type="loki", name=name, credentials=credentials, sources=sources)


def auto_value(value: str) -> Any:
    from pulumi import automation as auto

    return auto.ConfigValue(value)


def test_log_source_get_reads_through_the_inputs_the_engine_sends(
    bench: Bench, emulator: Any, api: httpx.Client
) -> None:
    created = api.post(
        "/v1/config/log-sources",
        json={
            "type": "loki",
            "name": "made-outside",
            "credentials": {"host": "https://loki.example"},
            "sources": ['{app="legacy"}'],
        },
    )
    created.raise_for_status()
    source_id = created.json()["data"]["id"]

    def program() -> None:
        import pulumi

        from sigsentry_pulumi import LogSource

        pulumi.export("name", LogSource.get("legacy", source_id).name)

    stack = emulator_stack(bench, emulator, program)
    mark = len(emulator.requests())
    result = stack.up()
    # the engine's Read for a `get` carries no old outputs, only inputs (__provider among
    # them): the plugin falls back to those, where an `import_` finds nothing and fails
    assert result.outputs["name"].value == "made-outside"
    assert changes(result) == {"create": 1}  # the stack; a read is not counted as a change
    assert [r["method"] for r in emulator.requests()[mark:]] == ["GET"]
    (state,) = [r for r in bench.export(stack)["resources"] if r["urn"].endswith("::legacy")]
    assert state["id"] == source_id and state["external"] is True
