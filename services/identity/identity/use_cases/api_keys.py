"""The API key: one per user, as on Bintray — generate, show, regenerate, revoke.

``identity.api_key.issued`` carries the key sealed for the notifier (``api_key_ciphertext``,
Fernet with ``MAIL_TOKEN_KEY``), which signs Bintray's webhook calls with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from identity import events
from identity.access import caller
from identity.credentials import ApiKeyVault
from identity.models import ApiKey, User
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Forbidden, NotFound

log = logging.getLogger(__name__)

RECENT_LOGIN = timedelta(minutes=15)


def require_recent_password_login(principal: Principal, now: datetime, action: str) -> None:
    """Some things need the person themself, not a script holding a key or an old token."""
    fresh = (principal.method == "password" and principal.auth_time is not None
             and now.timestamp() - principal.auth_time <= RECENT_LOGIN.total_seconds())
    if not fresh:
        raise Forbidden(f"{action} needs a password login from the last 15 minutes: log in again")


def _issue(uow: UnitOfWork, vault: ApiKeyVault, seal: Callable[[str], str], user: User, now: datetime) -> str:
    api_key = vault.generate()
    uow.session.add(ApiKey(user_id=user.id, ciphertext=vault.encrypt(api_key), digest=vault.digest(api_key),
                           created_at=now))
    uow.session.flush()
    uow.publish(events.API_KEY_ISSUED, {"user_id": user.id, "username": user.username,
                                        "api_key_ciphertext": seal(api_key)}, subject=user.username)
    return api_key


def create_api_key(uow: UnitOfWork, vault: ApiKeyVault, seal: Callable[[str], str], principal: Principal,
                   now: datetime) -> str:
    # A stolen key must not be able to mint its own replacement and lock the owner out.
    require_recent_password_login(principal, now, "Generating an API key")
    user = caller(uow.session, principal.user_id, lock=True)
    if uow.session.get(ApiKey, user.id) is not None:
        raise Conflict("An API key already exists; regenerate it (PUT /me/apikey) or revoke it first")
    api_key = _issue(uow, vault, seal, user, now)
    log.info("API key generated", extra={"username": user.username})
    return api_key


def regenerate_api_key(uow: UnitOfWork, vault: ApiKeyVault, seal: Callable[[str], str], principal: Principal,
                       now: datetime) -> str:
    """Replace the key (a forgotten or leaked one): the old one is refused at once."""
    require_recent_password_login(principal, now, "Regenerating the API key")
    user = caller(uow.session, principal.user_id, lock=True)
    if drop_api_key(uow, user):
        uow.session.flush()
    api_key = _issue(uow, vault, seal, user, now)
    log.info("API key regenerated", extra={"username": user.username})
    return api_key


def drop_api_key(uow: UnitOfWork, user: User) -> bool:
    """Revoke the user's key, if there is one (and say so)."""
    row = uow.session.get(ApiKey, user.id)
    if row is None:
        return False
    uow.session.delete(row)
    uow.publish(events.API_KEY_REVOKED, {"user_id": user.id, "username": user.username}, subject=user.username)
    return True


def show_api_key(uow: UnitOfWork, vault: ApiKeyVault, principal: Principal, now: datetime) -> str:
    require_recent_password_login(principal, now, "Showing the API key")
    user = caller(uow.session, principal.user_id)
    row = uow.session.get(ApiKey, user.id)
    if row is None:
        raise NotFound("No API key has been generated")
    return vault.decrypt(row.ciphertext)


def revoke_api_key(uow: UnitOfWork, principal: Principal) -> None:
    user = caller(uow.session, principal.user_id, lock=True)
    if not drop_api_key(uow, user):
        raise NotFound("No API key has been generated")
    log.info("API key revoked", extra={"username": user.username})
