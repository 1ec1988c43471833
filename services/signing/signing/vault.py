"""Private GPG keys at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from
``SIGNING_SECRET_KEY`` with HKDF, so the table alone gives no key away."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class KeyVault:
    def __init__(self, secret_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"packyard-signing",
                       info=b"gpg-private-keys").derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, private_key: str) -> str:
        return self._fernet.encrypt(private_key.encode()).decode("ascii")

    def open(self, ciphertext: str) -> str:
        return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
