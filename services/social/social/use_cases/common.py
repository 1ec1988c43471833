"""What the use cases share: finding users, subjects and packages in the replicas, deciding who may
read a private package (the same rule catalog applies, from social's replica of catalog's and
identity's events), and counters that carry their own ``count_revision``."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from packyard.auth import Principal
from packyard.errors import NotFound
from social.models import Counter, Membership, Org, Package, Repo, RepoPermission, Team, User, Version

DELETED_USER = "deleted user"
ORG_ADMIN_ROLES = ("owner", "admin")
LEVELS = {"read": 1, "publish": 2, "admin": 3}
NONE, READ, PUBLISH, ADMIN = 0, 1, 2, 3


def live_user(session: Session, username: str) -> User:
    user = session.scalars(sa.select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"Subject '{username}' was not found")
    return user


def me(session: Session, principal: Principal) -> User:
    """The caller's replica row.

    Read your own writes: identity's token proves the account exists, so a caller whose
    registration event has not reached social yet gets their row now (the event completes it
    later). A deleted account (a tombstone) stays deleted.
    """
    user = session.get(User, principal.user_id) if principal.user_id else None
    if user is not None and user.deleted_at is not None:
        raise NotFound(f"Subject '{principal.username}' was not found")
    if user is None and principal.user_id:
        holder = session.scalars(sa.select(User).where(User.username == principal.username)).first()
        if holder is not None:  # a stale row of an earlier account of that name
            holder.username = None
            session.flush()
        user = User(id=principal.user_id, username=principal.username)
        session.add(user)
        session.flush()
    if user is None or user.username is None:
        raise NotFound(f"Subject '{principal.username}' was not found")
    return user


def live_org(session: Session, name: str) -> Org:
    org = session.scalars(sa.select(Org).where(Org.name == name, Org.deleted.is_(False))).first()
    if org is None:
        raise NotFound(f"Organization '{name}' was not found")
    return org


@dataclass(frozen=True)
class Subject:
    id: str
    name: str
    kind: str  # "user" | "org"


def find_subject(session: Session, name: str) -> Subject | None:
    user = session.scalars(sa.select(User).where(User.username == name)).first()
    if user is not None:
        return Subject(user.id, name, "user")
    org = session.scalars(sa.select(Org).where(Org.name == name, Org.deleted.is_(False))).first()
    if org is not None:
        return Subject(org.id, name, "org")
    return None


def username_of(session: Session, user_id: str | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return None if user is None else user.username


# -- access -----------------------------------------------------------------------------------

def org_role(session: Session, org: Org, user_id: str) -> str | None:
    membership = session.get(Membership, (org.id, user_id))
    if membership is None:
        return "owner" if org.owner_id == user_id else None
    return membership.role


def level_on(session: Session, user_id: str | None, username: str | None, owner: str, repo: Repo,
             *, admin: bool = False) -> int:
    """The user's level on a repository, as catalog decides it (see catalog.use_cases.access)."""
    public = NONE if repo.private else READ
    if user_id is None or username is None:
        return public
    if admin:
        return ADMIN
    if owner == username:
        return ADMIN
    org = session.scalars(sa.select(Org).where(Org.name == owner, Org.deleted.is_(False))).first()
    role = None
    if org is not None:
        role = org_role(session, org, user_id)
        if role in ORG_ADMIN_ROLES:
            return ADMIN
    grants = dict(session.execute(sa.select(RepoPermission.team, RepoPermission.permission).where(
        RepoPermission.owner == owner, RepoPermission.repo == repo.name,
        RepoPermission.permission.is_not(None))).all())
    level = public
    if grants and (role is not None or org is None):  # a user's own teams count without membership
        teams = session.scalars(sa.select(Team).where(Team.subject == owner, Team.deleted.is_(False),
                                                      Team.name.in_(list(grants)))).all()
        for team in teams:
            if username in (team.members or []):
                level = max(level, LEVELS.get(grants[team.name] or "", NONE))
    return level


def principal_level(session: Session, principal: Principal | None, owner: str, repo: Repo) -> int:
    """The caller's level. Read your own writes: the memberships in the caller's token (what identity
    knew when it minted it) count where social's replica has not caught up yet."""
    if principal is None:
        return level_on(session, None, None, owner, repo)
    level = level_on(session, principal.user_id, principal.username, owner, repo, admin=principal.admin)
    if level < ADMIN and principal.orgs and principal.orgs.get(owner) in ORG_ADMIN_ROLES:
        return ADMIN
    if level < READ and principal.teams:
        grants = session.execute(sa.select(RepoPermission.team, RepoPermission.permission).where(
            RepoPermission.owner == owner, RepoPermission.repo == repo.name,
            RepoPermission.permission.is_not(None))).all()
        member = principal.orgs is None or owner in principal.orgs or owner == principal.username
        for team, permission in grants:
            if member and f"{owner}/{team}" in principal.teams:
                level = max(level, LEVELS.get(permission or "", NONE))
    return level


def live_repo(session: Session, owner: str, name: str) -> Repo | None:
    repo = session.get(Repo, (owner, name))
    return None if repo is None or repo.deleted else repo


@dataclass(frozen=True)
class PackageRef:
    owner: str
    repo: str
    name: str
    private: bool
    level: int

    @property
    def key(self) -> str:
        return f"{self.owner}/{self.repo}/{self.name}"


def readable_package(session: Session, principal: Principal | None, owner: str, repo: str,
                     package: str) -> PackageRef:
    """The package when the caller may read it; 404 for a missing package and an unreadable one alike."""
    found = live_repo(session, owner, repo)
    row = session.get(Package, (owner, repo, package)) if found is not None else None
    if found is None or row is None or row.deleted:
        raise NotFound(f"Package '{package}' was not found")
    level = principal_level(session, principal, owner, found)
    if level < READ:
        raise NotFound(f"Package '{package}' was not found")
    return PackageRef(owner, repo, package, found.private, level)


def readable_version(session: Session, principal: Principal | None, owner: str, repo: str, package: str,
                     version: str) -> PackageRef:
    ref = readable_package(session, principal, owner, repo, package)
    row = session.get(Version, (owner, repo, package, version))
    if row is None or row.deleted:
        raise NotFound(f"Version '{version}' was not found")
    return ref


def may_read(session: Session, user_id: str | None, username: str | None, owner: str, repo: str) -> bool:
    found = live_repo(session, owner, repo)
    return found is not None and level_on(session, user_id, username, owner, found) >= READ


# -- counters ---------------------------------------------------------------------------------

def counter(session: Session, key: str) -> Counter:
    """The counter row, locked for this transaction (created at zero when new)."""
    row = session.get(Counter, key, with_for_update=True)
    if row is None:
        session.execute(sa.insert(Counter).values(key=key, count=0, total=0, revision=0)
                        .prefix_with("OR IGNORE", dialect="sqlite")
                        if session.get_bind().dialect.name == "sqlite" else
                        _pg_insert_ignore(key))
        row = session.get(Counter, key, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def _pg_insert_ignore(key: str) -> sa.Insert:
    from sqlalchemy.dialects.postgresql import insert
    return insert(Counter).values(key=key, count=0, total=0, revision=0).on_conflict_do_nothing()


def bump(session: Session, key: str, *, count: int = 0, total: int = 0) -> Counter:
    row = counter(session, key)
    row.count = max(0, row.count + count)
    row.total += total
    row.revision += 1
    session.flush()
    return row
