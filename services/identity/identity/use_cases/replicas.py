"""What identity keeps of other services' facts: a subject's repositories (``repos``), followers
(``followers_count``), storage used (``quota_used_bytes``) and a team's repository permissions
(``permitted_repos``).

Facts may arrive late or twice: each is applied only when it is newer than what is already held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from identity.models import Org, SubjectRepo, TeamPermission, User
from packyard.db import UnitOfWork, as_utc


@dataclass(frozen=True)
class RecordRepo:
    owner: str
    repo: str
    private: bool
    revision: int | None  # catalog's revision of the repository, when the event carries one
    deleted: bool = False


def _is_newer(row: SubjectRepo, revision: int | None, moment: datetime) -> bool:
    """Catalog's revision orders events when both sides have one; the event time otherwise."""
    if revision is not None and row.revision is not None:
        return revision > row.revision
    return row.changed_at is None or moment >= as_utc(row.changed_at)


def record_repo(uow: UnitOfWork, cmd: RecordRepo, moment: datetime) -> None:
    """A repository created, changed or deleted; a deletion is a tombstone a late "created" cannot revive."""
    row = uow.session.get(SubjectRepo, (cmd.owner, cmd.repo))
    if row is None:
        uow.session.add(SubjectRepo(subject=cmd.owner, repo=cmd.repo, private=cmd.private,
                                    deleted=cmd.deleted, revision=cmd.revision, changed_at=moment))
        return
    if not _is_newer(row, cmd.revision, moment):
        return
    row.deleted = cmd.deleted
    if not cmd.deleted:
        row.private = cmd.private
    row.revision = cmd.revision if cmd.revision is not None else row.revision
    row.changed_at = moment


def record_followers(uow: UnitOfWork, followee: str, followers_count: int, order: int) -> None:
    """The followee's follower count; ``order`` orders the counts of one followee, the highest wins."""
    session = uow.session
    subject: User | Org | None = session.scalars(
        sa.select(User).where(User.username == followee).with_for_update()).first()
    if subject is None:
        subject = session.scalars(sa.select(Org).where(Org.name == followee).with_for_update()).first()
    if subject is not None and order > subject.followers_revision:
        subject.followers_count = followers_count
        subject.followers_revision = order


@dataclass(frozen=True)
class RecordTeamPermission:
    owner: str
    repo: str
    team: str
    permission: str | None  # None: removed, a tombstone a late "set" cannot revive
    revision: int


def record_team_permission(uow: UnitOfWork, cmd: RecordTeamPermission) -> None:
    """A team's permission on a repository set or removed: the newest revision wins."""
    key = (cmd.owner, cmd.repo, cmd.team)
    row = uow.session.get(TeamPermission, key, with_for_update=True)
    if row is None:
        uow.session.add(TeamPermission(subject=cmd.owner, repo=cmd.repo, team=cmd.team, permission=cmd.permission,
                                       revision=cmd.revision))
    elif cmd.revision > row.revision:
        row.permission, row.revision = cmd.permission, cmd.revision


def record_usage(uow: UnitOfWork, owner: str, used_bytes: int, revision: int) -> None:
    """``quota_used_bytes`` of the user or organization: the newest revision wins."""
    values = {"quota_used_bytes": used_bytes, "usage_revision": revision}
    uow.session.execute(sa.update(User).where(User.username == owner, User.usage_revision < revision).values(values))
    uow.session.execute(sa.update(Org).where(Org.name == owner, Org.usage_revision < revision).values(values))
