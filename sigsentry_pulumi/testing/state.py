"""Stack state in one JSON file, with every secret value encrypted.

Secrets are encrypted the way Pulumi's passphrase secrets provider does it in spirit: a key derived
from the passphrase (scrypt, with a random salt kept in the file) encrypts each secret value on
its own (Fernet: AES-128-CBC + HMAC-SHA256), and the value is stored as
``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": ...}``,
the same envelope Pulumi's checkpoints use. A known plaintext encrypted with the key lets a wrong
passphrase fail with a clear error instead of garbage.

Not implemented: Pulumi's checkpoint schema (``pulumi stack import`` cannot read this file), its
AES-256-GCM cipher, secrets managers other than the passphrase, and file locking between
processes.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pulumi.runtime import rpc

from .errors import EngineError
from .values import Secret, reveal

__all__ = ["ResourceState", "StackState", "StateFile"]

STATE_VERSION: Final = 1
_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a type tag
_CHECK_PLAINTEXT: Final = b"sigsentry-pulumi passphrase check"
_SCRYPT_N: Final = 2**14
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1


@dataclass(frozen=True)
class ResourceState:
    """One resource as the stack records it; secret values are :class:`Secret` marks.

    ``external`` marks a resource read with ``get`` (never updated or deleted by the stack).
    """

    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: tuple[str, ...] = ()
    external: bool = False


@dataclass
class StackState:
    """Everything the stack remembers between operations."""

    resources: list[ResourceState] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    # Replaced resources whose deletion did not happen (a failed deployment): deleted next time.
    pending_deletions: list[ResourceState] = field(default_factory=list)


class StateFile:
    """Reads and writes one stack's state file, encrypting secrets with a passphrase."""

    def __init__(self, path: Path, passphrase: str) -> None:
        self.path = Path(path)
        self._passphrase = passphrase
        self._fernet: Fernet | None = None
        self._salt: bytes | None = None

    def load(self) -> StackState:
        if not self.path.exists():
            return StackState()
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise EngineError(
                f"cannot read the stack state file {self.path}: {error}; restore it from a backup "
                "or delete it to start an empty stack"
            ) from None
        self._unlock(document["secrets"])
        return StackState(
            resources=[self._load_resource(item) for item in document["resources"]],
            outputs=self._decode(document["outputs"]),
            pending_deletions=[self._load_resource(i) for i in document["pending_deletions"]],
        )

    def save(self, state: StackState) -> None:
        if self._fernet is None:
            self._new_key()
        assert self._fernet is not None and self._salt is not None
        document = {
            "version": STATE_VERSION,
            "secrets": {
                "kdf": "scrypt",
                "salt": base64.b64encode(self._salt).decode(),
                "n": _SCRYPT_N,
                "r": _SCRYPT_R,
                "p": _SCRYPT_P,
                "check": self._fernet.encrypt(_CHECK_PLAINTEXT).decode(),
            },
            "resources": [self._dump_resource(item) for item in state.resources],
            "outputs": self._encode(state.outputs),
            "pending_deletions": [self._dump_resource(i) for i in state.pending_deletions],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)  # never leave a half-written state file

    # -- keys -------------------------------------------------------------------------------

    def _new_key(self) -> None:
        self._salt = secrets.token_bytes(16)
        self._fernet = Fernet(self._derive(self._salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P))

    def _unlock(self, header: Mapping[str, Any]) -> None:
        salt = base64.b64decode(header["salt"])
        if self._fernet is None or salt != self._salt:
            key = self._derive(salt, int(header["n"]), int(header["r"]), int(header["p"]))
            self._fernet, self._salt = Fernet(key), salt
        try:
            self._fernet.decrypt(header["check"].encode())
        except InvalidToken:
            self._fernet = None
            raise EngineError(
                f"incorrect passphrase for the stack state {self.path}: pass the passphrase the "
                "stack was created with (Stack(passphrase=...) or PULUMI_CONFIG_PASSPHRASE)"
            ) from None

    def _derive(self, salt: bytes, n: int, r: int, p: int) -> bytes:
        kdf = Scrypt(salt=salt, length=32, n=n, r=r, p=p)
        return base64.urlsafe_b64encode(kdf.derive(self._passphrase.encode("utf-8")))

    # -- values -----------------------------------------------------------------------------

    def _dump_resource(self, resource: ResourceState) -> dict[str, Any]:
        return {
            "urn": resource.urn,
            "type": resource.type,
            "name": resource.name,
            "id": resource.id,
            "inputs": self._encode(resource.inputs),
            "outputs": self._encode(resource.outputs),
            "dependencies": list(resource.dependencies),
            "external": resource.external,
        }

    def _load_resource(self, item: Mapping[str, Any]) -> ResourceState:
        return ResourceState(
            urn=item["urn"],
            type=item["type"],
            name=item["name"],
            id=item["id"],
            inputs=self._decode(item["inputs"]),
            outputs=self._decode(item["outputs"]),
            dependencies=tuple(item["dependencies"]),
            external=bool(item["external"]),
        )

    def _encode(self, value: Any) -> Any:
        if isinstance(value, Secret) or rpc.is_rpc_secret(value):
            assert self._fernet is not None
            # The whole value is encrypted at once: marks nested inside it add nothing.
            token = self._fernet.encrypt(json.dumps(reveal(value)).encode("utf-8"))
            return {_SIG_KEY: _SECRET_SIG, "ciphertext": token.decode()}
        if isinstance(value, Mapping):
            return {key: self._encode(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._encode(item) for item in value]
        return value

    def _decode(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            if value.get(_SIG_KEY) == _SECRET_SIG:
                assert self._fernet is not None
                return Secret(json.loads(self._fernet.decrypt(value["ciphertext"].encode())))
            return {key: self._decode(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._decode(item) for item in value]
        return value
