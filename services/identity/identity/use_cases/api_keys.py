"""The API key: one per user, as on Bintray — generate, show, revoke."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from identity import events
from identity.access import caller
from identity.credentials import ApiKeyVault
from identity.models import ApiKey
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


def create_api_key(uow: UnitOfWork, vault: ApiKeyVault, principal: Principal, now: datetime) -> str:
    # A stolen key must not be able to mint its own replacement and lock the owner out.
    require_recent_password_login(principal, now, "Generating an API key")
    user = caller(uow.session, principal.user_id, lock=True)
    if uow.session.get(ApiKey, user.id) is not None:
        raise Conflict("An API key already exists; revoke it before generating a new one")
    api_key = vault.generate()
    uow.session.add(ApiKey(user_id=user.id, ciphertext=vault.encrypt(api_key), digest=vault.digest(api_key),
                           created_at=now))
    uow.session.flush()
    uow.publish(events.API_KEY_ISSUED, {"user_id": user.id, "username": user.username}, subject=user.username)
    log.info("API key generated", extra={"username": user.username})
    return api_key


def show_api_key(uow: UnitOfWork, vault: ApiKeyVault, principal: Principal, now: datetime) -> str:
    require_recent_password_login(principal, now, "Showing the API key")
    user = caller(uow.session, principal.user_id)
    row = uow.session.get(ApiKey, user.id)
    if row is None:
        raise NotFound("No API key has been generated")
    return vault.decrypt(row.ciphertext)


def revoke_api_key(uow: UnitOfWork, principal: Principal) -> None:
    user = caller(uow.session, principal.user_id, lock=True)
    row = uow.session.get(ApiKey, user.id)
    if row is None:
        raise NotFound("No API key has been generated")
    uow.session.delete(row)
    uow.publish(events.API_KEY_REVOKED, {"user_id": user.id, "username": user.username}, subject=user.username)
    log.info("API key revoked", extra={"username": user.username})
