"""The replica of identity's subjects, memberships and teams that permissions are decided from.

Identity's events may arrive late, twice or out of order. A deleted subject, a removed membership
and a deleted team are kept as tombstones so that an older event cannot bring them back;
organization, membership and team events carry a ``revision`` and only a higher one is applied.
An aggregate deleted and then created again may start its revisions afresh: a creation later than
the tombstone is accepted whatever its revision. A name taken over by a new identity (an account
deleted, its name registered again) first loses what the previous holder owned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from catalog.models import Membership, Repo, RepoPermission, Subject, Team
from catalog.use_cases import belongings
from packyard.db import UnitOfWork

USER = "user"
ORG = "org"


def _newer(revision: int, at: datetime, row_revision: int, row_at: datetime | None, *, tombstone: bool,
           creation: bool) -> bool:
    if revision > row_revision:
        return True
    return tombstone and creation and row_at is not None and at > row_at


# --- users --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordUser:
    user_id: str
    username: str
    full_name: str = ""
    registered: datetime | None = None


def record_user(uow: UnitOfWork, cmd: RecordUser, at: datetime) -> None:
    """Add a user to the replica (idempotent; a deletion that arrived first wins)."""
    row = uow.session.get(Subject, cmd.username)
    if row is not None and row.identity_id == cmd.user_id:
        if row.deleted:
            return
        row.full_name = cmd.full_name
        row.registered = row.registered or cmd.registered
        return
    if row is not None:
        _hand_over(uow, row)
        row.kind, row.identity_id, row.owner_id, row.revision = USER, cmd.user_id, None, 0
        row.full_name, row.registered, row.deleted, row.changed_at = cmd.full_name, cmd.registered, False, at
        return
    uow.session.add(Subject(name=cmd.username, kind=USER, identity_id=cmd.user_id, full_name=cmd.full_name,
                            registered=cmd.registered, revision=0, deleted=False, changed_at=at))


def ensure_user(uow: UnitOfWork, user_id: str, username: str, now: datetime) -> Subject | None:
    """The caller's own subject, added from their access token when identity's event is still on its way.

    The token was issued by identity, so it is as authoritative as the event about this user. None
    when this account was deleted (its token may outlive it by a few minutes).
    """
    row = uow.session.get(Subject, username)
    if row is None:
        row = Subject(name=username, kind=USER, identity_id=user_id, full_name="", registered=None, revision=0,
                      deleted=False, changed_at=now)
        uow.session.add(row)
        uow.session.flush()
    elif row.identity_id == user_id:
        return None if row.deleted else row
    elif row.kind == USER or row.deleted:
        _hand_over(uow, row)
        row.kind, row.identity_id, row.owner_id, row.revision = USER, user_id, None, 0
        row.full_name, row.registered, row.deleted, row.changed_at = "", None, False, now
    else:
        return None
    return row


def forget_user(uow: UnitOfWork, user_id: str, username: str, at: datetime) -> None:
    """Mark a user deleted and remove what they owned (idempotent)."""
    row = uow.session.get(Subject, username)
    if row is None:
        uow.session.add(Subject(name=username, kind=USER, identity_id=user_id, full_name="", registered=None,
                                revision=0, deleted=True, changed_at=at))
        return
    if row.identity_id != user_id or row.deleted:
        return  # the name already belongs to someone else, or this deletion was applied
    _remove_belongings(uow, row)
    belongings.remove_webhooks_of(uow, username, user_id)
    row.deleted, row.changed_at = True, at


# --- organizations ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordOrg:
    org_id: str
    name: str
    revision: int
    full_name: str | None = None
    owner_id: str | None = None
    created: bool = False


def record_org(uow: UnitOfWork, cmd: RecordOrg, at: datetime) -> None:
    row = uow.session.get(Subject, cmd.name)
    if row is None:
        uow.session.add(Subject(name=cmd.name, kind=ORG, identity_id=cmd.org_id, full_name=cmd.full_name or "",
                                owner_id=cmd.owner_id, registered=at if cmd.created else None,
                                revision=cmd.revision, deleted=False, changed_at=at))
        return
    if row.identity_id != cmd.org_id:
        if not row.deleted and not cmd.created:
            return  # an update of an organization that no longer holds this name
        _hand_over(uow, row)
        row.kind, row.identity_id, row.revision, row.deleted = ORG, cmd.org_id, cmd.revision, False
        row.full_name, row.owner_id, row.registered, row.changed_at = cmd.full_name or "", cmd.owner_id, at, at
        return
    if not _newer(cmd.revision, at, row.revision, row.changed_at, tombstone=row.deleted, creation=cmd.created):
        return
    if row.deleted:
        _remove_org_details(uow, row)
    row.kind, row.revision, row.deleted, row.changed_at = ORG, cmd.revision, False, at
    if cmd.full_name is not None:
        row.full_name = cmd.full_name
    if cmd.owner_id is not None:
        row.owner_id = cmd.owner_id
    if cmd.created:
        row.registered = row.registered or at


def forget_org(uow: UnitOfWork, org_id: str, name: str, revision: int, at: datetime) -> None:
    row = uow.session.get(Subject, name)
    if row is None:
        uow.session.add(Subject(name=name, kind=ORG, identity_id=org_id, full_name="", revision=revision,
                                deleted=True, changed_at=at))
        return
    if row.identity_id != org_id or row.deleted or revision <= row.revision:
        return
    _remove_belongings(uow, row)
    _remove_org_details(uow, row)
    row.revision, row.deleted, row.changed_at = revision, True, at


def _remove_org_details(uow: UnitOfWork, row: Subject) -> None:
    """Memberships and teams of an organization that was deleted."""
    uow.session.execute(sa.delete(Membership).where(Membership.org_id == row.identity_id))
    uow.session.execute(sa.update(Team).where(Team.subject == row.name).values(members=[], deleted=True))


# --- memberships --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordMembership:
    org_id: str
    org: str
    user_id: str
    username: str
    revision: int
    role: str | None  # None: removed
    added: bool = False


def record_membership(uow: UnitOfWork, cmd: RecordMembership, at: datetime) -> None:
    row = uow.session.get(Membership, (cmd.org_id, cmd.user_id))
    if row is None:
        uow.session.add(Membership(org_id=cmd.org_id, user_id=cmd.user_id, org=cmd.org, username=cmd.username,
                                   role=cmd.role, revision=cmd.revision, changed_at=at))
        return
    if not _newer(cmd.revision, at, row.revision, row.changed_at, tombstone=row.role is None, creation=cmd.added):
        return
    row.org, row.username, row.role, row.revision, row.changed_at = cmd.org, cmd.username, cmd.role, cmd.revision, at


# --- teams --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordTeam:
    subject: str
    subject_type: str
    team: str
    revision: int
    members: list[str] | None = None
    allow_repo_creation: bool | None = None
    created: bool = False
    deleted: bool = False


def record_team(uow: UnitOfWork, cmd: RecordTeam, at: datetime) -> None:
    row = uow.session.get(Team, (cmd.subject, cmd.team))
    if row is None:
        row = Team(subject=cmd.subject, name=cmd.team, subject_type=cmd.subject_type, members=[],
                   allow_repo_creation=False, revision=cmd.revision, deleted=cmd.deleted, changed_at=at)
        uow.session.add(row)
    elif not _newer(cmd.revision, at, row.revision, row.changed_at, tombstone=row.deleted, creation=cmd.created):
        return
    row.subject_type, row.revision, row.changed_at, row.deleted = cmd.subject_type, cmd.revision, at, cmd.deleted
    if cmd.deleted:
        row.members = []
        # A team created again later under this name must not inherit the old grants.
        _remove_grants(uow, cmd.subject, cmd.team)
        return
    if cmd.members is not None:
        row.members = sorted(set(cmd.members))
    if cmd.allow_repo_creation is not None:
        row.allow_repo_creation = cmd.allow_repo_creation


def _remove_grants(uow: UnitOfWork, subject: str, team: str) -> None:
    grants = uow.session.execute(sa.select(RepoPermission.repo_id, Repo.name)
                                 .join(Repo, Repo.id == RepoPermission.repo_id)
                                 .where(Repo.owner == subject, RepoPermission.team == team)
                                 .order_by(Repo.name)).all()
    for repo_id, repo_name in grants:
        uow.session.execute(sa.delete(RepoPermission).where(RepoPermission.repo_id == repo_id,
                                                            RepoPermission.team == team))
        belongings.announce_grant_removed(uow, subject, repo_name, team)


# --- names changing hands -----------------------------------------------------------------------

def _hand_over(uow: UnitOfWork, row: Subject) -> None:
    """A name is taken over by a new identity: what the previous holder owned must not pass to it."""
    if not row.deleted:
        _remove_belongings(uow, row)
    if row.kind == ORG:
        _remove_org_details(uow, row)


def _remove_belongings(uow: UnitOfWork, row: Subject) -> None:
    belongings.remove_repositories_of(uow, row.name)
    teams = uow.session.scalars(sa.select(Team).where(Team.subject == row.name, Team.deleted.is_(False))).all()
    for team in teams:
        team.members, team.deleted = [], True
