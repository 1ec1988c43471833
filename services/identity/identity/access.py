"""Who may see and change what in identity: lookups shared by the use cases and the queries."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from identity.models import Org, OrgMember, Team, TeamMember, User
from packyard.auth import Principal
from packyard.errors import Forbidden, NotFound, Unauthorized

MANAGERS = ("owner", "admin")


def user_by_name(session: Session, username: str) -> User | None:
    return session.scalars(sa.select(User).where(User.username == username)).first()


def require_user(session: Session, username: str) -> User:
    user = user_by_name(session, username)
    if user is None:
        raise NotFound(f"User '{username}' was not found")
    return user


def caller(session: Session, user_id: str, *, lock: bool = False) -> User:
    """The calling user; a token of a deleted account authenticates nobody."""
    query = sa.select(User).where(User.id == user_id)
    user = session.scalars(query.with_for_update() if lock else query).first()
    if user is None:
        raise Unauthorized("This resource requires authentication")
    return user


def org_by_name(session: Session, name: str, *, lock: bool = False) -> Org:
    """The organization; ``lock`` holds its row until commit, serializing changes to it."""
    query = sa.select(Org).where(Org.name == name)
    org = session.scalars(query.with_for_update() if lock else query).first()
    if org is None:
        raise NotFound(f"Organization '{name}' was not found")
    return org


def role_in(session: Session, org: Org, user_id: str | None) -> str | None:
    if not user_id:
        return None
    return session.scalar(sa.select(OrgMember.role).where(OrgMember.org_id == org.id, OrgMember.user_id == user_id))


def require_manager(session: Session, org: Org, user_id: str) -> str:
    """The caller's role when it lets them manage ``org`` (owner or admin); 403 otherwise."""
    role = role_in(session, org, user_id)
    if role not in MANAGERS:
        raise Forbidden(f"Only admins of organization '{org.name}' can do this")
    return role


def sees_admin_view(session: Session, org: Org, viewer: Principal | None) -> bool:
    """Org admins see member roles, teams and quota; so do platform administrators."""
    if viewer is None:
        return False
    return viewer.admin or role_in(session, org, viewer.user_id) in MANAGERS


@dataclass(frozen=True)
class TeamOwner:
    """Whose teams: ``kind`` is ``org`` or ``user`` (the ``subject_type`` of team events)."""

    kind: str
    name: str


def resolve_owner(session: Session, owner: TeamOwner, *, lock: bool = False) -> Org | User:
    if owner.kind == "org":
        return org_by_name(session, owner.name, lock=lock)
    user = require_user(session, owner.name)
    return caller(session, user.id, lock=True) if lock else user


def require_team_manager(session: Session, holder: Org | User, actor_id: str) -> None:
    """403 unless the caller may see and manage these teams (before any team is looked up)."""
    if isinstance(holder, Org):
        require_manager(session, holder, actor_id)
    elif holder.id != actor_id:
        raise Forbidden(f"Only '{holder.username}' can manage the teams of '{holder.username}'")


def owner_filter(holder: Org | User) -> sa.ColumnElement[bool]:
    return Team.org_id == holder.id if isinstance(holder, Org) else Team.user_id == holder.id


def find_team(session: Session, holder: Org | User, name: str) -> Team:
    team = session.scalars(sa.select(Team).where(owner_filter(holder), Team.name == name)).first()
    if team is None:
        raise NotFound(f"Team '{name}' was not found")
    return team


def member_names(session: Session, team: Team) -> list[str]:
    return list(session.scalars(sa.select(User.username).join(TeamMember, TeamMember.user_id == User.id)
                                .where(TeamMember.team_id == team.id).order_by(User.username)))
