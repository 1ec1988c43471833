"""The caller's own profile: personal fields and their privacy, email preferences, linked accounts, avatar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc

from identity import events
from identity.access import caller
from identity.avatars import Avatars
from identity.credentials import Passwords
from identity.models import HIDEABLE_FIELDS, LINKED_ACCOUNTS, Avatar, User
from identity.use_cases import throttle
from identity.use_cases.common import verify_password
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Invalid, NotFound

PROFILE_FIELDS = ("first_name", "last_name", "bio", "company", "location", "website")
PREFERENCES = ("show_email", "release_alerts_email", "news_email")


def hidden_fields(user: User) -> list[str]:
    return [name for name in user.hidden_fields.split(",") if name]


def _publish_profile_updated(uow: UnitOfWork, user: User, changed: list[str]) -> None:
    uow.publish(events.USER_PROFILE_UPDATED, {"user_id": user.id, "username": user.username,
                                              "full_name": user.full_name, "changed": changed},
                subject=user.username)


@dataclass(frozen=True)
class UpdateProfile:
    user_id: str  # the caller
    changes: dict[str, Any]  # the fields sent, and ``password`` when the email address changes
    address: str | None  # the client's: a wrong password counts like a failed login


def update_profile(uow: UnitOfWork, passwords: Passwords, policy: throttle.ThrottlePolicy, cmd: UpdateProfile,
                   now: datetime) -> User:
    """Apply the fields present in ``cmd.changes``; each kind of change announces itself once.

    A new email address needs the current password (``password``): whoever controls the
    address can reset the password, so a leaked token must not be enough to take it.
    """
    session = uow.session
    changes, address = cmd.changes, cmd.address
    user = caller(session, cmd.user_id, lock=True)
    requested_email: str | None = changes.get("email")
    new_email = requested_email if requested_email != user.email else None  # None: the address stays
    if new_email is not None:
        if not changes.get("password"):
            raise Invalid("Changing the email address needs your current password in 'password'")
        verify_password(uow, passwords, policy, user, changes["password"], address, now,
                        Invalid("The password is wrong"))
        if session.scalar(sa.select(sa.func.count()).select_from(User).where(
                User.email_key == new_email.lower(), User.id != user.id)):
            raise Conflict("An account with this email address already exists")

    changed = [name for name in PROFILE_FIELDS if name in changes and changes[name] != getattr(user, name)]
    for name in changed:
        setattr(user, name, changes[name])
    if "hidden_fields" in changes:
        hidden = ",".join(name for name in HIDEABLE_FIELDS if name in changes["hidden_fields"])
        if hidden != user.hidden_fields:
            user.hidden_fields = hidden
            changed.append("hidden_fields")
    if changed:
        user.full_name = f"{user.first_name} {user.last_name}".strip()
        _publish_profile_updated(uow, user, changed)

    if new_email is not None:
        previous = user.email
        try:
            with session.begin_nested():  # the unique address settles a race for the same one
                user.email, user.email_key = new_email, new_email.lower()
        except sqlalchemy.exc.IntegrityError:
            raise Conflict("An account with this email address already exists") from None
        uow.publish(events.USER_EMAIL_CHANGED, {"user_id": user.id, "username": user.username,
                                                "email": user.email, "previous_email": previous},
                    subject=user.username)

    if any(name in changes and changes[name] != getattr(user, name) for name in PREFERENCES):
        for name in PREFERENCES:
            if name in changes:
                setattr(user, name, changes[name])
        user.revision += 1
        uow.publish(events.USER_PREFERENCES_CHANGED, {
            "user_id": user.id, "username": user.username, "show_email": user.show_email,
            "release_alerts_email": user.release_alerts_email, "news_email": user.news_email,
            "revision": user.revision,
        }, subject=user.username)
    return user


def update_linked_accounts(uow: UnitOfWork, user_id: str, accounts: dict[str, str]) -> User:
    """Replace the linked account names; a service left out is unlinked."""
    user = caller(uow.session, user_id, lock=True)
    changed = [name for name in LINKED_ACCOUNTS if (accounts.get(name) or "") != getattr(user, name)]
    for name in changed:
        setattr(user, name, accounts.get(name) or "")
    if changed:
        _publish_profile_updated(uow, user, changed)
    return user


def set_avatar(uow: UnitOfWork, avatars: Avatars, user_id: str, data: bytes, now: datetime) -> Avatar:
    user = caller(uow.session, user_id, lock=True)
    image = avatars.normalize(data)
    row = uow.session.get(Avatar, user.id)
    if row is None:
        row = Avatar(user_id=user.id)
        uow.session.add(row)
    row.content_type, row.image, row.etag, row.updated_at = image.content_type, image.content, image.etag, now
    _publish_profile_updated(uow, user, ["avatar"])
    return row


def remove_avatar(uow: UnitOfWork, user_id: str) -> None:
    user = caller(uow.session, user_id, lock=True)
    row = uow.session.get(Avatar, user.id)
    if row is None:
        raise NotFound("No avatar has been uploaded")
    uow.session.delete(row)
    _publish_profile_updated(uow, user, ["avatar"])
