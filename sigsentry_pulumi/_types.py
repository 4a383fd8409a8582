"""The arguments of `LogSource`, declared once: the property table and the types derived from it.

`PROPERTIES` describes every argument once (Python name, required, default, secret, replaces on
change, documentation; the state name is its camelCase, `camel`); docs/provider.md's reference
table is rendered from it. Everything else that lists the arguments is derived from it or
checked against it (tests/typing/test_reference.py): the keyword `TypedDict`s below, the
runtime signature and binding of `LogSource` and `LogSourceArgs`, the state names the resource
registers, the keys the provider compares, replaces on and fills, and the input keys.

Each credentials shape is a `TypedDict`, so a plain dict literal is checked key by key (a
misspelt key, a missing required key, another type's key) and an editor completes the keys.
Every value is an `Input[str]`: a plain string, or an `Output` such as
`pulumi.Config().require_secret(...)`. The keys are the API's own (camelCase), never renamed.

The keyword arguments are typed by one `TypedDict` per type (`CloudWatchArgs`, ...), each the
shared `SharedArgs` plus that type's `type` literal and credentials shape; `LogSource` and
`LogSourceArgs` take them with PEP 692's `**kwargs: Unpack[...]`, one overload per type.
`LogSourceArgs` holds the same arguments as a generated Pulumi SDK's args class does;
`LogSource("x", LogSourceArgs(...), opts)` is the same as `LogSource("x", ..., opts=opts)`.
"""

# No `from __future__ import annotations` here: a TypedDict only tells `NotRequired` keys apart
# at run time (`__optional_keys__`) when its annotations are real objects, not strings.

import inspect
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NotRequired, Required, TypedDict, TypeVar, Unpack, overload

import pulumi
from pulumi import Input, Output

