"""The replica of identity's subjects (users and organizations) that repositories belong to.

Identity's events may arrive late, twice or out of order. A deleted subject is kept as a
tombstone so that an older event cannot resurrect it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from catalog.models import Subject
from packyard.db import UnitOfWork

USER = "user"
ORG = "org"


@dataclass(frozen=True)
class UserRegistered:
    user_id: str
    username: str
    full_name: str = ""
    registered: datetime | None = None


def record_user(uow: UnitOfWork, cmd: UserRegistered, at: datetime) -> None:
    """Add a user to the replica (idempotent; a deletion that arrived first wins)."""
    row = uow.session.get(Subject, cmd.username)
    if row is not None and row.identity_id == cmd.user_id:
        if row.deleted:
            return
        row.full_name = cmd.full_name
        row.registered = row.registered or cmd.registered
        return
    if row is not None:
        row.kind, row.identity_id, row.owner_id, row.revision = USER, cmd.user_id, None, 0
        row.full_name, row.registered, row.deleted, row.changed_at = cmd.full_name, cmd.registered, False, at
        return
    uow.session.add(Subject(name=cmd.username, kind=USER, identity_id=cmd.user_id, full_name=cmd.full_name,
                            registered=cmd.registered, revision=0, deleted=False, changed_at=at))


def forget_user(uow: UnitOfWork, user_id: str, username: str, at: datetime) -> None:
    """Mark a user deleted (idempotent; the tombstone also covers a registration arriving late)."""
    row = uow.session.get(Subject, username)
    if row is None:
        uow.session.add(Subject(name=username, kind=USER, identity_id=user_id, full_name="", registered=None,
                                revision=0, deleted=True, changed_at=at))
        return
    if row.identity_id != user_id or row.deleted:
        return  # the name already belongs to someone else, or this deletion was applied
    row.deleted, row.changed_at = True, at

