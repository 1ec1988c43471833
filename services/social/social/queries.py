"""Read models of social: the JSON shapes of its HTTP API, built straight from the tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from packyard.errors import NotFound
from packyard.events import format_time
from social.models import ActivityEntry, User

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


def get_live_user(session: Session, username: str) -> User:
    user = session.scalars(sa.select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"Subject '{username}' was not found")
    return user


def activity_json(entry: ActivityEntry) -> dict[str, Any]:
    body: dict[str, Any] = {"type": entry.type, "actor": entry.actor, "created": format_time(entry.created_at)}
    for key, value in (entry.details or {}).items():
        body.setdefault(key, value)
    return body


def list_activity(session: Session, username: str, start_pos: int, page_size: int = PAGE_SIZE) -> Page:
    """A user's activity log, newest first."""
    user = get_live_user(session, username)
    where = ActivityEntry.user_id == user.id
    total = session.scalar(sa.select(sa.func.count()).select_from(ActivityEntry).where(where)) or 0
    entries = session.scalars(
        sa.select(ActivityEntry).where(where)
        .order_by(ActivityEntry.created_at.desc(), ActivityEntry.id.desc())
        .offset(start_pos).limit(page_size)
    ).all()
    return Page([activity_json(e) for e in entries], total, start_pos)
