"""Read models of the notifier: the JSON shapes of its HTTP API, built straight from the tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from notifier.models import Notification
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
    }


def list_notifications(session: Session, user_id: str, *, unread_only: bool,
                       start_pos: int) -> Page[dict[str, Any]]:
    """A user's notifications, newest first."""
    where = [Notification.user_id == user_id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    page = page_of(session, sa.select(Notification).where(*where)
                   .order_by(Notification.created_at.desc(), Notification.id.desc()), start_pos)
    return Page([notification_json(n) for n in page.items], page.total, start_pos)
