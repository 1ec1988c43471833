"""Following users and organizations (Bintray's "Watching" / "Watchers" lists)."""

from __future__ import annotations

from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Invalid, NotFound
from social import events
from social.models import Follow
from social.use_cases import activity
from social.use_cases.common import Subject, bump, counter, find_subject, me


def _subject(uow: UnitOfWork, name: str) -> Subject:
    subject = find_subject(uow.session, name)
    if subject is None:
        raise NotFound(f"Subject '{name}' was not found")
    return subject


def followers_key(subject_id: str, kind: str) -> str:
    return f"followers:{kind}:{subject_id}"


def _publish(uow: UnitOfWork, event_type, follower: str, subject: Subject, row: Follow, count: int,
             count_revision: int) -> None:
    uow.publish(event_type, {
        "follower": follower, "followee": subject.name, "followee_type": subject.kind,
        "followers_count": count, "revision": row.revision, "count_revision": count_revision,
    }, subject=subject.name)


def follow(uow: UnitOfWork, principal: Principal, name: str) -> None:
    """Start following ``name`` (a user or an organization); following again changes nothing."""
    session = uow.session
    follower = me(session, principal)
    subject = _subject(uow, name)
    if subject.kind == "user" and subject.id == follower.id:
        raise Invalid("You cannot follow yourself")
    row = session.get(Follow, (follower.id, subject.id), with_for_update=True)
    if row is not None and row.active:
        return
    now = uow.clock()
    if row is None:
        row = Follow(follower_id=follower.id, followee_id=subject.id, followee_type=subject.kind,
                     active=True, revision=1, created_at=now)
        session.add(row)
    else:
        row.active, row.revision, row.created_at = True, row.revision + 1, now
    count = bump(session, followers_key(subject.id, subject.kind), count=+1)
    activity.record(session, log_id=follower.id, kind=activity.FOLLOWED, actor_id=follower.id,
                    actor=follower.username, at=now,
                    details={"followee": subject.name, "followee_type": subject.kind})
    _publish(uow, events.FOLLOW_STARTED, follower.username or "", subject, row, count.count, count.revision)


def stop(uow: UnitOfWork, follower_id: str, follower_name: str, subject: Subject) -> None:
    session = uow.session
    row = session.get(Follow, (follower_id, subject.id), with_for_update=True)
    if row is None or not row.active:
        return
    row.active, row.revision = False, row.revision + 1
    count = bump(session, followers_key(subject.id, subject.kind), count=-1)
    _publish(uow, events.FOLLOW_STOPPED, follower_name, subject, row, count.count, count.revision)


def unfollow(uow: UnitOfWork, principal: Principal, name: str) -> None:
    """Stop following ``name``; not following it already changes nothing."""
    follower = me(uow.session, principal)
    subject = _subject(uow, name)
    if subject.kind == "user" and subject.id == follower.id:
        raise Invalid("You cannot follow yourself")
    stop(uow, follower.id, follower.username or "", subject)


def followers_count(uow: UnitOfWork, subject: Subject) -> int:
    return counter(uow.session, followers_key(subject.id, subject.kind)).count
