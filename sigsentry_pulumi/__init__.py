"""SigSentry log sources as code: API client and Pulumi dynamic provider.

```python
from sigsentry_pulumi import LogSource            # in a Pulumi program (typed: see LogSourceArgs)
from sigsentry_pulumi import SigSentryClient      # in a script
```
"""

import typing as _typing

# The names load on first use (PEP 562), not with the package: the Pulumi plugin imports
# `sigsentry_pulumi.provider` on its first call of every deployment, and that must not pay for
# the HTTP client (httpx) and the response models (pydantic), which a preview never uses. Type
# checkers and editors read the imports below.
if _typing.TYPE_CHECKING:
    from ._client import SigSentryClient
    from ._config import ClientSettings
    from ._errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        ConflictError,
        InternalServerError,
        LogSourceGoneError,
        NoSuchLogSourceError,
        NotFoundError,
        PermissionDeniedError,
        QuotaExceededError,
        RateLimitError,
        RedirectError,
        RollbackFailedError,
        RouteNotFoundError,
        SigSentryError,
        UnexpectedResponseError,
        VerificationFailedError,
    )
    from ._models import LogSourcePage, LogSourceRecord, VerificationResult
    from ._types import (
        CloudWatchCredentials,
        Credentials,
        DatadogCredentials,
        ElasticCredentials,
        GcpLoggingCredentials,
        LogSourceArgs,
        LogSourceType,
        LokiCredentials,
        SplunkCredentials,
    )
    from ._version import __version__
    from .provider import LogSourceProvider
    from .resource import LogSource

_HOMES: _typing.Final[_typing.Mapping[str, str]] = {
    "SigSentryClient": "._client",
    "ClientSettings": "._config",
    "APIConnectionError": "._errors",
    "APIStatusError": "._errors",
    "APITimeoutError": "._errors",
    "AuthenticationError": "._errors",
    "BadRequestError": "._errors",
    "ConfigurationError": "._errors",
    "ConflictError": "._errors",
    "InternalServerError": "._errors",
    "LogSourceGoneError": "._errors",
    "NoSuchLogSourceError": "._errors",
    "NotFoundError": "._errors",
    "PermissionDeniedError": "._errors",
    "QuotaExceededError": "._errors",
    "RateLimitError": "._errors",
    "RedirectError": "._errors",
    "RollbackFailedError": "._errors",
    "RouteNotFoundError": "._errors",
    "SigSentryError": "._errors",
    "UnexpectedResponseError": "._errors",
    "VerificationFailedError": "._errors",
    "LogSourcePage": "._models",
    "LogSourceRecord": "._models",
    "VerificationResult": "._models",
    "CloudWatchCredentials": "._types",
    "Credentials": "._types",
    "DatadogCredentials": "._types",
    "ElasticCredentials": "._types",
    "GcpLoggingCredentials": "._types",
    "LogSourceArgs": "._types",
    "LogSourceType": "._types",
    "LokiCredentials": "._types",
    "SplunkCredentials": "._types",
    "__version__": "._version",
    "LogSourceProvider": ".provider",
    "LogSource": ".resource",
}
"""The module each public name is imported from on first use (the imports above, as data)."""

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientSettings",
    "CloudWatchCredentials",
    "ConfigurationError",
    "ConflictError",
    "Credentials",
    "DatadogCredentials",
    "ElasticCredentials",
    "GcpLoggingCredentials",
    "InternalServerError",
    "LogSource",
    "LogSourceArgs",
    "LogSourceGoneError",
    "LogSourcePage",
    "LogSourceProvider",
    "LogSourceRecord",
    "LogSourceType",
    "LokiCredentials",
    "NoSuchLogSourceError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RedirectError",
    "RollbackFailedError",
    "RouteNotFoundError",
    "SigSentryClient",
    "SigSentryError",
    "SplunkCredentials",
    "UnexpectedResponseError",
    "VerificationFailedError",
    "VerificationResult",
    "__version__",
]


# Hidden from type checkers: they read the imports above, and a misspelt name stays an error.
if not _typing.TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        if name not in _HOMES:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from importlib import import_module

        # Not stored in the package's namespace: the module `import_module` caches holds it,
        # so a later lookup costs one dictionary read more and the package keeps no state.
        return getattr(import_module(_HOMES[name], __name__), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
