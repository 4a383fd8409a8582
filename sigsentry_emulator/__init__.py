"""A local SigSentry log-source API (FastAPI + SQLite) for offline tests and demos.

Run it with `python -m sigsentry_emulator` (see docs/emulator.md); drive it from tests with
`sigsentry_emulator.testing.EmulatorProcess`; or embed it in-process:

```python
from sigsentry_emulator import Backend, CredentialCipher, EmulatorState, Store, create_app

app = create_app(EmulatorState(Backend(Store(":memory:"), CredentialCipher.generate())))
# serve it with uvicorn, or call it through httpx.ASGITransport
```

In-process there is no server, so the `drop` fault is unavailable (it needs a socket to close).
"""

from .app import EmulatorState, create_app
from .backend import Backend, Caller
from .crypto import CredentialCipher
from .errors import ApiError
from .seed import SeedConfig, load_seed_file
from .store import Store

__all__ = [
    "ApiError",
    "Backend",
    "Caller",
    "CredentialCipher",
    "EmulatorState",
    "SeedConfig",
    "Store",
    "create_app",
    "load_seed_file",
]
