"""The types of `LogSource`'s arguments: the six source types and one credentials shape for each.

Each credentials shape is a `TypedDict`, so a plain dict literal is checked key by key (a
misspelt key, a missing required key, another type's key) and an editor completes the keys.
Every value is an `Input[str]`: a plain string, or an `Output` such as
`pulumi.Config().require_secret(...)`. The keys are the API's own (camelCase), never renamed.

`LogSourceArgs` holds the same arguments as a generated Pulumi SDK's args class does;
`LogSource("x", LogSourceArgs(...), opts)` is the same as `LogSource("x", ..., opts=opts)`.

`PROPERTIES` describes every argument once (Python name, state name, required, default, secret,
replaces on change, documentation); docs/provider.md's reference tables say the same.
"""

# No `from __future__ import annotations` here: a TypedDict only tells `NotRequired` keys apart
# at run time (`__optional_keys__`) when its annotations are real objects, not strings.

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, NotRequired, TypedDict, overload

import pulumi
from pulumi import Input, Output

__all__ = [
    "PROPERTIES",
    "AnyCredentials",
    "CloudWatchCredentials",
    "ComputedType",
    "Credentials",
    "DatadogCredentials",
    "ElasticCredentials",
    "GcpLoggingCredentials",
    "LogSourceArgs",
    "LogSourceType",
    "LokiCredentials",
    "Property",
    "SplunkCredentials",
]

LogSourceType = Literal["cloudwatch", "datadog", "loki", "splunk", "elastic", "gcp_logging"]
"""The platforms SigSentry reads logs from. Changing a source's type replaces it."""


class CloudWatchCredentials(TypedDict):
    """`type="cloudwatch"`: an AWS access key, optionally short-lived (STS)."""

    accessKeyId: Input[str]
    """The AWS access key id (`AKIA...`, or `ASIA...` for STS)."""
    secretAccessKey: Input[str]
    """The AWS secret access key."""
    sessionToken: NotRequired[Input[str]]
    """The STS session token, for temporary credentials."""


class DatadogCredentials(TypedDict):
    """`type="datadog"`: a Datadog API key and application key."""

    apiKey: Input[str]
    """The Datadog API key."""
    appKey: Input[str]
    """The Datadog application key (logs read access)."""


class LokiCredentials(TypedDict):
    """`type="loki"`: a Grafana Loki endpoint, with a key and tenant when it needs them."""

    host: Input[str]
    """The Loki base URL, an absolute `http://` or `https://` URL."""
    apiKey: NotRequired[Input[str]]
    """The key sent to Loki, when it requires one."""
    orgId: NotRequired[Input[str]]
    """The Loki tenant (`X-Scope-OrgID`), for a multi-tenant Loki."""


class SplunkCredentials(TypedDict):
    """`type="splunk"`: a Splunk management endpoint and a token."""

    host: Input[str]
    """The Splunk management URL, such as `https://splunk.example.com:8089`."""
    token: Input[str]
    """A Splunk authentication token."""


class ElasticCredentials(TypedDict):
    """`type="elastic"`: an Elasticsearch endpoint and either `username` + `password` or `apiKey`.

    The provider's check rejects both ways at once, or neither, before anything is sent.
    """

    host: Input[str]
    """The Elasticsearch URL, an absolute `http://` or `https://` URL."""
    username: NotRequired[Input[str]]
    """A user name, together with `password`."""
    password: NotRequired[Input[str]]
    """The password of `username`."""
    apiKey: NotRequired[Input[str]]
    """An Elasticsearch API key, instead of `username` + `password`."""


class GcpLoggingCredentials(TypedDict):
    """`type="gcp_logging"`: a Google Cloud service account key."""

    serviceAccountJson: Input[str]
    """The whole key file as one JSON string (`type`, `project_id`, `client_email`,
    `private_key`): `pulumi config set --secret gcpKey -- "$(cat key.json)"`."""


Credentials = (
    CloudWatchCredentials
    | DatadogCredentials
    | LokiCredentials
    | SplunkCredentials
    | ElasticCredentials
    | GcpLoggingCredentials
)
"""Any one type's credentials."""

AnyCredentials = Credentials | Mapping[str, Input[str]]
"""Typed credentials, or a mapping built at run time (checked by the provider, not by mypy)."""

ComputedType = Output[str] | Awaitable[str]
"""A `type` known only when the program runs (from another resource, say): the provider checks
the credentials against it before anything is sent."""


@dataclass(frozen=True)
class Property:
    """One argument of `LogSource`: how it is named, stored, defaulted and documented."""

    python: str
    state: str
    required: bool
    doc: str
    default: str | None = None
    secret: bool = False
    replaces: bool = False
    compared: bool = True
    """Whether `diff` compares old and new values alike (`projectId` and `adoptId` have rules
    of their own in the provider)."""
    filled: bool | None = None
    """The value `check` fills in when the program leaves it out, so diffs compare explicit
    values (None: nothing is filled in)."""


