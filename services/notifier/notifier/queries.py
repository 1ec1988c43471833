"""Read models of the notifier: the JSON shapes of its HTTP API, built straight from the tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from notifier.models import Notification
from packyard.events import format_time

PAGE_SIZE = 50  # Bintray's page size


@dataclass(frozen=True)
class Page:
    """One page of a list, Bintray style: ``start_pos`` is the index of the first item."""

    items: list[dict[str, Any]]
    total: int
    start_pos: int

    @property
    def end_pos(self) -> int:
        """Index of the last item on the page (inclusive, as Bintray's X-RangeLimit-EndPos)."""
        return self.start_pos + len(self.items) - 1


def notification_json(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "type": notification.type,
        "title": notification.title,
        "body": notification.body,
        "created": format_time(notification.created_at),
        "read": notification.read_at is not None,
    }


def list_notifications(session: Session, user_id: str, *, unread_only: bool, start_pos: int,
                       page_size: int = PAGE_SIZE) -> Page:
    """A user's notifications, newest first."""
    where = [Notification.user_id == user_id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = session.scalar(sa.select(sa.func.count()).select_from(Notification).where(*where)) or 0
    rows = session.scalars(sa.select(Notification).where(*where)
                           .order_by(Notification.created_at.desc(), Notification.id.desc())
                           .offset(start_pos).limit(page_size)).all()
    return Page([notification_json(n) for n in rows], total, start_pos)
