"""Read models of social: the JSON shapes of its HTTP API, built straight from the tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from packyard.errors import NotFound
from packyard.events import format_time
from packyard.paging import Page, page_of
from social.models import ActivityEntry, User

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


def list_activity(session: Session, username: str, start_pos: int) -> Page[dict[str, Any]]:
    """A user's activity log, newest first."""
    user = get_live_user(session, username)
    page = page_of(session, sa.select(ActivityEntry).where(ActivityEntry.user_id == user.id)
                   .order_by(ActivityEntry.created_at.desc(), ActivityEntry.id.desc()), start_pos)
    return Page([activity_json(e) for e in page.items], page.total, start_pos)
