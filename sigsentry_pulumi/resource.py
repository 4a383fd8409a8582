"""`LogSource`: a SigSentry log source as a Pulumi resource.

```python
src = LogSource(
    "prod-cloudwatch",
    type="cloudwatch",
    credentials={"accessKeyId": cfg.require_secret("awsKeyId"),
                 "secretAccessKey": cfg.require_secret("awsSecret")},
    sources=["/aws/lambda/checkout-api"],
)
```

Python names are snake_case; the names stored in state are the API's camelCase (`isActive`,
`projectId`, `tenantId`, `createdAt`), mapped by `translate_input_property` /
`translate_output_property` from an explicit table, so credential keys inside the
`credentials` map are never renamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Unpack, overload

import pulumi
from pulumi import Input, Output, ResourceOptions
from pulumi.dynamic import Resource

from ._constants import RESOURCE_MODULE, RESOURCE_NAME
from ._types import (
    COMPUTED_OUTPUTS,
    IDENTITY_KEY,
    PROPERTIES,
    REPLACING_STATE,
    SECRET_STATE,
    STATE_NAMES,
    CloudWatchArgs,
    ComputedTypeArgs,
    DatadogArgs,
    ElasticArgs,
    GcpLoggingArgs,
    LogSourceArgs,
    LokiArgs,
    SplunkArgs,
    bind_arguments,
    camel,
)
from .provider import LogSourceProvider

__all__ = ["LogSource"]

# Inputs from the property table, and the outputs SigSentry computes besides them: only these
# names are translated, never a key inside `credentials`.
_TO_STATE: Final = {
    python: camel(python) for python in (*STATE_NAMES, *COMPUTED_OUTPUTS) if camel(python) != python
}
_TO_PYTHON: Final = {state: python for python, state in _TO_STATE.items()}

SECRET_OUTPUTS: Final = SECRET_STATE
REPLACE_ON_CHANGES: Final = REPLACING_STATE


class LogSource(Resource, module=RESOURCE_MODULE, name=RESOURCE_NAME):
    """A log source SigSentry reads from: CloudWatch, Datadog, Loki, Splunk, Elastic or GCP.

    Type token `pulumi-python:dynamic/sigsentry:LogSource`. `credentials` is always secret.
    Changing `type`, `project_id` or `account`, or setting `adopt_id` to another source's id,
    replaces the source; anything else updates it in place.
    """

    type: Output[str]
    """One of cloudwatch, datadog, loki, splunk, elastic, gcp_logging."""
    name: Output[str]
    """The source's label in SigSentry (defaults to the resource name)."""
    credentials: Output[dict[str, str]]
    """The platform credentials (secret; SigSentry never returns them)."""
    sources: Output[list[str]]
    """Log groups, indexes or selectors SigSentry reads."""
    is_active: Output[bool]
    """False pauses the source: analyses skip it."""
    verify: Output[bool]
    """True runs SigSentry's credential test after each create and update."""
    project_id: Output[str]
    """The SigSentry project the source belongs to."""
    tenant_id: Output[str]
    """The SigSentry tenant the source belongs to."""
    created_at: Output[str]
    """When SigSentry created the source (UTC, ISO 8601)."""
    account: Output[str | None]
    """The account whose settings manage the source (None: the `sigsentry:` settings)."""
    adopt_id: Output[str | None]
    """The existing source (`ls_...`) this resource took over on create, if any."""

    def __init_subclass__(
        cls, module: str = RESOURCE_MODULE, name: str = RESOURCE_NAME, **kwargs: Any
    ) -> None:
        # `pulumi.dynamic.Resource` would give a subclass the token `dynamic:Resource`, which
        # changes its URNs and hides it from policy packs: a subclass keeps LogSource's token.
        super().__init_subclass__(module=module, name=name, **kwargs)

    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        opts: ResourceOptions | None = None,
        **args: Unpack[CloudWatchArgs],
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        opts: ResourceOptions | None = None,
        **args: Unpack[DatadogArgs],
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        opts: ResourceOptions | None = None,
        **args: Unpack[LokiArgs],
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        opts: ResourceOptions | None = None,
        **args: Unpack[SplunkArgs],
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        opts: ResourceOptions | None = None,
        **args: Unpack[ElasticArgs],
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        opts: ResourceOptions | None = None,
        **args: Unpack[GcpLoggingArgs],
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        opts: ResourceOptions | None = None,
        **args: Unpack[ComputedTypeArgs],
    ) -> None: ...
    @overload
    def __init__(
        self, resource_name: str, args: LogSourceArgs, opts: ResourceOptions | None = None
    ) -> None: ...
    def __init__(self, resource_name: str, *args: Any, **kwargs: Any) -> None:
        """Declare a log source: keyword arguments, or a `LogSourceArgs` and options.

        Args:
            resource_name: The resource's name in the stack (and the default `name`).
            type: Required; replaces the source when changed. `cloudwatch`, `datadog`, `loki`,
                `splunk`, `elastic` or `gcp_logging`.
            credentials: Required; secret. The keys of the type's credentials class
                (`CloudWatchCredentials`, `DatadogCredentials`, `LokiCredentials`,
                `SplunkCredentials`, `ElasticCredentials`, `GcpLoggingCredentials`); values are
                strings or `Output`s such as `pulumi.Config().require_secret(...)`.
            sources: Required. 1 to 100 distinct log groups, indexes or selectors, each at
                most 1,024 characters.
            name: Optional, default the resource name. The label in SigSentry (1 to 255
                characters).
            is_active: Optional, default `True`. `False` keeps the source paused.
            verify: Optional, default `False`. `True` runs SigSentry's credential test after
                each create and update; a failure fails the operation.
            project_id: Optional, default `sigsentry:projectId`, else the API key's project;
                replaces the source when changed.
            account: Optional, default the `sigsentry:` settings. The stack config namespace
                whose settings manage this source (`tenantb` reads `tenantb:apiKey`,
                `tenantb:apiUrl`, ...), so one stack can hold sources of several SigSentry
                accounts; only the name is stored. Replaces the source when changed.
            adopt_id: Optional. An existing source (`ls_...`) to manage instead of creating
                one: the create finds it in the project, refuses a missing one or one of
                another `type`, and updates it to match the program with one PUT (credentials
                included); its id stays. Once adopted, removing or keeping `adopt_id` changes
                nothing; another id replaces the resource (the managed source is deleted).
            opts: Pulumi resource options; `credentials` stays secret and the arguments
                that replace the source keep doing so, whatever they say.
        """
        if args or "args" in kwargs:
            inputs, opts = _from_args(args, kwargs)
        else:
            opts = kwargs.pop("opts", None)
            inputs = bind_arguments("LogSource", kwargs)
        inputs["name"] = resource_name if inputs["name"] is None else inputs["name"]
        inputs["credentials"] = Output.secret(inputs["credentials"])
        props = {**_props(inputs), IDENTITY_KEY: _identity(resource_name, opts)}
        _claim(inputs.get("adopt_id"), resource_name)
        self._register(resource_name, props, opts)

    @classmethod
    def get(
        cls,
        resource_name: str,
        id: Input[str],
        opts: ResourceOptions | None = None,
        *,
        account: Input[str] | None = None,
        project_id: Input[str] | None = None,
    ) -> LogSource:
        """Read an existing log source by id (`ls_...`) into the program without managing it.

        `account` names the settings to read it with, as for a new `LogSource`. `project_id`
        names the project to look in (`prj_...`): needed when the API key is tenant-scoped and
        neither `sigsentry:projectId` nor the account's `projectId` is set, or to read a source
        of another project. `credentials` is never readable: SigSentry does not return them, so
        the read resource has no `credentials` output. To manage the source instead, declare
        a `LogSource` with `adopt_id`.
        """
        source = cls.__new__(cls)
        merged = ResourceOptions.merge(opts, ResourceOptions(id=id))
        props = _props({"account": account, "project_id": project_id})
        source._register(resource_name, props, merged)
        return source

    def _register(
        self, resource_name: str, props: dict[str, Any], opts: ResourceOptions | None
    ) -> None:
        # The user's options come last so their scalars win; the lists are concatenated, so the
        # secret and replacement settings are always kept.
        required = ResourceOptions(
            additional_secret_outputs=list(SECRET_OUTPUTS),
            replace_on_changes=list(REPLACE_ON_CHANGES),
        )
        super().__init__(LogSourceProvider(), resource_name, props, required.merge(opts))

    def translate_input_property(self, prop: str) -> str:
        return _TO_STATE.get(prop, prop)

    def translate_output_property(self, prop: str) -> str:
        return _TO_PYTHON.get(prop, prop)


