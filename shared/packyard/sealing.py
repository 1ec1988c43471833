"""Secrets sealed for another service under a shared Fernet key that can be rotated.

``MAIL_TOKEN_KEY`` is such a key: identity seals password-reset tokens and API keys with it,
catalog webhook secrets, and the notifier opens them. Its documented form is one Fernet key
(32 url-safe base64 bytes) or, while a key is being rotated, several separated by commas,
the newest first. Every service reads it the same way:

* :func:`fernet_keys` checks the value at start (a :class:`~packyard.config.ConfigError`
  naming the variable when it holds no key or something that is not one);
* a :class:`Sealer` seals with the newest key and opens with any of them, so what was sealed
  under the previous key still opens until the rotation is over.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from packyard.config import ConfigError

__all__ = ["Sealer", "Unsealable", "fernet_keys"]

_GENERATE = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


class Unsealable(Exception):
    """The ciphertext was not sealed with any of the configured keys (or was altered)."""


def fernet_keys(value: str, *, name: str = "MAIL_TOKEN_KEY") -> list[str]:
    """The comma-separated Fernet keys of ``value``, newest first.

    Raises :class:`ConfigError` naming ``name`` when there is none, or when one is not a
    Fernet key.
    """
    keys = [part.strip() for part in value.split(",") if part.strip()]
    if not keys:
        raise ConfigError(f"{name} must hold at least one Fernet key ({_GENERATE})")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError(f"{name} must be a Fernet key: 32 bytes in url-safe base64 ({_GENERATE}). "
                              f"While rotating, {name} must be Fernet keys separated by commas, "
                              "the newest first") from None
    return keys


class Sealer:
    """Seals with the newest key of ``keys`` (a value :func:`fernet_keys` accepts); opens with any."""

    def __init__(self, keys: str, *, name: str = "MAIL_TOKEN_KEY") -> None:
        self.name = name
        self._fernet = MultiFernet([Fernet(key) for key in fernet_keys(keys, name=name)])

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, ciphertext: str) -> str:
        """The plaintext of ``ciphertext``; :class:`Unsealable` when no key opens it."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except (InvalidToken, UnicodeDecodeError):
            raise Unsealable(f"the ciphertext cannot be opened with {self.name}") from None
