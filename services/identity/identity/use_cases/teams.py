"""Teams of organizations (managed by the org's owners and admins) and of users (managed by that user)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.orm import Session

from identity import events
from identity.access import (
    TeamOwner,
    caller,
    find_team,
    member_names,
    require_team_manager,
    resolve_owner,
)
from identity.models import Org, OrgMember, Team, TeamMember, User
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Invalid


def _owner_of(session: Session, team: Team) -> tuple[Org | User, str, str]:
    if team.org_id is not None:
        org = session.scalars(sa.select(Org).where(Org.id == team.org_id).with_for_update()).one()
        return org, org.name, "org"
    user = caller(session, team.user_id or "", lock=True)
    return user, user.username, "user"


def _next_revision(holder: Org | User) -> int:
    holder.revision += 1
    return holder.revision


def _publish_team(uow: UnitOfWork, event: events.EventType, team: Team, subject: str, subject_type: str,
                  revision: int) -> None:
    uow.session.flush()
    uow.publish(event, {"subject": subject, "subject_type": subject_type, "team": team.name,
                        "members": member_names(uow.session, team),
                        "allow_repo_creation": team.allow_repo_creation, "revision": revision},
                subject=f"{subject}/{team.name}")


def publish_team_deleted(uow: UnitOfWork, team: Team, subject: str, subject_type: str, revision: int) -> None:
    uow.publish(events.TEAM_DELETED, {"subject": subject, "subject_type": subject_type, "team": team.name,
                                      "revision": revision}, subject=f"{subject}/{team.name}")


def _members(session: Session, holder: Org | User, usernames: list[str]) -> list[User]:
    """The users named, each once; 400 naming any who do not exist or are not in the organization."""
    wanted = list(dict.fromkeys(usernames))
    found = {u.username: u for u in session.scalars(sa.select(User).where(User.username.in_(wanted)))} \
        if wanted else {}
    missing = [name for name in wanted if name not in found]
    if missing:
        raise Invalid(f"No such user: {', '.join(missing)}")
    if isinstance(holder, Org):
        in_org = set(session.scalars(sa.select(OrgMember.user_id).where(OrgMember.org_id == holder.id)))
        outsiders = [name for name in wanted if found[name].id not in in_org]
        if outsiders:
            raise Invalid(f"Not members of organization '{holder.name}': {', '.join(outsiders)}")
    return [found[name] for name in wanted]


def _subject(holder: Org | User) -> tuple[str, str]:
    return (holder.name, "org") if isinstance(holder, Org) else (holder.username, "user")


@dataclass(frozen=True)
class NewTeam:
    name: str
    members: list[str]  # usernames; of an organization's team, its members
    allow_repo_creation: bool


def create_team(uow: UnitOfWork, actor_id: str, owner: TeamOwner, cmd: NewTeam, now: datetime) -> Team:
    session = uow.session
    name, members, allow_repo_creation = cmd.name, cmd.members, cmd.allow_repo_creation
    holder = resolve_owner(session, owner, lock=True)
    require_team_manager(session, holder, actor_id)
    users = _members(session, holder, members)
    team = Team(id=str(uuid.uuid4()), name=name, name_key=name.lower(), allow_repo_creation=allow_repo_creation,
                created_at=now, org_id=holder.id if isinstance(holder, Org) else None,
                user_id=holder.id if isinstance(holder, User) else None)
    try:
        with session.begin_nested():
            session.add(team)
    except sqlalchemy.exc.IntegrityError:
        raise Conflict(f"Team '{name}' already exists") from None
    session.add_all(TeamMember(team_id=team.id, user_id=user.id) for user in users)
    subject, subject_type = _subject(holder)
    _publish_team(uow, events.TEAM_CREATED, team, subject, subject_type, _next_revision(holder))
    return team


def update_team(uow: UnitOfWork, actor_id: str, owner: TeamOwner, name: str, members: list[str] | None,
                allow_repo_creation: bool | None) -> Team:
    """Replace the member list and/or the repository-creation right; announces only a real change."""
    session = uow.session
    holder = resolve_owner(session, owner, lock=True)
    require_team_manager(session, holder, actor_id)
    team = find_team(session, holder, name)
    changed = False
    if members is not None:
        wanted = {user.id for user in _members(session, holder, members)}
        current = set(session.scalars(sa.select(TeamMember.user_id).where(TeamMember.team_id == team.id)))
        if wanted != current:
            session.execute(sa.delete(TeamMember).where(TeamMember.team_id == team.id,
                                                        TeamMember.user_id.in_(current - wanted)))
            session.add_all(TeamMember(team_id=team.id, user_id=user_id) for user_id in wanted - current)
            changed = True
    if allow_repo_creation is not None and allow_repo_creation != team.allow_repo_creation:
        team.allow_repo_creation = allow_repo_creation
        changed = True
    if changed:
        subject, subject_type = _subject(holder)
        _publish_team(uow, events.TEAM_UPDATED, team, subject, subject_type, _next_revision(holder))
    return team


def delete_team(uow: UnitOfWork, actor_id: str, owner: TeamOwner, name: str) -> None:
    session = uow.session
    holder = resolve_owner(session, owner, lock=True)
    require_team_manager(session, holder, actor_id)
    team = find_team(session, holder, name)
    subject, subject_type = _subject(holder)
    publish_team_deleted(uow, team, subject, subject_type, _next_revision(holder))
    session.delete(team)


def forget_team_member(uow: UnitOfWork, team: Team | None, user_id: str) -> None:
    """Take a user out of a team (they left its organization, or their account is going)."""
    if team is None:
        return
    session = uow.session
    holder, subject, subject_type = _owner_of(session, team)
    session.execute(sa.delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id))
    _publish_team(uow, events.TEAM_UPDATED, team, subject, subject_type, _next_revision(holder))