PROPERTIES: Final = (
    Property(
        "type",
        "type",
        True,
        "The platform: `cloudwatch`, `datadog`, `loki`, `splunk`, `elastic` or `gcp_logging`.",
        replaces=True,
    ),
    Property(
        "credentials",
        "credentials",
        True,
        "The platform credentials; their keys depend on `type` (`CloudWatchCredentials`, ...). "
        "Stored encrypted; SigSentry never returns them.",
        secret=True,
    ),
    Property(
        "sources",
        "sources",
        True,
        "1 to 100 distinct log groups, indexes or selectors SigSentry reads, each at most "
        "1,024 characters.",
    ),
    Property(
        "name",
        "name",
        False,
        "The source's label in SigSentry, 1 to 255 characters.",
        default="the resource name",
    ),
    Property(
        "is_active",
        "isActive",
        False,
        "False creates or keeps the source paused: analyses skip it.",
        default="`True`",
        filled=True,
    ),
    Property(
        "verify",
        "verify",
        False,
        "True runs SigSentry's credential test after each create and update; a failed test "
        "fails the operation (a new source is deleted again; an update's changed fields are put "
        "back).",
        default="`False`",
        filled=False,
    ),
    Property(
        "project_id",
        "projectId",
        False,
        "The SigSentry project (`prj_...`) the source belongs to.",
        default="`sigsentry:projectId`, else the API key's project",
        replaces=True,
        compared=False,
    ),
    Property(
        "account",
        "account",
        False,
        "The stack config namespace whose settings manage the source (`tenantb` reads "
        "`tenantb:apiKey`, `tenantb:apiUrl`, ...): one stack, several SigSentry accounts. Only "
        "the name is stored.",
        default="the `sigsentry:` settings",
        replaces=True,
    ),
    Property(
        "adopt_id",
        "adoptId",
        False,
        "An existing source (`ls_...`) to manage instead of creating one: the create finds it "
        "(refusing a missing one or one of another `type`) and updates it to match the program "
        "with one PUT, credentials included; its id stays. Removing or keeping it afterwards "
        "changes nothing; another id replaces the resource.",
        default="none (create a new source)",
        compared=False,
    ),
)

# What the resource, the provider and the policy pack take from the table, by state name.
STATE_NAMES: Final = {p.python: p.state for p in PROPERTIES}
SECRET_STATE: Final = tuple(p.state for p in PROPERTIES if p.secret)
REPLACING_STATE: Final = tuple(p.state for p in PROPERTIES if p.replaces)
COMPARED_STATE: Final = tuple(p.state for p in PROPERTIES if p.compared)
FILLED_DEFAULTS: Final = {p.state: p.filled for p in PROPERTIES if p.filled is not None}


