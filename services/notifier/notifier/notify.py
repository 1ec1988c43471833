"""Telling recipients about something: in the app, by email now, or in a later digest — as each chose.

:func:`tell` handles one recipient; :func:`tell_many` does the same for a batch of recipients in
a few statements (the fan-out of a release), inserting with ``ON CONFLICT DO NOTHING`` against
the unique keys (user, kind, event) so that running a batch twice leaves the same rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notifier import kinds, metrics
from notifier.models import MAIL_CHANNEL, PENDING, DigestItem, EmailDelivery, Notification, Recipient, Setting
from packyard.db import UnitOfWork, is_postgres


@dataclass(frozen=True)
class Choice:
    in_app: bool
    email: str


@dataclass(frozen=True)
class Notice:
    """What to tell: the in-app notification and the email (``template`` with ``context``)."""

    kind: str
    event_id: str
    title: str
    body: str
    link: str | None = None
    template: str | None = None  # the email template; defaults to the kind
    context: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    essential: bool = False  # an email sent whatever the preference (none so far besides account mail)


def choice_for(recipient: Recipient, setting: Setting | None, kind: str) -> Choice:
    if setting is not None:
        return Choice(setting.in_app, setting.email)
    return Choice(kinds.KINDS[kind].in_app, kinds.default_email(
        kind, release_alerts_email=recipient.release_alerts_email, news_email=recipient.news_email))


def _insert(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    """Insert ``rows``, skipping those that clash with a unique key; returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(insert(table).on_conflict_do_nothing().returning(table.c.id), rows)
    return len(result.all())


def _wake_mail(session: Session) -> None:
    if is_postgres(session.get_bind()):
        session.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": MAIL_CHANNEL})


def _email_context(notice: Notice, recipient: Recipient) -> dict[str, Any]:
    return {"kind": notice.kind, "username": recipient.username, "title": notice.title, "body": notice.body,
            "link": notice.link, **notice.context}


def tell_many(uow: UnitOfWork, notice: Notice, user_ids: Sequence[str], *, now: datetime) -> int:
    """Tell each of ``user_ids`` (once per user, kind and event, however often this runs)."""
    if not user_ids:
        return 0
    session = uow.session
    if session.get_bind().dialect.name == "postgresql":
        created, mailed = _tell_pg(session, notice, list(user_ids), now)
    else:
        created, mailed = _tell_rows(session, notice, list(user_ids), now)
    if created:
        metrics.NOTIFICATIONS_CREATED.labels(notice.kind).inc(created)
    if mailed:
        _wake_mail(session)
    return created


def _tell_rows(session: Session, notice: Notice, user_ids: list[str], now: datetime) -> tuple[int, int]:
    """Any database: the recipients' choices read, then the rows inserted."""
    rows = session.execute(
        sa.select(Recipient, Setting)
        .outerjoin(Setting, sa.and_(Setting.user_id == Recipient.user_id, Setting.kind == notice.kind))
        .where(Recipient.user_id.in_(user_ids), Recipient.deleted_at.is_(None))).all()
    in_app, mails, digests = [], [], []
    for recipient, setting in rows:
        choice = choice_for(recipient, setting, notice.kind)
        if choice.in_app:
            in_app.append({"id": str(uuid.uuid4()), "user_id": recipient.user_id, "type": notice.kind,
                           "title": notice.title[:200], "body": notice.body, "created_at": now, "read_at": None,
                           "event_id": notice.event_id, "link": notice.link, "data": notice.data})
        if not recipient.email or (recipient.email_bounced_at is not None and not notice.essential):
            continue
        if choice.email == kinds.IMMEDIATE or notice.essential:
            mails.append({"id": str(uuid.uuid4()), "event_id": notice.event_id, "user_id": recipient.user_id,
                          "recipient": recipient.email, "template": notice.template or notice.kind,
                          "context": _email_context(notice, recipient), "token_ciphertext": None,
                          "expires_at": None, "status": PENDING, "attempts": 0, "next_attempt_at": now,
                          "claim_id": None, "last_error": None, "created_at": now, "sent_at": None})
        elif choice.email in kinds.DIGEST_MODES:
            digests.append({"id": str(uuid.uuid4()), "user_id": recipient.user_id, "kind": notice.kind,
                            "mode": choice.email, "event_id": notice.event_id, "title": notice.title[:300],
                            "link": notice.link, "created_at": now, "digest_id": None})
    created = _insert(session, Notification.__table__, in_app)
    mailed = _insert(session, EmailDelivery.__table__, mails)
    _insert(session, DigestItem.__table__, digests)
    return created, mailed


