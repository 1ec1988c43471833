"""Secrets handling: password hashes, the API key vault, and token signing keys.

* Passwords: argon2id (``argon2-cffi``), re-hashed transparently when parameters change.
* API keys: 40 hex characters as on Bintray. Stored encrypted (Fernet) so their owner can
  show them again, and found by an HMAC-SHA256 digest so a lookup needs no decryption and
  the table alone reveals nothing.
* Password-reset tokens: random, sent to their owner inside an event encrypted with
  ``MAIL_TOKEN_KEY`` (a Fernet key only identity and the notifier hold); identity keeps only
  an HMAC-SHA256 digest, so neither its tables nor its outbox can give a working link away.
* Tokens: Ed25519 JWTs. Access tokens (audience ``packyard``) are what the gateway
  forwards to services; login tokens (audience ``packyard-login``) are what people get
  from ``/auth/login`` and are only ever checked here, so revoking them (password change)
  takes effect at once.

All keys but ``MAIL_TOKEN_KEY`` derive from ``SECRET_KEY`` with HKDF, one key per purpose.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import argon2
import jwt
from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken as FernetInvalid
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from identity.models import SigningKey
from packyard.auth import ACCESS_AUDIENCE, ALGORITHM, ISSUER
from packyard.errors import DomainError
from packyard.sealing import Sealer

LOGIN_AUDIENCE = "packyard-login"


def derive_key(secret: str, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"packyard-identity", info=purpose.encode()).derive(
        secret.encode())


class HashingBusy(DomainError):
    """Every password-hashing slot of this process is taken: answer 503, the client retries shortly."""

    status = 503


class Passwords:
    """argon2id hashing with constant-time verification.

    Each hash takes the hasher's ``memory_cost`` of memory: at most ``max_concurrent`` run at once
    in a process, so memory stays bounded whatever the number of requests; a request finding
    every slot taken waits up to ``wait`` seconds, then answers 503 with ``Retry-After``.
    """

    def __init__(self, hasher: argon2.PasswordHasher | None = None, *, max_concurrent: int = 2,
                 wait: float = 2.0) -> None:
        self._hasher = hasher or argon2.PasswordHasher(type=argon2.Type.ID)
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._wait = wait
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._wait):
            raise HashingBusy("The service is busy checking passwords: try again in a moment",
                              headers={"Retry-After": "1"})
        try:
            yield
        finally:
            self._slots.release()

    def hash(self, password: str) -> str:
        with self._slot():
            return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches. Without a hash, burns the same time (no user enumeration)."""
        with self._slot():
            try:
                return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
            except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
                return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


