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

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .backend import Backend, Caller
    from .crypto import CredentialCipher
    from .errors import ApiError
    from .seed import SeedConfig, load_seed_file
    from .state import EmulatorState
    from .store import Store

# Loaded on first use, not here: importing a submodule runs this file first, and the pytest plugin
# (`sigsentry_emulator.pytest_plugin`, loaded by every pytest run where the package is installed)
# must not need FastAPI, uvicorn or cryptography, which only the `emulator` extra installs.
_HOMES = {
    "ApiError": "errors",
    "Backend": "backend",
    "Caller": "backend",
    "CredentialCipher": "crypto",
    "EmulatorState": "state",
    "SeedConfig": "seed",
    "Store": "store",
    "create_app": "app",
    "load_seed_file": "seed",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


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
