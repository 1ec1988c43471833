"""Signed one-click unsubscribe links (RFC 8058): they work without logging in, for one kind of email.

The token names the user and the kind and carries an HMAC-SHA256 under a key derived from
``MAIL_TOKEN_KEY`` (every configured key is tried, so links survive a key rotation). It holds
no address and no secret; forging one needs the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from packyard.sealing import fernet_keys


class BadToken(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UnsubscribeSigner:
    def __init__(self, mail_token_key: str) -> None:
        keys = fernet_keys(mail_token_key, name="MAIL_TOKEN_KEY")
        self._keys = [hashlib.sha256(b"packyard-unsubscribe:" + k.encode()).digest() for k in keys]

    def _mac(self, key: bytes, payload: str) -> str:
        return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:18])

    def token(self, user_id: str, kind: str) -> str:
        payload = _b64(json.dumps({"u": user_id, "k": kind}, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(self._keys[0], payload)}"

    def read(self, token: str) -> tuple[str, str]:
        """``(user_id, kind)`` of a genuine token; :class:`BadToken` otherwise."""
        if not isinstance(token, str) or len(token) > 500 or token.count(".") != 1:
            raise BadToken("malformed")
        payload, mac = token.split(".")
        if not any(hmac.compare_digest(mac, self._mac(key, payload)) for key in self._keys):
            raise BadToken("bad signature")
        try:
            data = json.loads(_unb64(payload))
            return str(data["u"]), str(data["k"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadToken("malformed") from exc
