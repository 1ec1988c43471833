"""Organizations and their members.

Owners and admins manage an organization; only owners change who is an owner, delete it,
or remove another owner; an organization always keeps at least one owner. Every change
takes the next value of the organization's ``revision`` for its event, under a lock on the
organization's row, so concurrent changes are serialized and revisions follow commit order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from identity import events
from identity.access import caller, org_by_name, require_manager, require_user
from identity.models import Org, OrgMember, SubjectRepo, Team, TeamMember, User
from identity.use_cases.common import claim_subject_name, retire_subject_name
from identity.use_cases.teams import forget_team_member, publish_team_deleted
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Forbidden, NotFound


@dataclass(frozen=True)
class NewOrg:
    name: str
    full_name: str = ""
    desc: str = ""
    website: str = ""


def _next_revision(org: Org) -> int:
    org.revision += 1
    return org.revision


def _publish_member(uow: UnitOfWork, event: events.EventType, org: Org, user: User, role: str | None) -> None:
    data: dict[str, Any] = {"org_id": org.id, "org": org.name, "user_id": user.id, "username": user.username,
                            "revision": _next_revision(org)}
    if role is not None:
        data["role"] = role
    uow.publish(event, data, subject=f"{org.name}/{user.username}")


def _membership(session: Session, org: Org, username: str) -> tuple[User, OrgMember]:
    user = require_user(session, username)
    member = session.get(OrgMember, (org.id, user.id))
    if member is None:
        raise NotFound(f"User '{username}' is not a member of organization '{org.name}'")
    return user, member


def _owners(session: Session, org: Org) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(OrgMember)
                          .where(OrgMember.org_id == org.id, OrgMember.role == "owner")) or 0


def create_org(uow: UnitOfWork, actor_id: str, cmd: NewOrg, now: datetime) -> Org:
    """A new organization whose creator is its first owner."""
    session = uow.session
    user = caller(session, actor_id)
    claim_subject_name(uow, cmd.name, "org", now)
    org = Org(id=str(uuid.uuid4()), name=cmd.name, name_key=cmd.name.lower(), full_name=cmd.full_name,
              description=cmd.desc, website=cmd.website, created_at=now, revision=0, followers_count=0,
              followers_revision=0)
    session.add(org)
    session.add(OrgMember(org_id=org.id, user_id=user.id, role="owner", created_at=now))
    session.flush()
    uow.publish(events.ORG_CREATED, {"org_id": org.id, "name": org.name, "full_name": org.full_name,
                                     "owner": user.username, "owner_id": user.id,
                                     "revision": _next_revision(org)}, subject=org.name)
    _publish_member(uow, events.MEMBER_ADDED, org, user, "owner")
    return org


def update_org(uow: UnitOfWork, actor_id: str, name: str, changes: dict[str, str]) -> Org:
    session = uow.session
    org = org_by_name(session, name, lock=True)
    require_manager(session, org, actor_id)
    columns = {"full_name": "full_name", "desc": "description", "website": "website"}
    changed = [field for field, column in columns.items()
               if field in changes and changes[field] != getattr(org, column)]
    for field in changed:
        setattr(org, columns[field], changes[field])
    if changed:
        uow.publish(events.ORG_UPDATED, {"org_id": org.id, "name": org.name, "full_name": org.full_name,
                                         "revision": _next_revision(org)}, subject=org.name)
    return org


def delete_org(uow: UnitOfWork, actor_id: str, name: str) -> None:
    """Delete an organization (owners only) once it has no repositories left."""
    session = uow.session
    org = org_by_name(session, name, lock=True)
    membership = session.get(OrgMember, (org.id, actor_id))
    if membership is None or membership.role != "owner":
        raise Forbidden(f"Only owners of organization '{org.name}' can delete it")
    repos = session.scalar(sa.select(sa.func.count()).select_from(SubjectRepo).where(
        SubjectRepo.subject == org.name, SubjectRepo.deleted.is_(False)))
    if repos:
        raise Conflict(f"Organization '{org.name}' still has {repos} repositories: delete them first")
    for team in session.scalars(sa.select(Team).where(Team.org_id == org.id).order_by(Team.name)).all():
        publish_team_deleted(uow, team, org.name, "org", _next_revision(org))
    members = session.execute(sa.select(User).join(OrgMember, OrgMember.user_id == User.id)
                              .where(OrgMember.org_id == org.id).order_by(User.username)).scalars().all()
    for user in members:
        _publish_member(uow, events.MEMBER_REMOVED, org, user, None)
    uow.publish(events.ORG_DELETED, {"org_id": org.id, "name": org.name, "revision": _next_revision(org)},
                subject=org.name)
    retire_subject_name(uow, org.name)
    session.delete(org)  # the database cascades to members and teams


def add_member(uow: UnitOfWork, actor_id: str, org_name: str, username: str, role: str, now: datetime) -> OrgMember:
    """Owners and admins add members and admins; owners are made by promotion (``change_member_role``)."""
    session = uow.session
    org = org_by_name(session, org_name, lock=True)
    require_manager(session, org, actor_id)
    user = require_user(session, username)
    if session.get(OrgMember, (org.id, user.id)) is not None:
        raise Conflict(f"User '{username}' is already a member of organization '{org.name}'")
    member = OrgMember(org_id=org.id, user_id=user.id, role=role, created_at=now)
    session.add(member)
    session.flush()
    _publish_member(uow, events.MEMBER_ADDED, org, user, role)
    return member


def change_member_role(uow: UnitOfWork, actor_id: str, org_name: str, username: str, role: str) -> OrgMember:
    session = uow.session
    org = org_by_name(session, org_name, lock=True)
    actor_role = require_manager(session, org, actor_id)
    user, member = _membership(session, org, username)
    if member.role == role:
        return member
    if "owner" in (role, member.role) and actor_role != "owner":
        raise Forbidden(f"Only owners of organization '{org.name}' can make or unmake owners")
    if member.role == "owner" and _owners(session, org) == 1:
        raise Conflict(f"'{username}' is the last owner of organization '{org.name}': make another member an "
                       "owner first")
    member.role = role
    _publish_member(uow, events.MEMBER_ROLE_CHANGED, org, user, role)
    return member


def _remove(uow: UnitOfWork, org: Org, user: User) -> None:
    session = uow.session
    for team in session.scalars(sa.select(Team).join(TeamMember, TeamMember.team_id == Team.id)
                                .where(Team.org_id == org.id, TeamMember.user_id == user.id)
                                .order_by(Team.name)).all():
        forget_team_member(uow, team, user.id)
    session.execute(sa.delete(OrgMember).where(OrgMember.org_id == org.id, OrgMember.user_id == user.id))
    _publish_member(uow, events.MEMBER_REMOVED, org, user, None)


def remove_member(uow: UnitOfWork, actor_id: str, org_name: str, username: str) -> None:
    """Admins remove members and admins, owners anyone; any member may leave. Never the last owner."""
    session = uow.session
    org = org_by_name(session, org_name, lock=True)
    leaving = caller(session, actor_id).username == username
    actor_role = None if leaving else require_manager(session, org, actor_id)
    user, member = _membership(session, org, username)
    if not leaving and member.role == "owner" and actor_role != "owner":
        raise Forbidden(f"Only owners of organization '{org.name}' can remove an owner")
    if member.role == "owner" and _owners(session, org) == 1:
        raise Conflict(f"'{username}' is the last owner of organization '{org.name}': make another member an "
                       "owner first, or delete the organization")
    _remove(uow, org, user)


def sole_owned_orgs(session: Session, user_id: str) -> list[str]:
    """Names of the organizations of which this user is the only owner."""
    owned = sa.select(OrgMember.org_id).where(OrgMember.user_id == user_id, OrgMember.role == "owner")
    owner_counts = (sa.select(OrgMember.org_id).where(OrgMember.org_id.in_(owned), OrgMember.role == "owner")
                    .group_by(OrgMember.org_id).having(sa.func.count() == 1))
    return list(session.scalars(sa.select(Org.name).where(Org.id.in_(owner_counts)).order_by(Org.name)))


def leave_all_orgs(uow: UnitOfWork, user: User) -> None:
    session = uow.session
    for org_id in session.scalars(sa.select(OrgMember.org_id).where(OrgMember.user_id == user.id)).all():
        org = session.scalars(sa.select(Org).where(Org.id == org_id).with_for_update()).one()
        _remove(uow, org, user)

