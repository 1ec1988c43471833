"""Digests (one email listing everything since the last one) and admins' news, both worker loops.

Digest: a recipient who chose ``hourly``, ``daily`` or ``weekly`` email for a kind gets its
notices collected in ``digest_items``. A digest is due at the first boundary after its oldest
item, in the recipient's time zone (UTC when unknown): the next full hour; the next 08:00; the
next Monday 08:00. The email and the marking of its items happen in one transaction, and the
email's event id names the user, mode and boundary — a digest is sent once.

News: a platform admin's announcement goes to recipients in ``user_id`` order, ``rate`` per
minute at most; the position reached is saved with each step's emails, so a restarted worker
goes on where the last step ended, and an email's uniqueness per (event, address) keeps a
repeated step from mailing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from notifier import kinds
from notifier.loops import BackgroundLoop
from notifier.models import DigestItem, EmailDelivery, News, Recipient
from notifier.notify import Notice, _insert, _wake_mail, tell_many
from packyard.db import UnitOfWork
from packyard.errors import Forbidden, Invalid

SEND_AT = time(8, 0)


def _zone(name: str | None) -> ZoneInfo | timezone:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def due_at(mode: str, oldest: datetime, zone_name: str | None) -> datetime:
    """When a digest of ``mode`` whose oldest item is ``oldest`` is due (aware, UTC)."""
    zone = _zone(zone_name)
    local = oldest.astimezone(zone)
    if mode == kinds.HOURLY:
        due = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    else:
        day = local.date()
        candidate = datetime.combine(day, SEND_AT, tzinfo=zone)
        if candidate <= local:
            candidate = datetime.combine(day + timedelta(days=1), SEND_AT, tzinfo=zone)
        if mode == kinds.WEEKLY:
            days = (7 - candidate.weekday()) % 7  # Monday
            candidate = datetime.combine(candidate.date() + timedelta(days=days), SEND_AT, tzinfo=zone)
        due = candidate
    return due.astimezone(UTC)


def send_due_digests(uow: UnitOfWork, *, now: datetime, limit: int = 200) -> int:
    session = uow.session
    groups = session.execute(
        sa.select(DigestItem.user_id, DigestItem.mode, sa.func.min(DigestItem.created_at))
        .where(DigestItem.digest_id.is_(None)).group_by(DigestItem.user_id, DigestItem.mode)
        .order_by(sa.func.min(DigestItem.created_at)).limit(limit)).all()
    sent = 0
    for user_id, mode, oldest in groups:
        recipient = session.get(Recipient, user_id)
        if recipient is None:
            continue
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        due = due_at(mode, oldest, recipient.time_zone)
        if now < due:
            continue
        digest_id = f"digest:{user_id}:{mode}:{due.strftime('%Y-%m-%dT%H:%MZ')}"
        items = session.scalars(sa.select(DigestItem).where(
            DigestItem.user_id == user_id, DigestItem.mode == mode, DigestItem.digest_id.is_(None),
            DigestItem.created_at < due).order_by(DigestItem.created_at).with_for_update(skip_locked=True)).all()
        if not items:
            continue
        for item in items:
            item.digest_id = digest_id
        if recipient.email and recipient.deleted_at is None and recipient.email_bounced_at is None:
            context = {"kind": f"digest:{mode}", "mode": mode, "username": recipient.username,
                       "items": [{"title": i.title, "link": i.link, "kind": i.kind} for i in items]}
            if _insert(session, EmailDelivery.__table__, [{
                    "id": str(uuid.uuid4()), "event_id": digest_id, "user_id": user_id,
                    "recipient": recipient.email, "template": "digest", "context": context,
                    "token_ciphertext": None, "expires_at": None, "status": "pending", "attempts": 0,
                    "next_attempt_at": now, "claim_id": None, "last_error": None, "created_at": now,
                    "sent_at": None}]):
                _wake_mail(session)
                sent += 1
    return sent


# -- news -----------------------------------------------------------------------------------------

def post_news(uow: UnitOfWork, *, principal: Any, subject: str, body: str, now: datetime) -> News:
    if not principal.admin:
        raise Forbidden("Only platform administrators may post news")
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject or len(subject) > 200 or any(ord(c) < 0x20 for c in subject):
        raise Invalid("subject must be 1 to 200 characters on one line")
    if not body or len(body) > 50_000:
        raise Invalid("body must be 1 to 50000 characters")
    news = News(id=str(uuid.uuid4()), subject=subject, body=body, posted_by=principal.username, created_at=now,
                cursor=None, sent=0, finished_at=None)
    uow.session.add(news)
    uow.session.flush()
    return news


def news_step(uow: UnitOfWork, *, now: datetime, count: int) -> int:
    """Tell the next ``count`` recipients of the oldest unfinished news; returns how many were handled."""
    session = uow.session
    news = session.scalars(sa.select(News).where(News.finished_at.is_(None)).order_by(News.created_at)
                           .limit(1).with_for_update(skip_locked=True)).first()
    if news is None:
        return 0
    query = sa.select(Recipient.user_id).where(Recipient.deleted_at.is_(None), Recipient.username.is_not(None))
    if news.cursor is not None:
        query = query.where(Recipient.user_id > news.cursor)
    batch = list(session.scalars(query.order_by(Recipient.user_id).limit(count)))
    if batch:
        tell_many(uow, Notice(kind=kinds.NEWS, event_id=f"news:{news.id}", title=news.subject,
                              body=news.body[:2000], template="news",
                              context={"subject": news.subject, "news": news.body}), batch, now=now)
        news.cursor, news.sent = batch[-1], news.sent + len(batch)
    if len(batch) < count:
        news.finished_at = now
    return len(batch)


class DigestAndNewsLoop(BackgroundLoop):
    """Sends due digests and moves the news along, ``news_per_minute`` recipients a minute at most."""

    name = "digests and news"

    def __init__(self, *, engine: Any, uow_factory: Callable[[], UnitOfWork], clock: Callable[[], datetime],
                 interval: float = 5.0, news_per_minute: int = 600) -> None:
        super().__init__(engine=engine, interval=interval)
        self._uow, self._clock = uow_factory, clock
        self._per_step = max(1, int(news_per_minute * interval / 60))

    def run_once(self) -> int:
        with self._uow() as uow:
            done = send_due_digests(uow, now=self._clock())
            uow.commit()
        with self._uow() as uow:
            done += news_step(uow, now=self._clock(), count=self._per_step)
            uow.commit()
        return 0  # wait a full interval: the interval is what bounds the news rate
