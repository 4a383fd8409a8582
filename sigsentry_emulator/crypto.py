"""Encryption at rest for log-source credentials (Fernet: AES-128-CBC + HMAC-SHA256).

The key comes from the environment variable `SIGSENTRY_EMULATOR_KEY` (a Fernet key, as printed by
`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`), else
from a key file beside the database (`<db>.key`), created with mode 0600 on first start. Losing
the key file makes stored credentials unreadable; the emulator then refuses to start rather than
silently answering with wrong data.

Idempotency fingerprints of request bodies (which contain credentials) are keyed HMACs derived
from the same key, so the database never holds even an unsalted hash of a credential.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_ENV_VAR = "SIGSENTRY_EMULATOR_KEY"


class EncryptionKeyError(Exception):
    """The encryption key is missing, malformed, or does not open the stored credentials."""


class CredentialCipher:
    """Encrypts credential maps for storage and computes keyed fingerprints."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise EncryptionKeyError(
                f"{KEY_ENV_VAR} is not a Fernet key (32 url-safe base64-encoded bytes); "
                "generate one with cryptography.fernet.Fernet.generate_key()"
            ) from exc
        self._mac_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"sigsentry-emulator fingerprint"
        ).derive(key)

    def __repr__(self) -> str:
        return "CredentialCipher(<key hidden>)"

    @classmethod
    def generate(cls) -> CredentialCipher:
        """A cipher with a fresh random key (in-memory databases and unit tests)."""
        return cls(Fernet.generate_key())

    @classmethod
    def for_database(cls, db_path: Path) -> CredentialCipher:
        """The key from `SIGSENTRY_EMULATOR_KEY`, else from (or newly into) `<db>.key`."""
        from_env = os.environ.get(KEY_ENV_VAR)
        if from_env:
            return cls(from_env.encode("ascii", errors="replace"))
        return cls(_load_or_create_key_file(key_file_for(db_path)))

    def encrypt(self, credentials: Mapping[str, str]) -> bytes:
        return self._fernet.encrypt(json.dumps(dict(credentials), sort_keys=True).encode())

    def decrypt(self, token: bytes) -> dict[str, str]:
        try:
            plain = self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise EncryptionKeyError(
                "stored credentials do not decrypt with this key: start the emulator with the "
                f"key it used before ({KEY_ENV_VAR} or the .key file beside the database)"
            ) from exc
        loaded: dict[str, str] = json.loads(plain)
        return loaded

    def fingerprint(self, data: bytes) -> bytes:
        return hmac.new(self._mac_key, data, hashlib.sha256).digest()


def key_file_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".key")


def _load_or_create_key_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key
