"""Private GPG keys at rest: Fernet (AES-128-CBC + HMAC-SHA256) under keys derived from
``SIGNING_SECRET_KEY`` with HKDF, so the table alone gives no key away.

``SIGNING_SECRET_KEY`` is one secret or, while it is being rotated, several separated by commas,
the newest first: keys are sealed under the newest and open under any. ``python -m signing
reseal-keys`` seals every stored key under the newest, after which the older secrets can go.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_SECRET_LENGTH = 32


class SecretMismatch(Exception):
    """A stored key was sealed under none of the configured secrets."""


def secrets_of(value: str) -> list[str]:
    """The comma-separated secrets of ``SIGNING_SECRET_KEY``, newest first."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _fernet(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"packyard-signing",
                   info=b"gpg-private-keys").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


class KeyVault:
    def __init__(self, secret_keys: str) -> None:
        secrets = secrets_of(secret_keys)
        if not secrets:
            raise ValueError("SIGNING_SECRET_KEY holds no secret")
        self._newest = _fernet(secrets[0])
        self._fernet = MultiFernet([self._newest] + [_fernet(s) for s in secrets[1:]])

    def seal(self, private_key: str) -> str:
        return self._fernet.encrypt(private_key.encode()).decode("ascii")

    def open(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except InvalidToken:
            raise SecretMismatch("a stored private key was sealed under none of the secrets in "
                                 "SIGNING_SECRET_KEY") from None

    def sealed_under_newest(self, ciphertext: str) -> bool:
        try:
            self._newest.decrypt(ciphertext.encode("ascii"))
            return True
        except InvalidToken:
            return False

    def reseal(self, ciphertext: str) -> str:
        """``ciphertext`` sealed again under the newest secret (:class:`SecretMismatch` if none opens it)."""
        return self.seal(self.open(ciphertext))