def _from_args(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[dict[str, Any], ResourceOptions | None]:
    """The inputs of `LogSource(name, LogSourceArgs(...), opts)`, with the options."""
    rest = dict(kwargs)
    positional = list(args)
    holder = positional.pop(0) if positional else rest.pop("args", None)
    opts = positional.pop(0) if positional else rest.pop("opts", None)
    if not isinstance(holder, LogSourceArgs) or positional or rest:
        raise TypeError(
            "LogSource takes a resource name and keyword arguments, or a resource name, a "
            "LogSourceArgs and optional ResourceOptions"
        )
    return {p.python: getattr(holder, p.python) for p in PROPERTIES}, opts


def _props(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Every input and output name, so each becomes an `Output` attribute of the resource."""
    return {**dict.fromkeys(STATE_NAMES), **inputs, **dict.fromkeys(COMPUTED_OUTPUTS)}


class _Claims:
    """adopt id -> the resource adopting it, in the program run `run` names (the program's
    only state: a program process may run the program more than once, as tests do)."""

    def __init__(self) -> None:
        self.run: object = None
        self.ids: dict[str, str] = {}


_claims = _Claims()


def _claim(adopt_id: object, resource_name: str) -> None:
    """Refuse a second resource adopting the same source, while the program runs (so a preview
    fails before any write). An id known only later is checked by the provider's `check`.

    Two checks, one rule: this one fails at the very `LogSource(...)` line, in any program run
    (with the testing kit's mocks or any other) and before the engine starts the plugin; the
    provider's `check` (`_runtime.adopters`) sees the ids that are `Output`s here, known only
    once their resources exist. Neither can see another stack or another process.
    """
    if not isinstance(adopt_id, str):
        return
    run = pulumi.runtime.settings.SETTINGS.monitor  # a new one for every program run
    if _claims.run is not run:
        _claims.run, _claims.ids = run, {}
    other = _claims.ids.setdefault(adopt_id, resource_name)
    if other != resource_name:
        raise ValueError(
            f"log source {adopt_id} is already adopted by the resource {other!r} of this stack; "
            f"one source can be managed by one resource only: remove adopt_id={adopt_id!r} from "
            f"{resource_name!r} or from {other!r}"
        )


def _identity(resource_name: str, opts: ResourceOptions | None) -> Input[str]:
    """What names the resource in its stack, as its URN does: project, stack, parent, name.

    The provider derives each create's Idempotency-Key from it (the plugin never sees the URN).
    """
    own = f"{pulumi.get_project()}/{pulumi.get_stack()}/{RESOURCE_MODULE}:{RESOURCE_NAME}"
    parent = opts.parent if opts is not None else None
    if parent is None:
        return f"{own}/{resource_name}"
    # The parent's URN as a value only, carrying no dependency on the parent: the SDK turns a
    # dependency on a component into one on each of its children, this resource included,
    # and would fail the program with "circular dependency".
    urn = parent.urn
    parent_urn: Output[str] = Output(set(), _value_of(urn), urn.is_known(), urn.is_secret())
    return Output.concat(own, "/", parent_urn, "/", resource_name)


async def _value_of(output: Output[str]) -> str:
    """The output's value; empty while it is not known (a preview), when it is marked so."""
    return await output.future() or ""
