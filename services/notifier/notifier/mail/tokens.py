"""Decryption of the password-reset tokens identity sends in ``token_ciphertext``.

Identity encrypts each token with Fernet under ``MAIL_TOKEN_KEY``; the notifier stores only that
ciphertext and decrypts it at the moment it renders the email, so no database — identity's
outbox, the broker, the notifier's tables — ever holds the token in clear.
"""

from __future__ import annotations

from packyard.sealing import Sealer, Unsealable, fernet_keys


class UndecryptableToken(Exception):
    """The ciphertext was not made with any configured key (or was altered)."""


class MailTokenCipher:
    """``MAIL_TOKEN_KEY``'s :class:`~packyard.sealing.Sealer`, as the notifier's mail code uses it."""

    def __init__(self, keys: str) -> None:
        self._sealer = Sealer(keys, name="MAIL_TOKEN_KEY")

    @staticmethod
    def check_keys(keys: str) -> list[str]:
        """The comma-separated keys of ``MAIL_TOKEN_KEY``; :class:`ConfigError` when one is not a Fernet key."""
        return fernet_keys(keys, name="MAIL_TOKEN_KEY")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._sealer.open(ciphertext)
        except Unsealable:
            raise UndecryptableToken("the token cannot be decrypted with MAIL_TOKEN_KEY") from None

    def encrypt(self, plaintext: str) -> str:
        """Seal a secret for storage (with the newest key)."""
        return self._sealer.seal(plaintext)
