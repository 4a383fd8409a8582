"""SigSentry log sources as code: API client and Pulumi dynamic provider.

```python
from sigsentry_pulumi import LogSource            # in a Pulumi program
from sigsentry_pulumi import SigSentryClient      # in a script
```
"""

from ._client import SigSentryClient, UnexpectedResponseError
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
    SigSentryError,
    VerificationFailedError,
)
from ._models import LogSourcePage, LogSourceRecord, VerificationResult
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
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "LogSource",
    "LogSourceGoneError",
    "LogSourcePage",
    "LogSourceProvider",
    "LogSourceRecord",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "SigSentryClient",
    "SigSentryError",
    "UnexpectedResponseError",
    "VerificationFailedError",
    "VerificationResult",
    "__version__",
]