def _tell_pg(session: Session, notice: Notice, user_ids: list[str], now: datetime) -> tuple[int, int]:
    """PostgreSQL: three INSERT ... SELECT statements over the recipients and their settings, whose
    parameters are one array of user ids — a batch of hundreds costs no more to send than one."""
    if notice.kind == kinds.RELEASE:
        default_email = "CASE WHEN r.release_alerts_email THEN 'immediate' ELSE 'off' END"
    elif notice.kind == kinds.NEWS:
        default_email = "CASE WHEN r.news_email THEN 'immediate' ELSE 'off' END"
    else:
        default_email = "CAST(:default_email AS varchar)"
    chosen = """FROM recipients r LEFT JOIN notification_settings s ON s.user_id = r.user_id AND s.kind = :kind
                 WHERE r.user_id = ANY(CAST(:users AS text[])) AND r.deleted_at IS NULL"""
    mode = f"COALESCE(s.email, {default_email})"
    params: dict[str, Any] = {
        "kind": notice.kind, "users": user_ids, "default_email": kinds.KINDS[notice.kind].email,
        "default_in_app": kinds.KINDS[notice.kind].in_app, "now": now, "event_id": notice.event_id,
        "title": notice.title[:200], "body": notice.body, "link": notice.link,
        "data": json.dumps(notice.data) if notice.data is not None else None,
        "template": notice.template or notice.kind, "essential": notice.essential,
        "context": json.dumps({"kind": notice.kind, "title": notice.title, "body": notice.body, "link": notice.link,
                               **notice.context}, default=str),
        "digest_title": notice.title[:300],
    }
    created = len(session.execute(sa.text(f"""
        INSERT INTO notifications (id, user_id, type, title, body, created_at, read_at, event_id, link, data)
        SELECT gen_random_uuid()::text, r.user_id, :kind, :title, :body, :now, NULL, :event_id, :link,
               CAST(:data AS json)
        {chosen} AND COALESCE(s.in_app, :default_in_app)
        ON CONFLICT DO NOTHING RETURNING id"""), params).all())
    mailed = len(session.execute(sa.text(f"""
        INSERT INTO email_deliveries (id, event_id, user_id, recipient, template, context, status, attempts,
                                      next_attempt_at, created_at)
        SELECT gen_random_uuid()::text, :event_id, r.user_id, r.email, :template,
               (CAST(:context AS jsonb) || jsonb_build_object('username', r.username))::json, 'pending', 0,
               :now, :now
        {chosen} AND r.email IS NOT NULL
                 AND (:essential OR (r.email_bounced_at IS NULL AND {mode} = 'immediate'))
        ON CONFLICT DO NOTHING RETURNING id"""), params).all())
    session.execute(sa.text(f"""
        INSERT INTO digest_items (id, user_id, kind, mode, event_id, title, link, created_at)
        SELECT gen_random_uuid()::text, r.user_id, :kind, {mode}, :event_id, :digest_title, :link, :now
        {chosen} AND NOT :essential AND r.email IS NOT NULL AND r.email_bounced_at IS NULL
                 AND {mode} IN ('hourly', 'daily', 'weekly')
        ON CONFLICT DO NOTHING"""), params)
    return created, mailed


def user_ids_of(session: Session, usernames: Iterable[str]) -> list[str]:
    names = sorted({n for n in usernames if n})
    if not names:
        return []
    return list(session.scalars(sa.select(Recipient.user_id).where(
        Recipient.username.in_(names), Recipient.deleted_at.is_(None)).order_by(Recipient.user_id)))


def tell(uow: UnitOfWork, notice: Notice, usernames: Iterable[str], *, now: datetime) -> int:
    """Tell the users named (unknown or deleted ones are skipped)."""
    return tell_many(uow, notice, user_ids_of(uow.session, usernames), now=now)
