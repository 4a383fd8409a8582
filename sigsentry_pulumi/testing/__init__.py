"""For the tests of your own programs that use `LogSource` (docs/testing.md).

```python
import pulumi
from sigsentry_pulumi.testing import LogSourceMocks, validate_log_source

pulumi.runtime.set_mocks(LogSourceMocks(), preview=False)   # unit tests, before the program
validate_log_source(type="loki", credentials={"host": "https://loki.example.com"}, sources=["x"])
```

`LogSourceMocks` checks every `LogSource` a program registers as the provider's `check` does and
answers the good ones as its create would; `validate_log_source` applies the same rules to
`LogSource`'s keyword arguments without any Pulumi machinery. For integration tests, the
emulator's pytest plugin (`pip install 'sigsentry-pulumi[emulator]'`) provides the
`sigsentry_emulator` fixture: a real local SigSentry API and the stack config to reach it.
"""

from .._rules import Problem
from ..validation import validate_log_source
from .mocks import EchoMocks, LogSourceCheckError, LogSourceMocks

__all__ = [
    "EchoMocks",
    "LogSourceCheckError",
    "LogSourceMocks",
    "Problem",
    "validate_log_source",
]
