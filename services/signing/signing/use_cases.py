"""Signing's behaviour: plain functions over a unit of work.

No Flask, no pika, no environment here. The subject replica follows identity's events, which can
arrive late or twice: every function leaves the same state however often and in whatever order
it is called.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from packyard.db import UnitOfWork
from signing.models import Subject


def _release_name(session: Session, name: str, subject_id: str) -> None:
    """Take ``name`` away from a stale replica row.

    Identity never lets two live subjects share a name, so another row holding it belongs to a
    subject whose deletion has not reached us yet (the name was reused).
    """
    holder = session.scalars(sa.select(Subject).where(Subject.name == name, Subject.id != subject_id)).first()
    if holder is not None:
        holder.name = None
        session.flush()


def record_subject(uow: UnitOfWork, *, subject_id: str, name: str, kind: str, revision: int = 0) -> None:
    """Add or refresh a user or organization, unless we already know a newer state of it."""
    session = uow.session
    subject = session.get(Subject, subject_id)
    if subject is not None and (subject.deleted_at is not None or subject.revision > revision):
        return
    _release_name(session, name, subject_id)
    if subject is None:
        session.add(Subject(id=subject_id, name=name, kind=kind, revision=revision))
    else:
        subject.name, subject.kind, subject.revision = name, kind, revision


def forget_subject(uow: UnitOfWork, *, subject_id: str, kind: str, revision: int = 0, now: datetime) -> None:
    """A deleted user or organization: keep only a tombstone of its id."""
    session = uow.session
    subject = session.get(Subject, subject_id)
    if subject is None:
        session.add(Subject(id=subject_id, name=None, kind=kind, revision=revision, deleted_at=now))
        return
    subject.name = None
    subject.revision = max(subject.revision, revision)
    subject.deleted_at = subject.deleted_at or now
