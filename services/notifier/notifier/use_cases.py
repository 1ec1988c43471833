"""The notifier's behaviour: plain functions over a unit of work.

No Flask, no pika, no SMTP here. Consumers apply identity's events, which can arrive late or
twice: every function leaves the same state however often and in whatever order it is called.
Emails are only *queued* here (a row in ``email_deliveries``, committed with the rest); the mail
sender sends them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from notifier import kinds, metrics
from notifier.models import (
    MAIL_CHANNEL,
    PENDING,
    Announcement,
    Delivery,
    DigestItem,
    EmailDelivery,
    MastodonAccount,
    Notification,
    Recipient,
    Setting,
)
from notifier.notify import choice_for
from packyard.db import UnitOfWork, as_utc, is_postgres, release_name
from packyard.errors import Invalid, NotFound

# Email templates (rendered by notifier.mail.templates) and notification types.
WELCOME = "welcome"
EMAIL_CONFIRMATION = "email_confirmation"
EMAIL_CHANGED_NOTICE = "email_changed_notice"
PASSWORD_RESET = "password_reset"
PASSWORD_CHANGED_NOTICE = "password_changed_notice"
ACCOUNT_KINDS = (WELCOME,)  # in-app notifications about the account itself, beside notifier.kinds


@dataclass(frozen=True)
class Preferences:
    show_email: bool
    release_alerts_email: bool
    news_email: bool
    revision: int


# -- recipients -------------------------------------------------------------------------------

def _live_recipient(session: Session, user_id: str, username: str) -> Recipient | None:
    """The recipient ``user_id``, created when an event about them beats their registration;
    None when the account was deleted."""
    recipient = session.get(Recipient, user_id)
    if recipient is not None and recipient.deleted_at is not None:
        return None
    release_name(session, Recipient.username, username, Recipient.user_id, user_id)
    if recipient is None:
        recipient = Recipient(user_id=user_id, username=username, show_email=False, release_alerts_email=True,
                              news_email=False, preferences_revision=0)
        session.add(recipient)
    else:
        recipient.username = username
    session.flush()
    return recipient


def welcome(uow: UnitOfWork, *, event_id: str, user_id: str, username: str, email: str, registered: datetime,
            now: datetime) -> None:
    """A new account: remember how to reach it, greet it in the app and by email."""
    recipient = _live_recipient(uow.session, user_id, username)
    if recipient is None:
        return
    recipient.registered_at = registered
    if recipient.email_changed_at is None:  # otherwise a later address already arrived
        recipient.email = email
    notify(uow, user_id=user_id, type_=WELCOME, title=f"Welcome to Packyard, {username}!",
           body="Your account is ready. Create an API key to publish from your build tools, and watch "
                "packages to hear about their new releases here.",
           event_id=event_id, now=now)
    queue_email(uow, event_id=event_id, user_id=user_id, recipient=recipient.email, template=WELCOME,
                context={"username": username}, now=now)


def change_email(uow: UnitOfWork, *, event_id: str, user_id: str, username: str, email: str,
                 previous_email: str | None, changed_at: datetime, now: datetime) -> None:
    """The address changed: use it from now on, confirm it there, and tell the previous address."""
    recipient = _live_recipient(uow.session, user_id, username)
    if recipient is None:
        return
    newest = recipient.email_changed_at is None or changed_at >= as_utc(recipient.email_changed_at)
    if newest:
        if (recipient.email or "").lower() != email.lower():
            recipient.email_bounced_at = None  # a new address gets its chance
        recipient.email = email
        recipient.email_changed_at = changed_at
        queue_email(uow, event_id=event_id, user_id=user_id, recipient=email, template=EMAIL_CONFIRMATION,
                    context={"username": username, "email": email}, now=now)
    # The owner of the previous address hears of the change even when a later change already
    # arrived: it is how someone whose account was taken over finds out.
    if previous_email and previous_email.lower() != email.lower():
        queue_email(uow, event_id=event_id, user_id=user_id, recipient=previous_email,
                    template=EMAIL_CHANGED_NOTICE, context={"username": username, "email": email}, now=now)


def change_preferences(uow: UnitOfWork, *, user_id: str, username: str, preferences: Preferences) -> None:
    """Apply preferences unless a newer revision of them is already applied."""
    recipient = _live_recipient(uow.session, user_id, username)
    if recipient is None or preferences.revision <= recipient.preferences_revision:
        return
    # The two checkboxes identity keeps are the email choice of two kinds here: a change made in
    # identity overrides the choice; an unchanged checkbox leaves a choice made here alone.
    for kind, before, after in ((kinds.RELEASE, recipient.release_alerts_email, preferences.release_alerts_email),
                                (kinds.NEWS, recipient.news_email, preferences.news_email)):
        setting = uow.session.get(Setting, (user_id, kind))
        if setting is not None and before != after:
            if not after:
                setting.email = kinds.OFF
            elif setting.email == kinds.OFF:
                setting.email = kinds.IMMEDIATE
    recipient.show_email = preferences.show_email
    recipient.release_alerts_email = preferences.release_alerts_email
    recipient.news_email = preferences.news_email
    recipient.preferences_revision = preferences.revision


def send_password_reset(uow: UnitOfWork, *, event_id: str, user_id: str, username: str, email: str,
                        token_ciphertext: str, expires_at: datetime | None, now: datetime) -> None:
    """Queue the reset email; the token stays encrypted until the email is rendered."""
    recipient = uow.session.get(Recipient, user_id)
    if recipient is not None and recipient.deleted_at is not None:
        return
    if expires_at is not None and expires_at <= now:
        return  # the link would not work any more
    queue_email(uow, event_id=event_id, user_id=user_id, recipient=email, template=PASSWORD_RESET,
                context={"username": username}, now=now, token_ciphertext=token_ciphertext, expires_at=expires_at)


def tell_password_changed(uow: UnitOfWork, *, event_id: str, user_id: str, username: str, email: str, reset: bool,
                          api_key_revoked: bool, now: datetime) -> None:
    """The password changed (or was reset): its owner hears of it, at the address identity knows."""
    recipient = uow.session.get(Recipient, user_id)
    if recipient is not None and recipient.deleted_at is not None:
        return
    queue_email(uow, event_id=event_id, user_id=user_id, recipient=email, template=PASSWORD_CHANGED_NOTICE,
                context={"username": username, "reset": reset, "api_key_revoked": api_key_revoked}, now=now)


def forget_recipient(uow: UnitOfWork, *, user_id: str, now: datetime) -> str | None:
    """A deleted account: drop its address, preferences, notifications and every email to it.

    Returns the name it had (its watches and follows end with it)."""
    session = uow.session
    session.execute(sa.delete(Setting).where(Setting.user_id == user_id))
    session.execute(sa.delete(DigestItem).where(DigestItem.user_id == user_id))
    session.execute(sa.delete(MastodonAccount).where(MastodonAccount.user_id == user_id))
    session.execute(sa.delete(Announcement).where(Announcement.user_id == user_id))
    session.execute(sa.delete(Notification).where(Notification.user_id == user_id))
    session.execute(sa.delete(EmailDelivery).where(EmailDelivery.user_id == user_id))
    recipient = session.get(Recipient, user_id)
    if recipient is None:
        recipient = Recipient(user_id=user_id, preferences_revision=0)
        session.add(recipient)
    recipient.email = None
    recipient.email_changed_at = None
    recipient.registered_at = None
    recipient.show_email, recipient.release_alerts_email, recipient.news_email = False, False, False
    name, recipient.username = recipient.username, None
    # Their calls' history goes too (it names them; a later account of that name must not see it).
    session.execute(sa.delete(Delivery).where(sa.or_(Delivery.user_id == user_id,
                                                     Delivery.username == (name or ""))))
    recipient.deleted_at = recipient.deleted_at or now
    recipient.time_zone, recipient.email_bounced_at = None, None
    return name


# -- notifications ----------------------------------------------------------------------------

def _after_commit(uow: UnitOfWork, callback: Any) -> None:
    sa.event.listen(uow.session, "after_commit", lambda _session: callback(), once=True)


def notify(uow: UnitOfWork, *, user_id: str, type_: str, title: str, body: str, event_id: str | None,
           now: datetime) -> None:
    """Add an in-app notification (once per user, type and event)."""
    session = uow.session
    if event_id is not None and session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == user_id, Notification.type == type_, Notification.event_id == event_id)):
        return
    session.add(Notification(id=str(uuid.uuid4()), user_id=user_id, type=type_, title=title[:200], body=body,
                             created_at=now, read_at=None, event_id=event_id))
    _after_commit(uow, metrics.NOTIFICATIONS_CREATED.labels(type_).inc)


def _own_notification(uow: UnitOfWork, user_id: str, notification_id: str) -> Notification:
    notification = uow.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:  # another's is as good as absent
        raise NotFound(f"Notification '{notification_id}' was not found")
    return notification


def mark_read(uow: UnitOfWork, *, user_id: str, notification_id: str, now: datetime) -> Notification:
    notification = _own_notification(uow, user_id, notification_id)
    if notification.read_at is None:
        notification.read_at = now
    return notification


def mark_all_read(uow: UnitOfWork, *, user_id: str, now: datetime) -> int:
    # DML through a Session returns a CursorResult (typed as a plain Result)
    result = cast(CursorResult[Any], uow.session.execute(sa.update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=now)))
    return result.rowcount or 0


def delete_notification(uow: UnitOfWork, *, user_id: str, notification_id: str) -> None:
    uow.session.delete(_own_notification(uow, user_id, notification_id))


# -- email ------------------------------------------------------------------------------------

def queue_email(uow: UnitOfWork, *, event_id: str, user_id: str | None, recipient: str | None, template: str,
                context: dict[str, Any], now: datetime, token_ciphertext: str | None = None,
                expires_at: datetime | None = None) -> None:
    """Queue one email in this unit of work (once per event and address); the mail sender sends it."""
    if not recipient:
        return
    session = uow.session
    if session.scalar(sa.select(sa.func.count()).select_from(EmailDelivery).where(
            EmailDelivery.event_id == event_id, EmailDelivery.recipient == recipient)):
        return
    session.add(EmailDelivery(id=str(uuid.uuid4()), event_id=event_id, user_id=user_id, recipient=recipient,
                              template=template, context=context, token_ciphertext=token_ciphertext,
                              expires_at=expires_at, status=PENDING, attempts=0, next_attempt_at=now,
                              created_at=now))
    if is_postgres(session.get_bind()):
        # Delivered by PostgreSQL at commit (only if the commit succeeds): the sender wakes at once.
        session.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": MAIL_CHANNEL})


# -- preferences --------------------------------------------------------------------------------

def _own_recipient(uow: UnitOfWork, user_id: str, username: str) -> Recipient:
    """The caller as a recipient (created if identity's registration has not arrived yet)."""
    recipient = _live_recipient(uow.session, user_id, username)
    if recipient is None:
        raise NotFound("Your account was not found")
    return recipient


def settings_of(uow: UnitOfWork, *, user_id: str, username: str) -> dict[str, Any]:
    session = uow.session
    recipient = session.get(Recipient, user_id)
    if recipient is None or recipient.deleted_at is not None:
        recipient = Recipient(user_id=user_id, username=username, release_alerts_email=True, news_email=False)
    rows = {s.kind: s for s in session.scalars(sa.select(Setting).where(Setting.user_id == user_id))}
    out = {}
    for name, kind in kinds.KINDS.items():
        choice = choice_for(recipient, rows.get(name), name)
        out[name] = {"in_app": choice.in_app, "email": choice.email, "description": kind.description}
    return {"kinds": out, "time_zone": recipient.time_zone,
            "email_suspended": recipient.email_bounced_at is not None}


def set_time_zone(uow: UnitOfWork, *, user_id: str, time_zone: str | None, strict: bool = True,
                  username: str | None = None) -> None:
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            if strict:
                raise Invalid(f"time_zone '{time_zone}' is not a known time zone (e.g. Europe/Paris)") from None
            return
    recipient = (_own_recipient(uow, user_id, username) if username else uow.session.get(Recipient, user_id))
    if recipient is not None and recipient.deleted_at is None:
        recipient.time_zone = time_zone


def change_settings(uow: UnitOfWork, *, user_id: str, username: str, changes: dict[str, dict[str, Any]],
                    time_zone: Any = ...) -> None:
    """Apply ``{kind: {"in_app": bool, "email": mode}}`` (either key may be left out)."""
    recipient = _own_recipient(uow, user_id, username)
    for kind, change in changes.items():
        if kind not in kinds.KINDS:
            raise Invalid(f"unknown kind '{kind}'; known kinds: {', '.join(kinds.KINDS)}")
        email = change.get("email")
        if email is not None and email not in kinds.EMAIL_MODES:
            raise Invalid(f"email must be one of {', '.join(kinds.EMAIL_MODES)}")
    if time_zone is not ...:
        set_time_zone(uow, user_id=user_id, time_zone=time_zone, username=username)
    for kind, change in changes.items():
        setting = uow.session.get(Setting, (user_id, kind))
        if setting is None:
            current = choice_for(recipient, None, kind)
            setting = Setting(user_id=user_id, kind=kind, in_app=current.in_app, email=current.email)
            uow.session.add(setting)
        if change.get("in_app") is not None:
            setting.in_app = bool(change["in_app"])
        if change.get("email") is not None:
            setting.email = change["email"]


def unsubscribe(uow: UnitOfWork, *, user_id: str, kind: str) -> str:
    """Turn off exactly one kind of email (the one-click link of an email of that kind)."""
    recipient = uow.session.get(Recipient, user_id)
    if recipient is None or recipient.deleted_at is not None:
        raise NotFound("This unsubscribe link is no longer valid")
    if kind.startswith("digest:") and kind[len("digest:"):] in kinds.DIGEST_MODES:
        mode = kind[len("digest:"):]  # a digest's link stops that digest: every kind collected in it
        for name in kinds.KINDS:
            setting = uow.session.get(Setting, (user_id, name))
            if setting is not None and setting.email == mode:
                setting.email = kinds.OFF
        return kind
    if kind not in kinds.KINDS:
        raise Invalid("This unsubscribe link is not valid")
    setting = uow.session.get(Setting, (user_id, kind))
    if setting is None:
        current = choice_for(recipient, None, kind)
        uow.session.add(Setting(user_id=user_id, kind=kind, in_app=current.in_app, email=kinds.OFF))
    else:
        setting.email = kinds.OFF
    return kind


def unread_count(session: Session, user_id: str) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0
