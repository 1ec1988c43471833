"""Who may do what on a repository, decided from catalog's own replica of identity's data.

Bintray's levels on a repository: ``read`` < ``publish`` < ``admin``. A user has ``admin`` on
their own repositories; an organization's owners and admins have ``admin`` on all of its
repositories; teams get the level granted on a repository through its permission endpoints, and
an organization's team grants count only for current members of the organization. Platform
administrators have ``admin`` everywhere. Everyone may read public repositories.

A repository the caller cannot read does not exist for them: :func:`repo_for` answers 404 for it
exactly as for a missing one, so a private repository's name never leaks.

Read your own writes: the access token identity minted for this very request says which
organizations (and roles) and teams the caller belongs to (``principal.orgs``/``teams``). When
the token carries them they decide for this caller — they are newer than catalog's replica of
identity's events — so an organization created, a role given or a team formed a moment ago
counts at once. A token without them (``None``) leaves the decision to the replica.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from catalog.models import Membership, Repo, RepoPermission, Subject, Team
from packyard.auth import Principal
from packyard.errors import Forbidden, NotFound

NONE, READ, PUBLISH, ADMIN = 0, 1, 2, 3
# Row locks a writer takes when it reads the row it is about to change (``lock=``): a concurrent
# writer of the same row waits until this transaction ends, then reads the row as it was left — or
# finds it deleted (404) — instead of failing its UPDATE on a row gone meanwhile (StaleDataError),
# deleting it a second time or overwriting a change it never saw. FOR NO KEY UPDATE for a change,
# which still lets rows referencing this one be inserted; FOR UPDATE for a delete.
FOR_CHANGE, FOR_DELETE = "change", "delete"
LEVELS = {"read": READ, "publish": PUBLISH, "admin": ADMIN}
LEVEL_NAMES = {value: name for name, value in LEVELS.items()}
ORG_ADMIN_ROLES = ("owner", "admin")


class RepoLike(Protocol):
    """A Repo row or a RepoRef: read only, so a frozen RepoRef qualifies."""

    @property
    def id(self) -> int: ...

    @property
    def owner(self) -> str: ...

    @property
    def private(self) -> bool: ...


@dataclass(frozen=True)
class RepoRef:
    """The three facts of a repository a permission depends on (for reads that did not load a Repo)."""

    id: int
    owner: str
    private: bool


@dataclass(frozen=True)
class RepoAccess:
    repo: Repo
    level: int

    @property
    def can_publish(self) -> bool:
        return self.level >= PUBLISH


def live_subject(session: Session, name: str) -> Subject | None:
    subject = session.get(Subject, name)
    return None if subject is None or subject.deleted else subject


def org_role(session: Session, org: Subject, user_id: str) -> str | None:
    """The user's role in the organization (owner, admin, member), or None.

    The creator named by ``identity.org.created`` is its owner until a membership event says
    otherwise (that event may arrive after the organization's).
    """
    membership = session.get(Membership, (org.identity_id, user_id))
    if membership is None:
        return "owner" if org.owner_id == user_id else None
    return membership.role


def role_of(session: Session, org: Subject | None, org_name: str, principal: Principal) -> str | None:
    """The caller's role in an organization: as their token says when it says, else from the replica."""
    if principal.orgs is not None:
        return principal.org_role(org_name)
    return org_role(session, org, principal.user_id) if org is not None else None


def is_org_admin(session: Session, org: Subject, principal: Principal) -> bool:
    return role_of(session, org, org.name, principal) in ORG_ADMIN_ROLES


def _in_team(principal: Principal, subject: str, team: Team) -> bool:
    said = principal.in_team(subject, team.name)
    return said if said is not None else principal.username in (team.members or [])


def teams_of(session: Session, subject: Subject, principal: Principal) -> list[Team]:
    """The caller's teams of ``subject`` that count (for an organization: only while a member of it)."""
    teams = session.scalars(sa.select(Team).where(Team.subject == subject.name, Team.deleted.is_(False))).all()
    mine = [t for t in teams if _in_team(principal, subject.name, t)]
    if mine and subject.kind == "org" and role_of(session, subject, subject.name, principal) is None:
        return []
    return mine


def team_names_of(session: Session, owner: Subject | None, owner_name: str, principal: Principal) -> set[str]:
    """Names of the caller's teams of ``owner_name`` that count, the token's word first."""
    if principal.teams is None:
        return {t.name for t in teams_of(session, owner, principal)} if owner is not None else set()
    prefix = owner_name + "/"
    names = {t[len(prefix):] for t in principal.teams if t.startswith(prefix)}
    if names and (owner is None or owner.kind == "org") and role_of(session, owner, owner_name, principal) is None:
        return set()
    return names


def level_on(session: Session, principal: Principal | None, repo: RepoLike) -> int:
    public = NONE if repo.private else READ
    if principal is None:
        return public
    if principal.admin:
        return ADMIN
    owner = live_subject(session, repo.owner)
    if owner is None and principal.org_role(repo.owner) is None:
        return public  # neither the replica nor the caller's token knows this owner
    if owner is not None and owner.kind == "user":
        if owner.name == principal.username and owner.identity_id == principal.user_id:
            return ADMIN
    elif role_of(session, owner, repo.owner, principal) in ORG_ADMIN_ROLES:
        return ADMIN
    grants = dict(session.execute(sa.select(RepoPermission.team, RepoPermission.permission)
                                  .where(RepoPermission.repo_id == repo.id)).all())
    level = public
    if grants:
        for team in team_names_of(session, owner, repo.owner, principal):
            if team in grants:
                level = max(level, LEVELS[grants[team]])
    return level


def level_for(conn: sa.Connection, principal: Principal | None, repo: RepoLike) -> int:
    """:func:`level_on` for reads working on a bare connection.

    Anonymous callers cost no query. For a caller the token's claims decide first: its own
    repositories (a name, once a user's, is never anybody else's) and those of organizations it
    owns or administers cost no query either; otherwise one statement reads the repository's team
    grants, and only a grant to one of the caller's teams of a subject the token does not place
    them in needs :func:`level_on` and catalog's replica.
    """
    public = NONE if repo.private else READ
    if principal is None:
        return public
    if principal.admin or repo.owner == principal.username:
        return ADMIN
    if principal.orgs is not None and principal.teams is not None:
        role = principal.org_role(repo.owner)
        if role in ORG_ADMIN_ROLES:
            return ADMIN
        prefix = repo.owner + "/"
        mine = {t[len(prefix):] for t in principal.teams if t.startswith(prefix)}
        if not mine:
            return public
        grants = dict(conn.execute(sa.select(RepoPermission.team, RepoPermission.permission)
                                   .where(RepoPermission.repo_id == repo.id)).all())
        granted = [LEVELS[grants[team]] for team in mine if team in grants]
        if not granted:
            return public
        if role is not None:  # a member of the organization whose teams these are
            return max(public, *granted)
    with Session(bind=conn) as session:
        return level_on(session, principal, repo)


def locking(select: sa.Select, lock: str | None) -> sa.Select:
    """``select`` taking the row lock of a writer (:data:`FOR_CHANGE`, :data:`FOR_DELETE`), or none."""
    if lock is None:
        return select
    assert lock in (FOR_CHANGE, FOR_DELETE), lock
    return select.with_for_update(key_share=lock == FOR_CHANGE).execution_options(populate_existing=True)


def find_repo(session: Session, owner: str, name: str, *, lock: str | None = None) -> Repo | None:
    return session.scalars(locking(sa.select(Repo).where(Repo.owner == owner, Repo.name == name), lock)).first()


def repo_for(session: Session, principal: Principal | None, owner: str, name: str, needed: int = READ,
             *, action: str = "", lock: str | None = None) -> RepoAccess:
    """The repository and the caller's level on it; 404 when they cannot read it, 403 below ``needed``.

    ``lock``: the repository's row is locked for a change or delete of it (see :data:`FOR_CHANGE`)."""
    repo = find_repo(session, owner, name, lock=lock)
    if repo is None:
        raise NotFound(f"Repo '{name}' was not found")
    level = level_on(session, principal, repo)
    if level < READ:
        raise NotFound(f"Repo '{name}' was not found")
    if level < needed:
        raise Forbidden(f"You do not have the '{LEVEL_NAMES[needed]}' permission on repository "
                        f"'{owner}/{name}'" + (f" needed to {action}" if action else ""))
    return RepoAccess(repo, level)


def may_create_repo_in(session: Session, principal: Principal, subject: Subject) -> bool:
    if principal.admin:
        return True
    if subject.kind == "user":
        return subject.name == principal.username and subject.identity_id == principal.user_id
    if is_org_admin(session, subject, principal):
        return True
    return any(team.allow_repo_creation for team in teams_of(session, subject, principal))


def speaks_for(session: Session, principal: Principal, subject_name: str) -> bool:
    """The caller answers for a subject: the user themself, or an owner or admin of the organization."""
    if principal.admin:
        return True
    subject = live_subject(session, subject_name)
    if subject is None:
        return principal.org_role(subject_name) in ORG_ADMIN_ROLES  # an organization too new for the replica
    if subject.kind == "user":
        return subject.name == principal.username and subject.identity_id == principal.user_id
    return is_org_admin(session, subject, principal)


def subject_admins(session: Session, subject_name: str) -> list[str]:
    """Usernames of who answers for a subject: the user, or the organization's owners and admins."""
    subject = live_subject(session, subject_name)
    if subject is None:
        return []
    if subject.kind == "user":
        return [subject.name]
    members = session.execute(sa.select(Membership.user_id, Membership.username, Membership.role)
                              .where(Membership.org_id == subject.identity_id)).all()
    names = {m.username for m in members if m.role in ORG_ADMIN_ROLES}
    if subject.owner_id is not None and subject.owner_id not in {m.user_id for m in members}:
        creator = session.scalars(sa.select(Subject.name).where(Subject.identity_id == subject.owner_id,
                                                                Subject.kind == "user",
                                                                Subject.deleted.is_(False))).first()
        if creator is not None:
            names.add(creator)
    return sorted(names)


def repo_admins(session: Session, repo: RepoLike) -> list[str]:
    """Usernames of everyone with ``admin`` on a repository (platform administrators aside)."""
    names = set(subject_admins(session, repo.owner))
    admin_teams = set(session.scalars(sa.select(RepoPermission.team).where(RepoPermission.repo_id == repo.id,
                                                                           RepoPermission.permission == "admin")))
    if admin_teams:
        owner = live_subject(session, repo.owner)
        teams = session.scalars(sa.select(Team).where(Team.subject == repo.owner, Team.name.in_(admin_teams),
                                                      Team.deleted.is_(False))).all()
        current = None
        if owner is not None and owner.kind == "org":
            current = names | set(session.scalars(sa.select(Membership.username).where(
                Membership.org_id == owner.identity_id, Membership.role.is_not(None))))
        for team in teams:
            names.update(m for m in team.members or [] if current is None or m in current)
    return sorted(names)
