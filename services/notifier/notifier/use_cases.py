"""The notifier's behaviour: plain functions over a unit of work.

No Flask, no pika, no SMTP here. Consumers apply identity's events, which can arrive late or
twice: every function leaves the same state however often and in whatever order it is called.
Emails are only *queued* here (a row in ``email_deliveries``, committed with the rest); the mail
sender sends them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from notifier import metrics
from notifier.models import MAIL_CHANNEL, PENDING, EmailDelivery, Notification, Recipient
from packyard.db import UnitOfWork, is_postgres
from packyard.errors import NotFound

# Email templates (rendered by notifier.mail.templates) and notification types.
WELCOME = "welcome"
EMAIL_CONFIRMATION = "email_confirmation"
EMAIL_CHANGED_NOTICE = "email_changed_notice"
PASSWORD_RESET = "password_reset"


@dataclass(frozen=True)
class Preferences:
    show_email: bool
    release_alerts_email: bool
    news_email: bool
    revision: int


# -- recipients -------------------------------------------------------------------------------

def _release_username(session: Session, username: str, user_id: str) -> None:
    """Take ``username`` away from a stale replica row.

    Identity never lets two live accounts share a name, so another row holding it belongs to a
    deleted account whose deletion event has not arrived yet (the name was reused).
    """
    holder = session.scalars(sa.select(Recipient).where(Recipient.username == username,
                                                        Recipient.user_id != user_id)).first()
    if holder is not None:
        holder.username = None
        session.flush()


def _live_recipient(session: Session, user_id: str, username: str) -> Recipient | None:
    """The recipient ``user_id``, created when an event about them beats their registration;
    None when the account was deleted."""
    recipient = session.get(Recipient, user_id)
    if recipient is not None and recipient.deleted_at is not None:
        return None
    _release_username(session, username, user_id)
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
    newest = recipient.email_changed_at is None or changed_at >= _aware(recipient.email_changed_at)
    if newest:
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


def forget_recipient(uow: UnitOfWork, *, user_id: str, now: datetime) -> None:
    """A deleted account: drop its address, preferences, notifications and every email to it."""
    session = uow.session
    session.execute(sa.delete(Notification).where(Notification.user_id == user_id))
    session.execute(sa.delete(EmailDelivery).where(EmailDelivery.user_id == user_id))
    recipient = session.get(Recipient, user_id)
    if recipient is None:
        recipient = Recipient(user_id=user_id, preferences_revision=0)
        session.add(recipient)
    recipient.username = None
    recipient.email = None
    recipient.email_changed_at = None
    recipient.registered_at = None
    recipient.show_email, recipient.release_alerts_email, recipient.news_email = False, False, False
    recipient.deleted_at = recipient.deleted_at or now


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
    result = uow.session.execute(sa.update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=now))
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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
