"""Writing the activity log: one row per entry per log (a user's or an organization's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from social.models import ActivityEntry

JOINED = "joined"
ORG_CREATED = "created_org"
ORG_JOINED = "joined_org"
REPO_CREATED = "created_repo"
PACKAGE_CREATED = "created_package"
VERSION_RELEASED = "released_version"
VERSION_SIGNED = "signed_version"
REVIEWED = "reviewed"
COMMENTED = "commented"
WATCHED = "watched"
FOLLOWED = "followed"
KINDS = (JOINED, ORG_CREATED, ORG_JOINED, REPO_CREATED, PACKAGE_CREATED, VERSION_RELEASED, VERSION_SIGNED,
         REVIEWED, COMMENTED, WATCHED, FOLLOWED)


def record(session: Session, *, log_id: str, kind: str, actor_id: str | None, actor: str | None,
           at: datetime, details: dict[str, Any] | None = None, event_id: str | None = None,
           package: tuple[str, str, str] | None = None, repo: tuple[str, str] | None = None,
           private: bool = False) -> None:
    """Add an entry to a log (once per event: the unique constraint guards a second delivery)."""
    if event_id is not None and session.scalar(sa.select(sa.func.count()).select_from(ActivityEntry).where(
            ActivityEntry.user_id == log_id, ActivityEntry.type == kind, ActivityEntry.event_id == event_id)):
        return
    if package is not None:
        repo = repo or (package[0], package[1])
    session.add(ActivityEntry(
        user_id=log_id, type=kind, actor_id=actor_id, actor=actor, created_at=at, details=details or None,
        event_id=event_id, package_key="/".join(package) if package else None,
        repo_owner=repo[0] if repo else None, repo_name=repo[1] if repo else None, private=private))
