"""Social's behaviour: plain functions over a unit of work.

No Flask, no pika, no environment here: views, consumers and tests all call these the same way.
Consumers apply identity's events; events can arrive late or twice, so every function here
leaves the same state however often and in whatever order it is called.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from packyard.db import UnitOfWork
from social.models import ActivityEntry, User

JOINED = "joined"


def _release_username(session: Session, username: str, user_id: str) -> None:
    """Take ``username`` away from a stale replica row.

    Identity never lets two live accounts share a name, so another row holding it belongs to a
    deleted account whose deletion event has not arrived yet (the name was reused).
    """
    holder = session.scalars(sa.select(User).where(User.username == username, User.id != user_id)).first()
    if holder is not None:
        holder.username = None
        session.flush()


def record_registration(uow: UnitOfWork, *, user_id: str, username: str, registered: datetime,
                        event_id: str) -> None:
    """Add the user to the replica and a "joined" entry to their activity log (once)."""
    session = uow.session
    user = session.get(User, user_id)
    if user is not None and user.deleted_at is not None:
        return  # the account was deleted before this registration reached us
    _release_username(session, username, user_id)
    if user is None:
        session.add(User(id=user_id, username=username, registered_at=registered))
    else:
        user.username = username
        user.registered_at = registered
    joined = session.scalar(sa.select(sa.func.count()).select_from(ActivityEntry).where(
        ActivityEntry.user_id == user_id, ActivityEntry.type == JOINED))
    if not joined:
        session.add(ActivityEntry(user_id=user_id, type=JOINED, actor_id=user_id, actor=username,
                                  created_at=registered, event_id=event_id))


def forget_user(uow: UnitOfWork, *, user_id: str, now: datetime) -> None:
    """Erase a deleted account: its own activity log goes, its name leaves other people's logs.

    A tombstone (the id alone) stays in the replica so that a late event about the account
    cannot recreate it.
    """
    session = uow.session
    user = session.get(User, user_id)
    if user is None:
        session.add(User(id=user_id, username=None, registered_at=None, deleted_at=now))
    else:
        user.username = None
        user.registered_at = None
        user.deleted_at = user.deleted_at or now
    session.execute(sa.delete(ActivityEntry).where(ActivityEntry.user_id == user_id))
    session.execute(sa.update(ActivityEntry).where(ActivityEntry.actor_id == user_id)
                    .values(actor_id=None, actor=None))
