"""Identity's behaviour: plain functions over a unit of work and their collaborators.

No Flask, no pika, no environment here: views, consumers, commands and unit tests all call
these the same way.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from identity import events
from identity.credentials import ApiKeyVault, Passwords, Tokens
from identity.models import ApiKey, User
from packyard.db import UnitOfWork
from packyard.errors import Conflict, NotFound, Unauthorized


@dataclass(frozen=True)
class SignUp:
    username: str
    email: str
    password: str
    full_name: str = ""


def _user_by_username(uow: UnitOfWork, username: str) -> User | None:
    return uow.session.scalars(sa.select(User).where(User.username == username)).first()


def register_user(uow: UnitOfWork, passwords: Passwords, cmd: SignUp, now: datetime) -> User:
    """Create an account and announce it. Usernames and emails are unique, case-insensitively."""
    session = uow.session
    if session.scalar(sa.select(sa.func.count()).select_from(User).where(User.username_key == cmd.username.lower())):
        raise Conflict(f"Username '{cmd.username}' is already taken")
    if session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email_key == cmd.email.lower())):
        raise Conflict("An account with this email address already exists")
    user = User(
        id=str(uuid.uuid4()),
        username=cmd.username,
        username_key=cmd.username.lower(),
        email=cmd.email,
        email_key=cmd.email.lower(),
        password_hash=passwords.hash(cmd.password),
        full_name=cmd.full_name,
        is_admin=False,
        created_at=now,
        token_generation=0,
        followers_count=0,
    )
    session.add(user)
    session.flush()  # unique constraints decide races between two identical sign-ups
    uow.publish(events.USER_REGISTERED, {
        "user_id": user.id, "username": user.username, "email": user.email,
        "full_name": user.full_name, "registered": now,
    }, subject=user.username)
    return user


def log_in(uow: UnitOfWork, passwords: Passwords, tokens: Tokens, username: str, password: str,
           now: datetime) -> tuple[str, int]:
    """A login bearer token for a username (or email) and password."""
    user = _user_by_username(uow, username) or uow.session.scalars(
        sa.select(User).where(User.email_key == username.lower())).first()
    if not passwords.verify(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("Wrong username or password")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    token = tokens.issue_login(uow.session, user_id=user.id, username=user.username,
                               generation=user.token_generation, now=now.timestamp())
    return token, tokens.login_ttl


def create_api_key(uow: UnitOfWork, vault: ApiKeyVault, user_id: str, now: datetime) -> str:
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFound("User was not found")
    if uow.session.get(ApiKey, user_id) is not None:
        raise Conflict("An API key already exists; revoke it before generating a new one")
    api_key = vault.generate()
    uow.session.add(ApiKey(user_id=user_id, ciphertext=vault.encrypt(api_key), digest=vault.digest(api_key),
                           created_at=now))
    uow.session.flush()
    uow.publish(events.API_KEY_ISSUED, {"user_id": user_id, "username": user.username}, subject=user.username)
    return api_key


def show_api_key(uow: UnitOfWork, vault: ApiKeyVault, user_id: str) -> str:
    row = uow.session.get(ApiKey, user_id)
    if row is None:
        raise NotFound("No API key has been generated")
    return vault.decrypt(row.ciphertext)


def revoke_api_key(uow: UnitOfWork, user_id: str) -> None:
    row = uow.session.get(ApiKey, user_id)
    if row is None:
        raise NotFound("No API key has been generated")
    user = uow.session.get(User, user_id)
    uow.session.delete(row)
    uow.publish(events.API_KEY_REVOKED, {"user_id": user_id, "username": user.username if user else ""},
                subject=user.username if user else None)


def authenticate(uow: UnitOfWork, vault: ApiKeyVault, tokens: Tokens, authorization: str,
                 now: datetime) -> str:
    """Turn the credentials of a request into a short-lived access token for the services.

    Accepts ``Basic base64(username:api_key)`` and ``Bearer <login token>``. Raises
    :class:`Unauthorized` for anything else, so the gateway answers 401.
    """
    scheme, _, value = authorization.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        try:
            username, sep, api_key = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("Malformed Basic credentials") from None
        if not sep or not username or not api_key:
            raise Unauthorized("Malformed Basic credentials")
        row = uow.session.scalars(sa.select(ApiKey).where(ApiKey.digest == vault.digest(api_key))).first()
        user = uow.session.get(User, row.user_id) if row else None
        if user is None or user.username != username:
            raise Unauthorized("Wrong username or API key")
        return tokens.issue_access(uow.session, user_id=user.id, username=user.username, admin=user.is_admin,
                                   method="apikey", auth_time=None, now=now.timestamp())
    if scheme == "bearer":
        claims = tokens.verify_login(uow.session, value.strip())
        user = uow.session.get(User, claims["uid"]) if claims else None
        if user is None or claims.get("gen", 0) != user.token_generation:
            raise Unauthorized("Invalid or expired token")
        return tokens.issue_access(uow.session, user_id=user.id, username=user.username, admin=user.is_admin,
                                   method="password", auth_time=claims.get("auth_time"), now=now.timestamp())
    raise Unauthorized("Unsupported authorization scheme")