class ApiKeyVault:
    """Generate, encrypt, decrypt and digest API keys."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "api-key-encryption")))
        self._digest_key = derive_key(secret_key, "api-key-digest")

    @staticmethod
    def generate() -> str:
        return secrets.token_hex(20)

    def encrypt(self, api_key: str) -> str:
        return self._fernet.encrypt(api_key.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except FernetInvalid:
            raise ValueError("API key ciphertext does not decrypt with this SECRET_KEY") from None

    def digest(self, api_key: str) -> str:
        return hmac.new(self._digest_key, api_key.encode(), hashlib.sha256).hexdigest()


class ResetTokens:
    """Generate password-reset tokens, digest them for storage, encrypt them for the notifier."""

    def __init__(self, secret_key: str, mail_token_key: str) -> None:
        self._digest_key = derive_key(secret_key, "password-reset-digest")
        self._mail = Sealer(mail_token_key)  # ``MAIL_TOKEN_KEY``: the newest of its keys seals

    @staticmethod
    def generate() -> str:
        return secrets.token_urlsafe(32)

    def digest(self, token: str) -> str:
        return hmac.new(self._digest_key, token.encode(), hashlib.sha256).hexdigest()

    def encrypt_for_mail(self, token: str) -> str:
        return self._mail.seal(token)


@dataclass(frozen=True)
class _Key:
    kid: str
    private: Ed25519PrivateKey
    public_jwk: dict[str, Any]
    created_at: datetime


class KeyRing:
    """Token signing keys from the ``signing_keys`` table, cached for ``ttl`` seconds.

    The newest unretired key signs; every key not retired for longer than the longest
    token lifetime stays in the JWKS so tokens it signed still verify after a rotation.
    """

    def __init__(self, secret_key: str, ttl: float = 30.0, min_refresh_interval: float = 5.0) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "signing-key-encryption")))
        self._ttl = ttl
        # An unknown key id reloads the keys at most this often: tokens with made-up key ids
        # cannot turn every request into a database read (as JwksVerifier does in the services).
        self._min_refresh = min_refresh_interval
        self._forced_at = -min_refresh_interval
        self._keys: list[_Key] = []
        self._jwks: dict[str, Any] = {"keys": []}
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def create(self, session: Session, now: datetime) -> str:
        """Add a new signing key (the next one to sign). Returns its key id."""
        private = Ed25519PrivateKey.generate()
        public_raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        x = base64.urlsafe_b64encode(public_raw).rstrip(b"=").decode()
        kid = hashlib.sha256(json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"),
                                        sort_keys=True).encode()).hexdigest()[:32]
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig"}
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        session.add(SigningKey(kid=kid, private_key=self._fernet.encrypt(pem).decode(),
                               public_jwk=json.dumps(jwk), created_at=now))
        self._loaded_at = 0.0
        return kid

    def _load(self, session: Session | Connection) -> None:
        # Core columns, so a bare connection (the gateway's authentication) serves as well as a session
        rows = session.execute(select(SigningKey.kid, SigningKey.private_key, SigningKey.public_jwk,
                                      SigningKey.created_at).where(SigningKey.retired_at.is_(None))
                               .order_by(SigningKey.created_at.desc())).all()
        keys = []
        for row in rows:
            pem = self._fernet.decrypt(row.private_key.encode())
            private = serialization.load_pem_private_key(pem, password=None)
            assert isinstance(private, Ed25519PrivateKey)
            keys.append(_Key(row.kid, private, json.loads(row.public_jwk), row.created_at))
        self._keys = keys
        self._jwks = {"keys": [k.public_jwk for k in keys]}
        self._loaded_at = time.monotonic()

    def refresh(self, session: Session | Connection, *, force: bool = False) -> None:
        with self._lock:
            if force or time.monotonic() - self._loaded_at > self._ttl:
                self._load(session)

    def _refresh_for_unknown_kid(self, session: Session | Connection) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._forced_at < self._min_refresh:
                return
            self._forced_at = now
            self._load(session)

    def current(self, session: Session | Connection) -> _Key:
        self.refresh(session)
        if not self._keys:
            self.refresh(session, force=True)
        if not self._keys:
            raise RuntimeError("no token signing key: run `python -m identity migrate`")
        return self._keys[0]

    def jwks(self, session: Session | Connection) -> dict[str, Any]:
        self.refresh(session)
        return self._jwks

    def public_key(self, session: Session | Connection, kid: str) -> Any:
        self.refresh(session)
        for key in self._keys:
            if key.kid == kid:
                return key.private.public_key()
        self._refresh_for_unknown_kid(session)
        for key in self._keys:
            if key.kid == kid:
                return key.private.public_key()
        return None


class Tokens:
    """Issue access and login tokens; verify login tokens."""

    def __init__(self, keyring: KeyRing, *, access_ttl: int, login_ttl: int) -> None:
        self.keyring = keyring
        self.access_ttl = access_ttl
        self.login_ttl = login_ttl

    def _sign(self, session: Session | Connection, claims: dict[str, Any]) -> str:
        key = self.keyring.current(session)
        return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})

    def issue_access(self, session: Session | Connection, *, user_id: str, username: str, admin: bool, method: str,
                     auth_time: int | None, now: float, memberships: dict[str, Any] | None = None,
                     login: tuple[str, int] | None = None) -> str:
        """An access token; ``memberships`` (``orgs``, ``teams``, ``managed_teams``) become claims that
        let a service whose replica lags trust what identity knows right now about this caller."""
        claims: dict[str, Any] = {"iss": ISSUER, "aud": ACCESS_AUDIENCE, "sub": username, "uid": user_id,
                                  "adm": admin, "amr": method, "iat": int(now), "exp": int(now) + self.access_ttl}
        if auth_time is not None:
            claims["auth_time"] = auth_time
        if login is not None:
            # the login token behind this access token (its jti and expiry), so /auth/logout can revoke it
            claims["sid"], claims["sid_exp"] = login
        claims.update(memberships or {})
        return self._sign(session, claims)

    def issue_login(self, session: Session | Connection, *, user_id: str, username: str, generation: int,
                    now: float) -> str:
        claims = {"iss": ISSUER, "aud": LOGIN_AUDIENCE, "sub": username, "uid": user_id, "gen": generation,
                  "iat": int(now),
                  "auth_time": int(now), "exp": int(now) + self.login_ttl, "jti": secrets.token_hex(8)}
        return self._sign(session, claims)

    def verify_login(self, session: Session | Connection, token: str) -> dict[str, Any] | None:
        """The claims of a valid login token, or None."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        if header.get("alg") != ALGORITHM or not header.get("kid"):
            return None
        key = self.keyring.public_key(session, header["kid"])
        if key is None:
            return None
        try:
            return jwt.decode(token, key, algorithms=[ALGORITHM], audience=LOGIN_AUDIENCE, issuer=ISSUER,
                              options={"require": ["exp", "iat", "sub", "uid"]})
        except jwt.PyJWTError:
            return None
