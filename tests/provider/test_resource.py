"""The program side: what `LogSource` registers, how `__provider` is pickled, secrets and options.

Programs run under `pulumi.runtime.set_mocks` with a `MockMonitor` subclass that sees each raw
RegisterResourceRequest and then applies its registration options as the engine does: outputs
named in `additionalSecretOutputs` come back secret, and the mocks hand back plaintext, as the
provider plugin does.
"""

from __future__ import annotations

import asyncio
import base64
import gc
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import mocks, rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await

from provider.cases import TYPE_TOKEN
from sigsentry_pulumi import LogSource, LogSourceArgs, LogSourceProvider

KEY = "ss_secret_program-test-key-0451"
AWS_SECRET = "wJalr-program-test-secret"


class EchoMocks(pulumi.runtime.Mocks):
    """Returns inputs as outputs in plaintext, plus the fields SigSentry computes."""

    def __init__(self) -> None:
        self.resources: list[mocks.MockResourceArgs] = []

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        outputs = {
            key: rpc.unwrap_rpc_secret(value)
            for key, value in args.inputs.items()
            if key != "__provider"
        }
        outputs.update(tenantId="tnt_mock", projectId="prj_mock", createdAt="2026-04-25T14:30:12Z")
        if args.resource_id:  # a read (`LogSource.get`): the "live" record
            outputs.update(type="datadog", name="live-name", sources=["s"], isActive=False)
        return (args.resource_id or "ls_00000000-0000-4000-8000-000000000001", outputs)

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


class EngineLikeMonitor(mocks.MockMonitor):
    """Records RegisterResource requests and applies additionalSecretOutputs to the response."""

    def __init__(self, echo: EchoMocks) -> None:
        super().__init__(echo)
        self.requests: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:
        self.requests.append(request)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        secret_names = set(request.additionalSecretOutputs)
        if not secret_names:
            return response
        outputs = rpc.deserialize_properties(response.object, keep_internal=True)
        marked = {
            key: {rpc._special_sig_key: rpc._special_secret_sig, "value": value}
            if key in secret_names
            else value
            for key, value in outputs.items()
        }
        loop = asyncio.new_event_loop()
        try:
            struct = loop.run_until_complete(rpc.serialize_properties(marked, {}))
        finally:
            loop.close()
        return resource_pb2.RegisterResourceResponse(
            urn=response.urn, id=response.id, object=struct
        )


@pytest.fixture
def engine() -> Iterator[tuple[EchoMocks, EngineLikeMonitor]]:
    # A loop of our own: whatever ran before may have closed or unset the main thread's loop.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    echo = EchoMocks()
    monitor = EngineLikeMonitor(echo)
    pulumi.runtime.set_mocks(echo, monitor=monitor, preview=False)
    try:
        yield echo, monitor
    finally:
        asyncio.set_event_loop(None)
        loop.close()
        # The mock runtime leaves futures behind whose finalizers log a traceback. Collect them
        # now: collected later, inside an unrelated `ast.parse` (pytest's assertion rewriting),
        # Python 3.11's traceback formatting re-enters the parser and raises "AST constructor
        # recursion depth mismatch".
        gc.collect()


def run(program: Any) -> None:
    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]


def resolve(output: pulumi.Output[Any]) -> Any:
    return _sync_await(output.future())


def is_secret(output: pulumi.Output[Any]) -> bool:
    return bool(_sync_await(output.is_secret()))


def cloudwatch(name: str = "prod-cloudwatch", **kwargs: Any) -> LogSource:
    return LogSource(
        name,
        type="cloudwatch",
        credentials={"accessKeyId": "AKIAPROGRAM", "secretAccessKey": AWS_SECRET},
        sources=["/aws/lambda/checkout-api"],
        **kwargs,
    )


def test_serialized_provider_is_small_by_reference_and_holds_no_key() -> None:
    provider = LogSourceProvider()
    provider.configure(ConfigureRequest(Config({"sigsentry:apiKey": KEY}, "proj")))
    serialized = serialize_provider(provider)
    assert len(serialized) < 500
    raw = base64.b64decode(serialized)
    assert b"sigsentry_pulumi.provider" in raw and b"LogSourceProvider" in raw
    assert KEY.encode() not in raw
    assert vars(provider) == {}


