"""Why a dependent of an updated resource previews as an update that the `up` never makes.

`downstream` reads `upstream`'s ``computed``, an output the provider's create adds (as
`LogSource`'s create adds ``tenantId``). When `upstream` changes, the engine answers the preview
of its update with its new checked inputs (the plugin answers ``supportsPreview=False``), so an
output that is not an input is unknown there, and `downstream`'s diff sees an unknown. Each test
tries one way out; only an output carried in the stored inputs stays known.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cli.engine_notes_support import Bench, set_config
from cli.recording_provider import COMPUTED, UNKNOWN_MARK, Recorded, RecordingProvider
from cli.stacks import changes
from tools.pulumi_cli import PulumiEnvironment

pytestmark = pytest.mark.slow

UPSTREAM = "Recorded::upstream,"


@pytest.fixture
def bench(pulumi_env: PulumiEnvironment) -> Bench:
    return Bench(pulumi_env)


def chained(**upstream: Any) -> Callable[[], None]:
    """`upstream` (label from config, behaving as told) and `downstream` reading its output."""

    def program() -> None:
        import pulumi

        first = Recorded(
            "upstream",
            {"label": pulumi.Config().get("label") or "one"},
            RecordingProvider(**upstream),
        )
        Recorded("downstream", {"tenant": first.computed})  # type: ignore[attr-defined]

    return program


def summary(preview: Any) -> dict[str, int]:
    return {getattr(k, "value", k): v for k, v in preview.change_summary.items()}


def downstream_diffs(bench: Bench) -> list[Any]:
    """What `downstream`'s diff was given as ``tenant``, per call."""
    return [c["news"]["tenant"] for c in bench.calls("diff") if "tenant" in c["news"]]


def change_upstream(bench: Bench, stack: Any) -> Any:
    """Changes `upstream`'s label and previews: the preview, with the calls it made recorded."""
    set_config(stack, label="two")
    bench.clear()
    return stack.preview()


def test_a_dependent_of_an_updated_resource_previews_an_update_the_up_does_not_make(
    bench: Bench,
) -> None:
    stack = bench.stack(chained())
    stack.up()
    computed = bench.resource(stack, "upstream")["outputs"][COMPUTED]
    assert COMPUTED not in bench.resource(stack, "upstream")["inputs"]
    preview = change_upstream(bench, stack)
    assert summary(preview) == {"update": 2, "same": 1}
    assert downstream_diffs(bench) == [UNKNOWN_MARK]
    bench.clear()
    result = stack.up()
    # the update keeps `computed`, so downstream's diff sees the same value: nothing to do
    assert changes(result) == {"update": 1, "same": 2}
    assert downstream_diffs(bench) == [computed]
    assert [c["id"] for c in bench.calls("update")] == [bench.resource(stack, "upstream")["id"]]


def test_stables_in_diff_result_never_reach_the_engine(bench: Bench) -> None:
    stack = bench.stack(chained(stables=[COMPUTED]))
    stack.up()
    set_config(stack, label="two")
    bench.clear()
    preview = stack.preview(log_verbosity=7, log_to_std_err=True)
    assert summary(preview) == {"update": 2, "same": 1}
    assert downstream_diffs(bench) == [UNKNOWN_MARK]
    # the SDK's plugin builds its DiffResponse from changes, replaces and deleteBeforeReplace
    # only: the engine logs upstream's Diff answer with no stables
    (answer,) = [
        line for line in preview.stderr.splitlines() if UPSTREAM in line and ") success:" in line
    ]
    assert "#stables=[]" in answer
    assert "changes=2" in answer  # DIFF_SOME


def test_check_carrying_an_output_from_old_inputs_has_none_to_carry_after_a_create(
    bench: Bench,
) -> None:
    stack = bench.stack(chained(check_carry=[COMPUTED]))
    stack.up()
    # Check's olds are the old inputs, and a create's outputs never become inputs
    assert COMPUTED not in bench.resource(stack, "upstream")["inputs"]
    stack.up()
    assert COMPUTED not in bench.resource(stack, "upstream")["inputs"]
    preview = change_upstream(bench, stack)
    assert summary(preview) == {"update": 2, "same": 1}
    assert downstream_diffs(bench) == [UNKNOWN_MARK]


def test_an_output_carried_in_the_inputs_stays_known_in_the_preview_of_an_update(
    bench: Bench,
) -> None:
    stack = bench.stack(chained(check_carry=[COMPUTED], read="outputs-as-inputs"))
    stack.up()
    computed = bench.resource(stack, "upstream")["outputs"][COMPUTED]
    # a refresh whose read returns the output among the inputs is what puts it there
    assert changes(stack.refresh()) == {"same": 3}
    assert bench.resource(stack, "upstream")["inputs"][COMPUTED] == computed
    assert summary(stack.preview()) == {"same": 3}
    preview = change_upstream(bench, stack)
    assert summary(preview) == {"update": 1, "same": 2}
    assert downstream_diffs(bench) == [computed]
    bench.clear()
    assert changes(stack.up()) == {"update": 1, "same": 2}
    # check carries it on from the old inputs, so the next change previews the same way
    assert bench.resource(stack, "upstream")["inputs"][COMPUTED] == computed
    set_config(stack, label="three")
    assert summary(stack.preview()) == {"update": 1, "same": 2}


def sources_chained() -> None:
    """Two `LogSource`s, `downstream`'s credentials reading `upstream`'s ``tenant_id``."""
    import pulumi

    from sigsentry_pulumi import LogSource

    sources = ['{app="checkout"}']
    upstream = LogSource(
        "upstream",
        type="loki",
        name=pulumi.Config().get("label") or "one",
        credentials={"host": "https://loki.example", "apiKey": "upstream-key"},
        sources=sources,
    )
    tenant: Any = upstream.tenant_id
    LogSource(
        "downstream",
        type="loki",
        name="downstream",
        credentials={"host": "https://loki.example", "apiKey": tenant},
        sources=sources,
    )


def emulator_stack(bench: Bench, emulator: Any, program: Callable[[], None]) -> Any:
    return bench.stack(
        program,
        config={"sigsentry:apiUrl": emulator.url},
        secrets={"sigsentry:apiKey": emulator.api_key},
    )


def writes(emulator: Any, mark: int) -> list[str]:
    """The emulator's write requests since `mark`, as "METHOD path"."""
    return [
        f"{r['method']} {r['path']}" for r in emulator.requests()[mark:] if r["method"] != "GET"
    ]


def test_a_log_source_reading_a_changed_sources_tenant_id_previews_an_update_the_up_does_not_make(
    bench: Bench, emulator: Any
) -> None:
    stack = emulator_stack(bench, emulator, sources_chained)
    stack.up()
    upstream = bench.resource(stack, "upstream")
    for label in ("two", "three"):  # after the create, and after a refresh alike
        set_config(stack, label=label)
        assert summary(stack.preview()) == {"update": 2, "same": 1}
        mark = len(emulator.requests())
        assert changes(stack.up()) == {"update": 1, "same": 2}
        assert writes(emulator, mark) == [f"PUT /v1/config/log-sources/{upstream['id']}"]
        assert changes(stack.refresh()) == {"same": 3}
    # the provider keeps no output among the inputs (see the recording-provider tests above)
    assert "tenantId" not in bench.resource(stack, "upstream")["inputs"]
