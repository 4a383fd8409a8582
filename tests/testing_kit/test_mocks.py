"""`LogSourceMocks` under `pulumi.runtime.set_mocks`, as a user's unit test runs it: programs that
declare `LogSource`s fail on the inputs the provider's `check` refuses, with its field-named
messages, and good ones get the outputs the provider's create gives, `credentials` secret."""

from __future__ import annotations

import asyncio
import gc
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from sigsentry_pulumi import LogSource, LogSourceProvider
from sigsentry_pulumi._constants import RESOURCE_TYPE
from sigsentry_pulumi.testing import LogSourceCheckError, LogSourceMocks

AWS_SECRET = "wJalr-kit-test-" + uuid.uuid4().hex
UUID_ID = re.compile(r"ls_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


class RecordingMocks(pulumi.runtime.Mocks):
    """The user's own mocks, for everything that is not a LogSource."""

    def __init__(self) -> None:
        self.resources: list[str] = []
        self.calls: list[str] = []
        self.registered: list[dict[str, Any]] = []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args.typ)
        return "thing-1", {**args.inputs, "arn": "arn:thing"}

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append(args.token)
        return {"zones": ["eu-1a"]}, []


class InputRecordingMocks(LogSourceMocks):
    """LogSourceMocks that keep the raw inputs each LogSource registered."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.raw: list[dict[str, Any]] = []

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[Any, Any]]:
        if args.typ == RESOURCE_TYPE:
            self.raw.append(dict(args.inputs))
        return super().new_resource(args)


@pytest.fixture
def wrapped() -> RecordingMocks:
    return RecordingMocks()


@pytest.fixture
def mocks(wrapped: RecordingMocks) -> Iterator[InputRecordingMocks]:
    # A loop of our own: whatever ran before may have closed or unset the main thread's loop.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    kit = InputRecordingMocks(wrapped=wrapped, project_id="prj_kit", tenant_id="tnt_kit")
    pulumi.runtime.set_mocks(kit, preview=False)
    try:
        yield kit
    finally:
        asyncio.set_event_loop(None)
        loop.close()
        # Failed registrations leave futures whose finalizers log a traceback; collected later,
        # inside pytest's `ast.parse`, Python 3.11 fails with "AST constructor recursion depth
        # mismatch" (tests/provider/test_resource.py does the same).
        gc.collect()


def run(program: Callable[[], Any]) -> None:
    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]


def values(source: LogSource, *names: str) -> dict[str, Any]:
    """The named outputs of `source` once the program ran (and whether each is secret)."""
    found: dict[str, Any] = {}

    async def collect() -> None:
        for name in names:
            output = getattr(source, name)
            found[name] = await output.future()
            found[f"{name}.secret"] = await output.is_secret()

    run(lambda: pulumi.Output.from_input(collect()))
    return found


def cloudwatch(name: str = "checkout-logs", **kwargs: Any) -> LogSource:
    arguments: dict[str, Any] = {
        "type": "cloudwatch",
        "credentials": {"accessKeyId": "AKIAKIT", "secretAccessKey": AWS_SECRET},
        "sources": ["/aws/lambda/checkout-api"],
        **kwargs,
    }
    return LogSource(name, **arguments)


def refused(program: Callable[[], Any]) -> LogSourceCheckError:
    with pytest.raises(LogSourceCheckError) as caught:
        run(program)
    return caught.value


def test_a_misspelt_type_fails_the_test_naming_type_and_the_valid_types(
    mocks: LogSourceMocks,
) -> None:
    error = refused(lambda: cloudwatch(type="cloudwach").id)
    assert [p.field for p in error.problems] == ["type"]
    assert str(error) == (
        "LogSource 'checkout-logs' has problems:\n"
        "  type: type 'cloudwach' is not supported: use one of cloudwatch, datadog, loki, "
        "splunk, elastic, gcp_logging"
    )
    assert mocks.failures == [error]


def test_a_test_that_awaits_nothing_still_fails(mocks: LogSourceMocks) -> None:
    # `@pulumi.runtime.test` waits for every registration, so the failure cannot go unseen.
    error = refused(lambda: cloudwatch(type="cloudwach") and None)
    assert [p.field for p in error.problems] == ["type"]


def test_a_missing_credential_key_is_named_and_no_credential_value_shown(
    mocks: LogSourceMocks,
) -> None:
    error = refused(
        lambda: (
            cloudwatch(
                credentials={"accessKeyId": pulumi.Output.secret(AWS_SECRET)}, sources=["a", "a"]
            ).urn
        )
    )
    assert [(p.field, p.reason) for p in error.problems] == [
        ("sources[1]", "this source is listed twice: remove the duplicate"),
        ("credentials.secretAccessKey", "required for type cloudwatch: add it"),
    ]
    assert AWS_SECRET not in str(error)


def test_an_unknown_property_is_refused_by_name(mocks: LogSourceMocks) -> None:
    # LogSource itself refuses unknown keywords; a registration from elsewhere (a subclass, a
    # transform) reaches the mocks, which refuse it as the provider's check does.
    args = pulumi_mocks.MockResourceArgs(
        typ=RESOURCE_TYPE,
        name="odd",
        inputs={
            "type": "datadog",
            "name": "odd",
            "credentials": {"apiKey": "k", "appKey": "a"},
            "sources": ["service:x"],
            "region": "eu",
        },
        custom=True,
    )
    with pytest.raises(LogSourceCheckError) as caught:
        mocks.new_resource(args)
    [problem] = caught.value.problems
    assert problem.field == "region"
    assert problem.reason.startswith("unknown property 'region': a LogSource takes type, name")


def test_account_and_adopt_id_are_checked_as_the_provider_does(mocks: LogSourceMocks) -> None:
    error = refused(lambda: cloudwatch(account="sigsentry", adopt_id="src-1").id)
    assert [p.field for p in error.problems] == ["adoptId", "account"]
    assert "adopt_id must be a log source id such as 'ls_...'" in error.problems[0].reason


@pytest.mark.parametrize(
    "arguments",
    [
        {"type": "cloudwach"},
        {"credentials": {"accessKeyId": "AKIA", "region": "eu-west-1"}},
        {"sources": []},
        {"name": "   ", "is_active": "yes"},
        {"type": "loki", "credentials": {"host": "loki.example.com", "apiKey": 1}},
    ],
)
def test_the_problems_are_exactly_those_of_the_providers_check(
    mocks: InputRecordingMocks, arguments: dict[str, Any]
) -> None:
    error = refused(lambda: cloudwatch(**arguments).id)
    # What the plugin hands the provider: the registered inputs with secret marks stripped.
    [raw] = mocks.raw
    news = {key: rpc.unwrap_rpc_secret(value) for key, value in raw.items()}
    checked = LogSourceProvider().check({}, news)
    assert [(p.field, p.reason) for p in error.problems] == [
        (f.property, f.reason) for f in checked.failures
    ]


def test_a_good_source_gets_the_outputs_of_the_providers_create(mocks: LogSourceMocks) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    found = values(
        cloudwatch(),
        "id",
        "name",
        "type",
        "sources",
        "is_active",
        "verify",
        "tenant_id",
        "project_id",
        "created_at",
    )
    assert UUID_ID.fullmatch(found["id"])
    assert found["name"] == "checkout-logs"  # the resource name, as LogSource fills it in
    assert (found["type"], found["sources"]) == ("cloudwatch", ["/aws/lambda/checkout-api"])
    assert (found["is_active"], found["verify"]) == (True, False)  # check's defaults
    assert (found["tenant_id"], found["project_id"]) == ("tnt_kit", "prj_kit")
    created = datetime.strptime(found["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= created <= datetime.now(UTC) + timedelta(seconds=1)
    assert mocks.failures == []
    assert mocks.resources["checkout-logs"][0] == found["id"]


def test_the_programs_project_adopted_id_and_flags_win(mocks: LogSourceMocks) -> None:
    adopted = f"ls_{uuid.uuid4()}"
    found = values(
        cloudwatch(project_id="prj_other", adopt_id=adopted, is_active=False, verify=True),
        "id",
        "project_id",
        "is_active",
        "verify",
    )
    assert found["id"] == adopted
    assert found["project_id"] == "prj_other"
    assert (found["is_active"], found["verify"]) == (False, True)


def test_credentials_are_a_secret_output_and_nothing_else_is(mocks: LogSourceMocks) -> None:
    # Plain strings in the program: LogSource makes them secret, and so do the mocks' outputs.
    found = values(cloudwatch(), "credentials", "sources", "tenant_id")
    assert found["credentials"] == {"accessKeyId": "AKIAKIT", "secretAccessKey": AWS_SECRET}
    assert found["credentials.secret"] is True
    assert found["sources.secret"] is False
    assert found["tenant_id.secret"] is False


def test_other_types_and_calls_go_to_the_wrapped_mocks(
    mocks: LogSourceMocks, wrapped: RecordingMocks
) -> None:
    found: dict[str, Any] = {}

    def program() -> pulumi.Output[Any]:
        thing = pulumi.CustomResource("acme:index:Thing", "thing", {"size": 3, "arn": None})
        zones = pulumi.runtime.invoke("acme:index:getZones", {})
        source = cloudwatch()
        return pulumi.Output.all(thing.id, thing.arn, source.id).apply(  # type: ignore[attr-defined]
            lambda v: found.update(thing=v[0], arn=v[1], source=v[2], zones=zones.value)
        )

    run(program)
    assert wrapped.resources == ["acme:index:Thing"]
    assert wrapped.calls == ["acme:index:getZones"]
    assert (found["thing"], found["arn"]) == ("thing-1", "arn:thing")
    assert found["zones"] == {"zones": ["eu-1a"]}
    assert UUID_ID.fullmatch(found["source"])


def test_get_reads_a_source_by_id_without_a_check(mocks: LogSourceMocks) -> None:
    existing = f"ls_{uuid.uuid4()}"
    found = values(LogSource.get("existing", existing), "id", "tenant_id", "project_id")
    assert (found["id"], found["tenant_id"], found["project_id"]) == (
        existing,
        "tnt_kit",
        "prj_kit",
    )


def test_the_default_wrapped_mocks_echo_the_inputs() -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.set_mocks(LogSourceMocks(), preview=False)
    found: dict[str, Any] = {}
    try:

        def program() -> pulumi.Output[Any]:
            thing = pulumi.CustomResource("acme:index:Thing", "thing", {"size": 3})
            echoed = pulumi.runtime.invoke("acme:index:echo", {"x": 1})
            source = cloudwatch()
            return pulumi.Output.all(thing.id, thing.size, source.project_id).apply(  # type: ignore[attr-defined]
                lambda v: found.update(id=v[0], size=v[1], project=v[2], call=echoed.value)
            )

        run(program)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
        gc.collect()
    assert found == {"id": "thing_id", "size": 3, "project": "prj_test", "call": {"x": 1}}


def test_in_preview_values_not_known_yet_are_not_refused() -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    kit = LogSourceMocks()
    pulumi.runtime.set_mocks(kit, preview=True)
    try:

        def program() -> pulumi.Output[Any]:
            # `group` is not among the outputs the mocks give, so a preview does not know it.
            thing = pulumi.CustomResource("acme:index:Thing", "thing", {"group": None})
            group = thing.group  # type: ignore[attr-defined]
            source = cloudwatch(
                credentials={"accessKeyId": group, "secretAccessKey": "s"}, sources=[group]
            )
            return source.id

        run(program)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
        gc.collect()
    assert kit.failures == []
    assert UUID_ID.fullmatch(kit.resources["checkout-logs"][0])