def test_registration_uses_the_type_token_and_state_names(
    engine: tuple[EchoMocks, EngineLikeMonitor],
) -> None:
    echo, _ = engine
    sources: list[LogSource] = []
    run(lambda: sources.append(cloudwatch(is_active=False, project_id="prj_1", verify=True)))
    (registered,) = echo.resources
    assert registered.typ == TYPE_TOKEN
    assert set(registered.inputs) == {
        "__provider",
        "type",
        "name",
        "credentials",
        "sources",
        "isActive",
        "verify",
        "projectId",
        "resourceIdentity",
    }
    assert registered.inputs["name"] == "prod-cloudwatch"  # defaults to the resource name
    # what keys its creates: project, stack, type and name, as its URN has them
    assert registered.inputs["resourceIdentity"] == (
        f"{pulumi.get_project()}/{pulumi.get_stack()}/sigsentry:LogSource/prod-cloudwatch"
    )
    provider = rpc.unwrap_rpc_secret(registered.inputs["__provider"])
    assert len(provider) < 500 and KEY not in provider


def test_a_subclass_keeps_the_type_token(engine: tuple[EchoMocks, EngineLikeMonitor]) -> None:
    class TeamLogSource(LogSource):
        """A team's own defaults on top of LogSource."""

    echo, _ = engine
    run(
        lambda: TeamLogSource(
            "team", type="loki", credentials={"host": "https://loki.example.com"}, sources=["a"]
        )
    )
    (registered,) = echo.resources
    assert registered.typ == TYPE_TOKEN


def test_credentials_come_back_secret_and_attributes_are_typed_outputs(
    engine: tuple[EchoMocks, EngineLikeMonitor],
) -> None:
    _, monitor = engine
    sources: list[LogSource] = []
    run(lambda: sources.append(cloudwatch(name="custom")))
    (src,) = sources
    (request,) = [r for r in monitor.requests if r.type == TYPE_TOKEN]
    assert list(request.additionalSecretOutputs) == ["credentials"]
    assert list(request.replaceOnChanges) == ["type", "projectId", "account"]
    assert is_secret(src.credentials)
    assert resolve(src.credentials)["secretAccessKey"] == AWS_SECRET
    assert not is_secret(src.name)
    assert resolve(src.name) == "custom"  # the resource name, as no name= was given
    assert resolve(src.tenant_id) == "tnt_mock"
    assert resolve(src.project_id) == "prj_mock"
    assert resolve(src.created_at) == "2026-04-25T14:30:12Z"
    assert isinstance(src.is_active, pulumi.Output)


def test_credentials_stay_secret_even_when_given_as_plain_strings(
    engine: tuple[EchoMocks, EngineLikeMonitor],
) -> None:
    echo, _ = engine
    run(cloudwatch)
    (registered,) = echo.resources
    wrapped = registered.inputs["credentials"]
    assert wrapped[rpc._special_sig_key] == rpc._special_secret_sig


def test_user_options_are_merged_never_replaced(
    engine: tuple[EchoMocks, EngineLikeMonitor],
) -> None:
    _, monitor = engine
    options = pulumi.ResourceOptions(
        additional_secret_outputs=["name"],
        replace_on_changes=["sources"],
        protect=True,
        ignore_changes=["is_active"],
    )
    run(lambda: cloudwatch(opts=options))
    (request,) = [r for r in monitor.requests if r.type == TYPE_TOKEN]
    assert set(request.additionalSecretOutputs) == {"credentials", "name"}
    assert set(request.replaceOnChanges) == {"type", "projectId", "account", "sources"}
    assert request.protect is True
    assert list(request.ignoreChanges) == ["isActive"]  # translated to the state name
    assert options.additional_secret_outputs == ["name"]  # the caller's object is untouched