@pulumi.input_type
class LogSourceArgs:
    """The arguments of a `LogSource`, as a generated Pulumi SDK's `XxxArgs` class holds them.

    ```python
    args = LogSourceArgs(type="datadog",
                         credentials={"apiKey": cfg.require_secret("ddApiKey"),
                                      "appKey": cfg.require_secret("ddAppKey")},
                         sources=["service:checkout-api"])
    LogSource("dd", args, pulumi.ResourceOptions(protect=True))
    ```
    """

    @overload
    def __init__(
        __self__,
        *,
        type: Input[Literal["cloudwatch"]],
        credentials: Input[CloudWatchCredentials],
        sources: Input[Sequence[Input[str]]],
        name: Input[str] | None = None,
        is_active: Input[bool] | None = None,
        verify: Input[bool] | None = None,
        project_id: Input[str] | None = None,
        account: Input[str] | None = None,
        adopt_id: Input[str] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        __self__,
        *,
        type: Input[Literal["datadog"]],
        credentials: Input[DatadogCredentials],
        sources: Input[Sequence[Input[str]]],
        name: Input[str] | None = None,
        is_active: Input[bool] | None = None,
        verify: Input[bool] | None = None,
        project_id: Input[str] | None = None,
        account: Input[str] | None = None,
        adopt_id: Input[str] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        __self__,
        *,
        type: Input[Literal["loki"]],
        credentials: Input[LokiCredentials],
        sources: Input[Sequence[Input[str]]],
        name: Input[str] | None = None,
        is_active: Input[bool] | None = None,
        verify: Input[bool] | None = None,
        project_id: Input[str] | None = None,
        account: Input[str] | None = None,
        adopt_id: Input[str] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        __self__,
        *,
        type: Input[Literal["splunk"]],
        credentials: Input[SplunkCredentials],
        sources: Input[Sequence[Input[str]]],
        name: Input[str] | None = None,
        is_active: Input[bool] | None = None,
        verify: Input[bool] | None = None,
        project_id: Input[str] | None = None,
        account: Input[str] | None = None,
        adopt_id: Input[str] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        __self__,
        *,
        type: Input[Literal["elastic"]],
        credentials: Input[ElasticCredentials],
        sources: Input[Sequence[Input[str]]],
        name: Input[str] | None = None,
        is_active: Input[bool] | None = None,
        verify: Input[bool] | None = None,
        project_id: Input[str] | None = None,
        account: Input[str] | None = None,
        adopt_id: Input[str] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        __self__,
        *,
        type: Input[Literal["gcp_logging"]],
        credentials: Input[GcpLoggingCredentials],
        sources: Input[Sequence[Input[str]]],
        name: Input[str] | None = None,
        is_active: Input[bool] | None = None,
        verify: Input[bool] | None = None,
        project_id: Input[str] | None = None,
        account: Input[str] | None = None,
        adopt_id: Input[str] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        __self__,
        *,
        type: ComputedType,
        credentials: Input[Mapping[str, Input[str]]],
        sources: Input[Sequence[Input[str]]],
        name: Input[str] | None = None,
        is_active: Input[bool] | None = None,
        verify: Input[bool] | None = None,
        project_id: Input[str] | None = None,
        account: Input[str] | None = None,
        adopt_id: Input[str] | None = None,
    ) -> None: ...
    def __init__(
        __self__,
        *,
        type: Input[str],
        credentials: Input[AnyCredentials],
        sources: Input[Sequence[Input[str]]],
        name: Input[str] | None = None,
        is_active: Input[bool] | None = None,
        verify: Input[bool] | None = None,
        project_id: Input[str] | None = None,
        account: Input[str] | None = None,
        adopt_id: Input[str] | None = None,
    ) -> None:
        pulumi.set(__self__, "type", type)
        pulumi.set(__self__, "credentials", credentials)
        pulumi.set(__self__, "sources", sources)
        if name is not None:
            pulumi.set(__self__, "name", name)
        if is_active is not None:
            pulumi.set(__self__, "is_active", is_active)
        if verify is not None:
            pulumi.set(__self__, "verify", verify)
        if project_id is not None:
            pulumi.set(__self__, "project_id", project_id)
        if account is not None:
            pulumi.set(__self__, "account", account)
        if adopt_id is not None:
            pulumi.set(__self__, "adopt_id", adopt_id)

    @property
    @pulumi.getter
    def type(self) -> Input[str]:
        """The platform (replaces the source when changed)."""
        return pulumi.get(self, "type")  # type: ignore[no-any-return]

    @type.setter
    def type(self, value: Input[str]) -> None:
        pulumi.set(self, "type", value)

    @property
    @pulumi.getter
    def credentials(self) -> Input[AnyCredentials]:
        """The platform credentials; keys per `type` (always secret)."""
        return pulumi.get(self, "credentials")  # type: ignore[no-any-return]

    @credentials.setter
    def credentials(self, value: Input[AnyCredentials]) -> None:
        pulumi.set(self, "credentials", value)

    @property
    @pulumi.getter
    def sources(self) -> Input[Sequence[Input[str]]]:
        """Log groups, indexes or selectors SigSentry reads."""
        return pulumi.get(self, "sources")  # type: ignore[no-any-return]

    @sources.setter
    def sources(self, value: Input[Sequence[Input[str]]]) -> None:
        pulumi.set(self, "sources", value)

    @property
    @pulumi.getter
    def name(self) -> Input[str] | None:
        """The label in SigSentry; defaults to the resource name."""
        return pulumi.get(self, "name")  # type: ignore[no-any-return]

    @name.setter
    def name(self, value: Input[str] | None) -> None:
        pulumi.set(self, "name", value)

    @property
    @pulumi.getter(name="isActive")
    def is_active(self) -> Input[bool] | None:
        """False pauses the source; defaults to True."""
        return pulumi.get(self, "is_active")  # type: ignore[no-any-return]

    @is_active.setter
    def is_active(self, value: Input[bool] | None) -> None:
        pulumi.set(self, "is_active", value)

    @property
    @pulumi.getter
    def verify(self) -> Input[bool] | None:
        """True runs the credential test after each create and update; defaults to False."""
        return pulumi.get(self, "verify")  # type: ignore[no-any-return]

    @verify.setter
    def verify(self, value: Input[bool] | None) -> None:
        pulumi.set(self, "verify", value)

    @property
    @pulumi.getter(name="projectId")
    def project_id(self) -> Input[str] | None:
        """The SigSentry project (replaces the source when changed)."""
        return pulumi.get(self, "project_id")  # type: ignore[no-any-return]

    @project_id.setter
    def project_id(self, value: Input[str] | None) -> None:
        pulumi.set(self, "project_id", value)

    @property
    @pulumi.getter
    def account(self) -> Input[str] | None:
        """The config namespace of the account managing the source (replaces it when changed)."""
        return pulumi.get(self, "account")  # type: ignore[no-any-return]

    @account.setter
    def account(self, value: Input[str] | None) -> None:
        pulumi.set(self, "account", value)

    @property
    @pulumi.getter(name="adoptId")
    def adopt_id(self) -> Input[str] | None:
        """An existing source (`ls_...`) to take over on create instead of making a new one."""
        return pulumi.get(self, "adopt_id")  # type: ignore[no-any-return]

    @adopt_id.setter
    def adopt_id(self, value: Input[str] | None) -> None:
        pulumi.set(self, "adopt_id", value)
