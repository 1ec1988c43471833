"""Decryption of the password-reset tokens identity sends in ``token_ciphertext``.

Identity encrypts each token with Fernet under ``MAIL_TOKEN_KEY``; the notifier stores only that
ciphertext and decrypts it at the moment it renders the email, so no database — identity's
outbox, the broker, the notifier's tables — ever holds the token in clear.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from packyard.config import ConfigError


class UndecryptableToken(Exception):
    """The ciphertext was not made with any configured key (or was altered)."""


class MailTokenCipher:
    def __init__(self, keys: str) -> None:
        self._fernet = MultiFernet([Fernet(k) for k in self.check_keys(keys)])

    @staticmethod
    def check_keys(keys: str) -> list[str]:
        """The comma-separated keys of ``MAIL_TOKEN_KEY``; :class:`ConfigError` when one is not a Fernet key."""
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise ConfigError("MAIL_TOKEN_KEY must hold at least one Fernet key")
        for part in parts:
            try:
                Fernet(part)
            except (ValueError, TypeError):
                raise ConfigError("MAIL_TOKEN_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
                                  "e.g. from cryptography.fernet.Fernet.generate_key()") from None
        return parts

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except (InvalidToken, UnicodeDecodeError):
            raise UndecryptableToken("the token cannot be decrypted with MAIL_TOKEN_KEY") from None

    def encrypt(self, plaintext: str) -> str:
        """Seal a secret for storage (with the newest key)."""
        return self._fernet.encrypt(plaintext.encode()).decode()
