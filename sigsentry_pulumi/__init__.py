"""SigSentry log sources as code: API client and Pulumi dynamic provider.

```python
from sigsentry_pulumi import LogSource            # in a Pulumi program (typed: see LogSourceArgs)
from sigsentry_pulumi import SigSentryClient      # in a script
```
"""

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
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
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
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
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
