"""Applying identity's and catalog's events: the replicas social decides with, the activity entries
those events make, and the watches a change of access ends.

Events can arrive late or twice: each function leaves the same state however often it is called,
and applies a change only when it is newer (by the publisher's ``revision``, or the event time where
the publisher carries none) than what the replica holds.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from packyard.db import UnitOfWork, release_name
from social.models import (
    ActivityEntry,
    Block,
    Comment,
    ConversationState,
    Follow,
    Membership,
    Message,
    Org,
    Package,
    Repo,
    RepoPermission,
    Review,
    Team,
    User,
    Version,
    Watch,
)
from social.use_cases import activity, follows, watches
from social.use_cases.common import Subject, find_subject


def gravatar_id(email: str | None) -> str | None:
    return hashlib.md5(email.strip().lower().encode()).hexdigest() if email else None  # noqa: S324 (gravatar's id)


def record_registration(uow: UnitOfWork, *, user_id: str, username: str, registered: datetime,
                        event_id: str, full_name: str | None = None, email: str | None = None) -> None:
    """Add the user to the replica and a "joined" entry to their activity log (once)."""
    session = uow.session
    user = session.get(User, user_id)
    if user is not None and user.deleted_at is not None:
        return  # the account was deleted before this registration reached us
    release_name(session, User.username, username, User.id, user_id)
    if user is None:
        session.add(User(id=user_id, username=username, registered_at=registered, full_name=full_name,
                         gravatar_id=gravatar_id(email)))
    else:
        user.username = username
        user.registered_at = registered
        user.full_name = full_name if full_name is not None else user.full_name
        user.gravatar_id = gravatar_id(email) or user.gravatar_id
    joined = session.scalar(sa.select(sa.func.count()).select_from(ActivityEntry).where(
        ActivityEntry.user_id == user_id, ActivityEntry.type == activity.JOINED))
    if not joined:
        session.add(ActivityEntry(user_id=user_id, type=activity.JOINED, actor_id=user_id, actor=username,
                                  created_at=registered, event_id=event_id))


def record_profile(uow: UnitOfWork, *, user_id: str, full_name: str | None = None, email: str | None = None) -> None:
    user = uow.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        return
    if full_name is not None:
        user.full_name = full_name
    if email:
        user.gravatar_id = gravatar_id(email)


def forget_user(uow: UnitOfWork, *, user_id: str, now: datetime) -> None:
    """Account deletion.

    Removed: the user's follows (both ways), watches, blocks (both ways), activity log, comments and
    conversation views; their follows and watches end with events so that counters follow.
    Kept, anonymized: messages they sent (the body erased: the other party's own messages stay
    readable, theirs show as "deleted user"), their reviews (text erased, shown as by "deleted user",
    the anonymous rating stays in the package's average, an owner's reply stays), and entries about
    them in other people's logs (the actor's name cleared).
    A tombstone (the id alone) stays in the replica so that a late event cannot recreate the account.
    """
    session = uow.session
    user = session.get(User, user_id)
    username = user.username if user is not None else None
    # End relationships while the name is still known, publishing what counters need.
    for row in session.scalars(sa.select(Follow).where(Follow.follower_id == user_id, Follow.active.is_(True))).all():
        subject = _subject_by_id(session, row.followee_id, row.followee_type)
        if subject is not None:
            follows.stop(uow, user_id, username or "", subject)
    if username is not None:
        me_subject = Subject(user_id, username, "user")
        for row in session.scalars(sa.select(Follow).where(Follow.followee_id == user_id,
                                                           Follow.active.is_(True))).all():
            follower = session.get(User, row.follower_id)
            follows.stop(uow, row.follower_id, (follower.username if follower else None) or "", me_subject)
    for watch in session.scalars(sa.select(Watch).where(Watch.user_id == user_id, Watch.active.is_(True))).all():
        watches.stop_watch(uow, watch, username or "", "account_deleted")
    if user is None:
        session.add(User(id=user_id, username=None, registered_at=None, deleted_at=now))
    else:
        user.username = None
        user.registered_at = None
        user.full_name = None
        user.gravatar_id = None
        user.deleted_at = user.deleted_at or now
    session.execute(sa.delete(Block).where(sa.or_(Block.blocker_id == user_id, Block.blocked_id == user_id)))
    session.execute(sa.delete(ActivityEntry).where(ActivityEntry.user_id == user_id))
    session.execute(sa.update(ActivityEntry).where(ActivityEntry.actor_id == user_id)
                    .values(actor_id=None, actor=None))
    session.execute(sa.delete(Comment).where(Comment.user_id == user_id))
    session.execute(sa.delete(ConversationState).where(ConversationState.user_id == user_id))
    session.execute(sa.update(Message).where(Message.sender_id == user_id).values(body=None, subject=None))
    session.execute(sa.update(Review).where(Review.user_id == user_id).values(user_id=None, title=None, body=None))


def _subject_by_id(session: Session, subject_id: str, kind: str) -> Subject | None:
    if kind == "user":
        user = session.get(User, subject_id)
        return Subject(subject_id, user.username, "user") if user is not None and user.username else None
    org = session.get(Org, subject_id)
    return Subject(subject_id, org.name, "org") if org is not None and org.name else None


# -- organizations, members, teams ------------------------------------------------------------

def record_org(uow: UnitOfWork, *, org_id: str, name: str, full_name: str | None, owner: str | None,
               owner_id: str | None, revision: int, created: bool, at: datetime, event_id: str) -> None:
    session = uow.session
    org = session.get(Org, org_id)
    if org is not None and (org.deleted or revision <= org.revision):
        return
    holder = session.scalars(sa.select(Org).where(Org.name == name, Org.id != org_id)).first()
    if holder is not None:
        holder.name = None
        session.flush()
    if org is None:
        org = Org(id=org_id, name=name, full_name=full_name, owner_id=owner_id, revision=revision, deleted=False)
        session.add(org)
    else:
        org.name, org.revision = name, revision
        org.full_name = full_name if full_name is not None else org.full_name
        org.owner_id = owner_id or org.owner_id
    if created and owner_id:
        activity.record(session, log_id=org_id, kind=activity.ORG_CREATED, actor_id=owner_id, actor=owner, at=at,
                        details={"org": name}, event_id=event_id)
        activity.record(session, log_id=owner_id, kind=activity.ORG_CREATED, actor_id=owner_id, actor=owner, at=at,
                        details={"org": name}, event_id=event_id)


def delete_org(uow: UnitOfWork, *, org_id: str, name: str, revision: int) -> None:
    session = uow.session
    org = session.get(Org, org_id)
    if org is None:
        session.add(Org(id=org_id, name=None, revision=revision, deleted=True))
        return
    if org.deleted:
        return
    org.deleted, org.revision, org.name = True, max(org.revision, revision), None
    session.execute(sa.update(Follow).where(Follow.followee_id == org_id).values(active=False))
    session.execute(sa.delete(ActivityEntry).where(ActivityEntry.user_id == org_id))
    watches.revalidate(uow, name)


def record_member(uow: UnitOfWork, *, org_id: str, org: str, user_id: str, username: str, role: str | None,
                  revision: int, at: datetime, event_id: str, added: bool) -> None:
    session = uow.session
    row = session.get(Membership, (org_id, user_id), with_for_update=True)
    if row is not None and revision <= row.revision:
        return
    if row is None:
        session.add(Membership(org_id=org_id, user_id=user_id, org=org, username=username, role=role,
                               revision=revision))
    else:
        row.role, row.revision, row.username, row.org = role, revision, username, org
    session.flush()
    if added:
        activity.record(session, log_id=user_id, kind=activity.ORG_JOINED, actor_id=user_id, actor=username, at=at,
                        details={"org": org}, event_id=event_id)
        activity.record(session, log_id=org_id, kind=activity.ORG_JOINED, actor_id=user_id, actor=username, at=at,
                        details={"org": org}, event_id=event_id)
    if role not in ("owner", "admin"):
        watches.revalidate_user(uow, username)


def record_team(uow: UnitOfWork, *, subject: str, subject_type: str, team: str, members: list[str] | None,
                revision: int, deleted: bool) -> None:
    session = uow.session
    row = session.get(Team, (subject, team), with_for_update=True)
    if row is not None and revision <= row.revision:
        return
    before = set(row.members or []) if row is not None and not row.deleted else set()
    if row is None:
        row = Team(subject=subject, name=team, subject_type=subject_type, members=list(members or []),
                   deleted=deleted, revision=revision)
        session.add(row)
    else:
        row.members, row.deleted, row.revision = list(members or []), deleted, revision
    session.flush()
    for username in before - set(row.members if not deleted else []):
        watches.revalidate_user(uow, username)


# -- repositories, packages, versions, permissions -------------------------------------------

def _subject_id(session: Session, name: str) -> str | None:
    found = find_subject(session, name)
    return None if found is None else found.id


def record_repo(uow: UnitOfWork, *, owner: str, repo: str, private: bool, revision: int | None, deleted: bool,
                at: datetime, event_id: str, created: bool) -> None:
    session = uow.session
    row = session.get(Repo, (owner, repo), with_for_update=True)
    revision = revision or 0
    if row is not None and revision and revision <= row.revision:
        return
    if row is None:
        row = Repo(owner=owner, name=repo, private=private, deleted=deleted, revision=revision)
        session.add(row)
    else:
        row.deleted, row.revision = deleted, revision or row.revision
        if not deleted:
            row.private = private
    session.flush()
    if created and not deleted:
        log_id = _subject_id(session, owner)
        if log_id is not None:
            activity.record(session, log_id=log_id, kind=activity.REPO_CREATED, actor_id=None, actor=owner, at=at,
                            details={"owner": owner, "repo": repo}, event_id=event_id, repo=(owner, repo),
                            private=private)
    if deleted or row.private:
        watches.revalidate(uow, owner, repo)


def record_package(uow: UnitOfWork, *, owner: str, repo: str, package: str, private: bool, deleted: bool,
                   at: datetime, event_id: str, created: bool) -> None:
    session = uow.session
    row = session.get(Package, (owner, repo, package), with_for_update=True)
    if row is not None and at < row.changed_at:
        return
    if row is None:
        session.add(Package(owner=owner, repo=repo, name=package, deleted=deleted, changed_at=at))
    else:
        row.deleted, row.changed_at = deleted, at
    if session.get(Repo, (owner, repo)) is None:  # the repository's own event is still on its way
        session.add(Repo(owner=owner, name=repo, private=private, deleted=False, revision=0))
    session.flush()
    if created and not deleted:
        log_id = _subject_id(session, owner)
        if log_id is not None:
            activity.record(session, log_id=log_id, kind=activity.PACKAGE_CREATED, actor_id=None, actor=owner,
                            at=at, details={"owner": owner, "repo": repo, "package": package}, event_id=event_id,
                            package=(owner, repo, package), private=private)
    if deleted:
        watches.revalidate(uow, owner, repo, package)


def record_version(uow: UnitOfWork, *, owner: str, repo: str, package: str, version: str, private: bool,
                   deleted: bool, at: datetime) -> None:
    session = uow.session
    row = session.get(Version, (owner, repo, package, version), with_for_update=True)
    if row is not None and at < row.changed_at:
        return
    if row is None:
        session.add(Version(owner=owner, repo=repo, package=package, name=version, deleted=deleted, changed_at=at))
    else:
        row.deleted, row.changed_at = deleted, at
    if session.get(Package, (owner, repo, package)) is None:
        session.add(Package(owner=owner, repo=repo, name=package, deleted=False, changed_at=at))
    if session.get(Repo, (owner, repo)) is None:
        session.add(Repo(owner=owner, name=repo, private=private, deleted=False, revision=0))


def record_release(uow: UnitOfWork, *, owner: str, repo: str, package: str, version: str, private: bool,
                   publisher: str | None, at: datetime, event_id: str, kind: str = activity.VERSION_RELEASED,
                   extra: dict[str, Any] | None = None) -> None:
    session = uow.session
    if kind == activity.VERSION_RELEASED:
        record_version(uow, owner=owner, repo=repo, package=package, version=version, private=private,
                       deleted=False, at=at)
    log_id = _subject_id(session, owner)
    if log_id is None:
        return
    actor_id = _subject_id(session, publisher) if publisher else None
    activity.record(session, log_id=log_id, kind=kind, actor_id=actor_id, actor=publisher or owner, at=at,
                    details={"owner": owner, "repo": repo, "package": package, "version": version, **(extra or {})},
                    event_id=event_id, package=(owner, repo, package), private=private)


def record_permission(uow: UnitOfWork, *, owner: str, repo: str, team: str, permission: str | None,
                      revision: int) -> None:
    session = uow.session
    row = session.get(RepoPermission, (owner, repo, team), with_for_update=True)
    if row is not None and revision <= row.revision:
        return
    if row is None:
        session.add(RepoPermission(owner=owner, repo=repo, team=team, permission=permission, revision=revision))
    else:
        row.permission, row.revision = permission, revision
    session.flush()
    if permission is None:
        watches.revalidate(uow, owner, repo)
