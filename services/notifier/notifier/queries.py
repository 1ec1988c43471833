"""Read models of the notifier: the JSON shapes of its HTTP API, built straight from the tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from notifier.models import Announcement, Delivery, News, Notification
from packyard.events import format_time
from packyard.paging import Page, page_of


def notification_json(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "type": notification.type,
        "title": notification.title,
        "body": notification.body,
        "created": format_time(notification.created_at),
        "read": notification.read_at is not None,
        "link": notification.link,
        "data": notification.data,
    }


def list_notifications(session: Session, user_id: str, *, unread_only: bool,
                       start_pos: int, kinds: list[str] | None = None) -> Page[dict[str, Any]]:
    """A user's notifications, newest first."""
    where = [Notification.user_id == user_id]
    if kinds:
        where.append(Notification.type.in_(kinds))
    if unread_only:
        where.append(Notification.read_at.is_(None))
    page = page_of(session, sa.select(Notification).where(*where)
                   .order_by(Notification.created_at.desc(), Notification.id.desc()), start_pos)
    return Page([notification_json(n) for n in page.items], page.total, start_pos)


def _time(moment: Any) -> str | None:
    return format_time(moment) if moment is not None else None


def delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id, "delivery_id": d.message_id, "kind": d.kind, "owner": d.owner, "repo": d.repo,
        "package": d.package, "version": d.version, "url": d.url, "method": d.method, "status": d.status,
        "attempts": d.attempts, "max_attempts": d.max_attempts,
        "request": {"headers": d.request_headers or {}, "body": d.payload if d.method != "get" else ""},
        "response": ({"status": d.response_status, "body": d.response_body}
                     if d.response_status is not None else None),
        "duration_ms": d.duration_ms, "error": d.error, "created": format_time(d.created_at),
        "finished": _time(d.finished_at), "next_attempt": _time(d.next_attempt_at) if d.status == "pending" else None,
    }


def list_deliveries(session: Session, username: str, start_pos: int) -> Page[dict[str, Any]]:
    page = page_of(session, sa.select(Delivery).where(Delivery.username == username)
                   .order_by(Delivery.created_at.desc(), Delivery.id.desc()), start_pos)
    return Page([delivery_json(d) for d in page.items], page.total, start_pos)


def announcements_of(session: Session, user_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(sa.select(Announcement).where(Announcement.user_id == user_id)
                           .order_by(Announcement.owner, Announcement.repo, Announcement.package))
    return [{"owner": a.owner, "repo": a.repo, "package": a.package, "mastodon": True} for a in rows]


def news_json(news: News) -> dict[str, Any]:
    return {"id": news.id, "subject": news.subject, "posted_by": news.posted_by,
            "created": format_time(news.created_at),
            "sent": news.sent, "finished": _time(news.finished_at)}


def list_news(session: Session) -> list[dict[str, Any]]:
    return [news_json(n) for n in session.scalars(sa.select(News).order_by(News.created_at.desc()).limit(100))]