__all__ = [
    "PROPERTIES",
    "AnyCredentials",
    "AnyTypeArgs",
    "CloudWatchArgs",
    "CloudWatchCredentials",
    "ComputedType",
    "ComputedTypeArgs",
    "Credentials",
    "DatadogArgs",
    "DatadogCredentials",
    "ElasticArgs",
    "ElasticCredentials",
    "GcpLoggingArgs",
    "GcpLoggingCredentials",
    "LogSourceArgs",
    "LogSourceType",
    "LokiArgs",
    "LokiCredentials",
    "Property",
    "SharedArgs",
    "SplunkArgs",
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


def camel(python_name: str) -> str:
    """The API's (and the state's) name for a Python name: `is_active` -> `isActive`.

    The one snake_case to camelCase rule of the package: the state names of `PROPERTIES`, the
    outputs SigSentry computes, the request bodies and the response models all use it.
    """
    first, *rest = python_name.split("_")
    return first + "".join(word.capitalize() for word in rest)


@dataclass(frozen=True)
class Property:
    """One argument of `LogSource`: how it is named, stored, defaulted and documented."""

    python: str
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
    api: bool = True
    """Whether the API takes it (`account` and `adopt_id` are the provider's own)."""

    @property
    def state(self) -> str:
        """The name in the stack's state and in the API: the camelCase of `python`."""
        return camel(self.python)


PROPERTIES: Final = (
    Property(
        "type",
        True,
        "The platform: `cloudwatch`, `datadog`, `loki`, `splunk`, `elastic` or `gcp_logging`.",
        replaces=True,
    ),
    Property(
        "name",
        False,
        "The source's label in SigSentry, 1 to 255 characters.",
        default="the resource name",
    ),
    Property(
        "credentials",
        True,
        "The platform credentials; their keys depend on `type` (`CloudWatchCredentials`, ...). "
        "Stored encrypted; SigSentry never returns them.",
        secret=True,
    ),
    Property(
        "sources",
        True,
        "1 to 100 distinct log groups, indexes or selectors SigSentry reads, each at most "
        "1,024 characters.",
    ),
    Property(
        "is_active",
        False,
        "False creates or keeps the source paused: analyses skip it.",
        default="`True`",
        filled=True,
    ),
    Property(
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
        False,
        "The SigSentry project (`prj_...`) the source belongs to.",
        default="`sigsentry:projectId`, else the API key's project",
        replaces=True,
        compared=False,
    ),
    Property(
        "account",
        False,
        "The stack config namespace whose settings manage the source (`tenantb` reads "
        "`tenantb:apiKey`, `tenantb:apiUrl`, ...): one stack, several SigSentry accounts. Only "
        "the name is stored.",
        default="the `sigsentry:` settings",
        replaces=True,
        api=False,
    ),
    Property(
        "adopt_id",
        False,
        "An existing source (`ls_...`) to manage instead of creating one: the create finds it "
        "(refusing a missing one or one of another `type`) and updates it to match the program "
        "with one PUT, credentials included; its id stays. Removing or keeping it afterwards "
        "changes nothing; another id replaces the resource.",
        default="none (create a new source)",
        compared=False,
        api=False,
    ),
)
"""In the order of a create's body (`type`, `name`, `credentials`, `sources`), then the other
fields the API takes, then the provider's own: the order keyword lists and messages show."""

COMPUTED_OUTPUTS: Final = ("tenant_id", "created_at")
"""What SigSentry computes besides the inputs (and the id): outputs of `LogSource` only."""

# What the resource, the provider, the rules and the policy pack take from the table.
STATE_NAMES: Final = {p.python: p.state for p in PROPERTIES}
SECRET_STATE: Final = tuple(p.state for p in PROPERTIES if p.secret)
REPLACING_STATE: Final = tuple(p.state for p in PROPERTIES if p.replaces)
COMPARED_STATE: Final = tuple(p.state for p in PROPERTIES if p.compared)
FILLED_DEFAULTS: Final = {p.state: p.filled for p in PROPERTIES if p.filled is not None}
API_STATE: Final = tuple(p.state for p in PROPERTIES if p.api)
"""The inputs the API's rules (`_rules`) cover."""

# The input keys beside the properties: what `LogSource` and the engine add to them.
ACCOUNT_KEY: Final = STATE_NAMES["account"]
"""The input naming the config namespace of the account managing the source."""
ADOPT_KEY: Final = STATE_NAMES["adopt_id"]
"""The input naming an existing source to adopt on create instead of a POST."""
ADOPT_PREFIX: Final = "ls_"
"""How every log source id starts."""
IDENTITY_KEY: Final = "resourceIdentity"
"""The input naming the resource in its stack, which keys its creates (see the provider)."""
PROVIDER_KEY: Final = "__provider"
"""The input the SDK adds: the pickled provider object."""


def check_keywords(
    function: str, given: Mapping[str, Any], names: Sequence[str], required: Sequence[str]
) -> None:
    """Raise Python's own TypeError for a call of `function` with keyword-only parameters
    `names` (`required` among them) when `given` does not fit: an unknown keyword first, then
    the required ones missing. For `**kwargs: Unpack[...]`, which only type checkers check."""
    for key in given:
        if key not in names:
            raise TypeError(f"{function}() got an unexpected keyword argument {key!r}")
    missing = [repr(name) for name in required if name not in given]
    if not missing:
        return
    if len(missing) <= 2:
        listed = " and ".join(missing)
    else:
        listed = ", ".join(missing[:-1]) + ", and " + missing[-1]
    plural = "s" if len(missing) > 1 else ""
    raise TypeError(
        f"{function}() missing {len(missing)} required keyword-only argument{plural}: {listed}"
    )


def bind_arguments(function: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every argument by Python name, `None` for one left out, as a call binds keyword-only ones
    (`function` names the callable in the errors, which are Python's own: `check_keywords`)."""
    required = [p.python for p in PROPERTIES if p.required]
    check_keywords(function, given, list(STATE_NAMES), required)
    return {p.python: given.get(p.python) for p in PROPERTIES}


_F = TypeVar("_F")
_C = TypeVar("_C")


def keyword_signature(function: _F) -> _F:
    """`function` with the signature `inspect` and `help()` show: its own positional parameters,
    then the table's arguments as keyword-only ones (`**args` in the source)."""
    own = inspect.signature(function)  # type: ignore[arg-type]
    positional = [p for p in own.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    keywords = [
        inspect.Parameter(p.python, inspect.Parameter.KEYWORD_ONLY, default=None)
        if not p.required
        else inspect.Parameter(p.python, inspect.Parameter.KEYWORD_ONLY)
        for p in PROPERTIES
    ]
    function.__signature__ = own.replace(parameters=[*positional, *keywords])  # type: ignore[attr-defined]
    return function


# --- the keyword arguments, typed per `type` ---------------------------------------------------


class SharedArgs(TypedDict, total=False):
    """The arguments every type takes alike (`PROPERTIES` documents each)."""

    name: Input[str] | None
    sources: Required[Input[Sequence[Input[str]]]]
    is_active: Input[bool] | None
    verify: Input[bool] | None
    project_id: Input[str] | None
    account: Input[str] | None
    adopt_id: Input[str] | None


class CloudWatchArgs(SharedArgs):
    """`type="cloudwatch"`, its credentials and the shared arguments."""

    type: Input[Literal["cloudwatch"]]
    credentials: Input[CloudWatchCredentials]


class DatadogArgs(SharedArgs):
    """`type="datadog"`, its credentials and the shared arguments."""

    type: Input[Literal["datadog"]]
    credentials: Input[DatadogCredentials]


class LokiArgs(SharedArgs):
    """`type="loki"`, its credentials and the shared arguments."""

    type: Input[Literal["loki"]]
    credentials: Input[LokiCredentials]


class SplunkArgs(SharedArgs):
    """`type="splunk"`, its credentials and the shared arguments."""

    type: Input[Literal["splunk"]]
    credentials: Input[SplunkCredentials]


class ElasticArgs(SharedArgs):
    """`type="elastic"`, its credentials and the shared arguments."""

    type: Input[Literal["elastic"]]
    credentials: Input[ElasticCredentials]


class GcpLoggingArgs(SharedArgs):
    """`type="gcp_logging"`, its credentials and the shared arguments."""

    type: Input[Literal["gcp_logging"]]
    credentials: Input[GcpLoggingCredentials]


class ComputedTypeArgs(SharedArgs):
    """A `type` known only when the program runs, and credentials the provider checks then."""

    type: ComputedType
    credentials: Input[Mapping[str, Input[str]]]


class AnyTypeArgs(SharedArgs):
    """Any type's arguments: what `LogSource` and `LogSourceArgs` bind at run time."""

    type: Input[str]
    credentials: Input[AnyCredentials]


def _state_named(cls: type[_C]) -> type[_C]:
    """Give each annotated argument of `cls` its state name, for `pulumi.input_type`."""
    for python in inspect.get_annotations(cls):
        setattr(cls, python, pulumi.property(camel(python)))
    return cls


@pulumi.input_type
@_state_named
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

    # The attributes (`PROPERTIES` documents each), as a program reads and sets them.
    type: Input[str]
    name: Input[str] | None
    credentials: Input[AnyCredentials]
    sources: Input[Sequence[Input[str]]]
    is_active: Input[bool] | None
    verify: Input[bool] | None
    project_id: Input[str] | None
    account: Input[str] | None
    adopt_id: Input[str] | None

    @overload
    def __init__(self, **args: Unpack[CloudWatchArgs]) -> None: ...
    @overload
    def __init__(self, **args: Unpack[DatadogArgs]) -> None: ...
    @overload
    def __init__(self, **args: Unpack[LokiArgs]) -> None: ...
    @overload
    def __init__(self, **args: Unpack[SplunkArgs]) -> None: ...
    @overload
    def __init__(self, **args: Unpack[ElasticArgs]) -> None: ...
    @overload
    def __init__(self, **args: Unpack[GcpLoggingArgs]) -> None: ...
    @overload
    def __init__(self, **args: Unpack[ComputedTypeArgs]) -> None: ...
    @keyword_signature
    def __init__(self, **args: Any) -> None:
        for key, value in bind_arguments("LogSourceArgs.__init__", args).items():
            if value is not None:
                pulumi.set(self, key, value)