def test_get_reads_an_existing_source(engine: tuple[EchoMocks, EngineLikeMonitor]) -> None:
    echo, _ = engine
    found: list[LogSource] = []
    source_id = "ls_00000000-0000-4000-8000-00000000abcd"
    run(lambda: found.append(LogSource.get("existing", source_id)))
    (read,) = echo.resources
    assert read.typ == TYPE_TOKEN and read.resource_id == source_id
    assert "__provider" in read.inputs
    (src,) = found
    assert resolve(src.id) == source_id
    assert resolve(src.name) == "live-name"
    assert resolve(src.is_active) is False


def test_an_args_class_registers_what_the_keywords_register(
    engine: tuple[EchoMocks, EngineLikeMonitor],
) -> None:
    echo, monitor = engine
    args = LogSourceArgs(
        type="cloudwatch",
        credentials={"accessKeyId": "AKIAPROGRAM", "secretAccessKey": AWS_SECRET},
        sources=["/aws/lambda/checkout-api"],
        is_active=False,
    )
    args.project_id = "prj_1"
    run(lambda: LogSource("same", args, pulumi.ResourceOptions(protect=True)))
    run(lambda: cloudwatch("same", is_active=False, project_id="prj_1"))
    with_args, with_keywords = echo.resources
    assert with_args.inputs["name"] == "same"  # defaults to the resource name too
    assert with_args.inputs["credentials"][rpc._special_sig_key] == rpc._special_secret_sig
    assert with_args.inputs == with_keywords.inputs
    (request, _) = [r for r in monitor.requests if r.type == TYPE_TOKEN]
    assert request.protect is True
    assert list(request.additionalSecretOutputs) == ["credentials"]


def test_anything_but_keywords_or_an_args_class_is_refused() -> None:
    with pytest.raises(TypeError, match="LogSourceArgs"):
        LogSource("x", {"type": "loki"})  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"^LogSource\(\) missing .* argument: 'credentials'$"):
        LogSource("x", type="loki", sources=["a"])  # type: ignore[call-overload]


def configured_provider(values: dict[str, str]) -> LogSourceProvider:
    provider = LogSourceProvider()
    provider.configure(ConfigureRequest(Config(values, "proj")))
    return provider


DATADOG = {
    "type": "datadog",
    "name": "dd",
    "credentials": {"apiKey": "a", "appKey": "b"},
    "sources": ["service:a"],
}


@pytest.mark.parametrize("account", ["sigsentry", "tenant b", "1tenant", ""])
def test_check_refuses_a_name_that_is_not_an_account_namespace(account: str) -> None:
    provider = configured_provider({"sigsentry:apiKey": KEY})
    result = provider.check({}, {**DATADOG, "account": account})
    ((field, reason),) = [(f.property, f.reason) for f in result.failures]
    assert field == "account" and "config namespace other than `sigsentry`" in reason


def test_a_named_account_never_falls_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGSENTRY_API_KEY", KEY)
    provider = configured_provider({"tenantb:apiUrl": "http://127.0.0.1:9"})
    assert provider.check({}, DATADOG).failures == []  # the default account has the env key
    ((field, reason),) = [
        (f.property, f.reason)
        for f in provider.check({}, {**DATADOG, "account": "tenantb"}).failures
    ]
    assert field == ""
    assert reason == (
        "No API key is set for the SigSentry account 'tenantb'. Run `pulumi config set --secret "
        "tenantb:apiKey <key>` (a named account never reads SIGSENTRY_API_KEY)"
    )


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("tenantb:apiKey", KEY + "\nX-Injected: 1", "The SigSentry API key (tenantb:apiKey)"),
        ("tenantb:apiUrl", "127.0.0.1:8787", "tenantb:apiUrl must be an absolute http://"),
        ("tenantb:timeout", "soon", "tenantb:timeout must be a number"),
    ],
)
def test_a_named_accounts_broken_setting_fails_check_under_its_own_name(
    setting: str, value: str, expected: str
) -> None:
    values = {"sigsentry:apiKey": KEY, "tenantb:apiKey": KEY, setting: value}
    provider = configured_provider(values)
    assert provider.check({}, DATADOG).failures == []
    ((field, reason),) = [
        (f.property, f.reason)
        for f in provider.check({}, {**DATADOG, "account": "tenantb"}).failures
    ]
    assert field == "" and reason.startswith(expected), reason
    assert "sigsentry:" not in reason and value not in reason and KEY not in reason
