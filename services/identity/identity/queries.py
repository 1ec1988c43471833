"""Read models of identity: the Bintray JSON shapes, built straight from the tables."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from identity.access import (
    TeamOwner,
    caller,
    find_team,
    member_names,
    org_by_name,
    owner_filter,
    require_team_manager,
    resolve_owner,
    role_in,
    sees_admin_view,
)
from identity.avatars import AvatarImage
from identity.models import (
    HIDEABLE_FIELDS,
    LINKED_ACCOUNTS,
    Avatar,
    Org,
    OrgMember,
    SubjectRepo,
    Team,
    TeamMember,
    TeamPermission,
    User,
)
from packyard.auth import Principal
from packyard.errors import NotFound
from packyard.events import format_time

PAGE_SIZE = 50


def gravatar_id(email: str) -> str:
    """As Bintray (and Gravatar) computed it: md5 of the trimmed, lower-cased address."""
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


def _repos(session: Session, subjects: Sequence[str], with_private: set[str]) -> dict[str, list[str]]:
    """Repository names per subject; private ones only for the subjects in ``with_private``."""
    repos: dict[str, list[str]] = defaultdict(list)
    if not subjects:
        return repos
    rows = session.execute(sa.select(SubjectRepo.subject, SubjectRepo.repo, SubjectRepo.private)
                           .where(SubjectRepo.subject.in_(subjects), SubjectRepo.deleted.is_(False))
                           .order_by(SubjectRepo.repo))
    for subject, repo, private in rows:
        if not private or subject in with_private:
            repos[subject].append(repo)
    return repos


def _organizations(session: Session, user_ids: Sequence[str]) -> dict[str, list[str]]:
    orgs: dict[str, list[str]] = defaultdict(list)
    if not user_ids:
        return orgs
    rows = session.execute(sa.select(OrgMember.user_id, Org.name).join(Org, Org.id == OrgMember.org_id)
                           .where(OrgMember.user_id.in_(user_ids)).order_by(Org.name))
    for user_id, name in rows:
        orgs[user_id].append(name)
    return orgs


def _users_json(session: Session, users: Sequence[User], viewer: Principal | None) -> list[dict[str, Any]]:
    def sees_all(user: User) -> bool:
        return viewer is not None and (viewer.user_id == user.id or viewer.admin)

    repos = _repos(session, [u.username for u in users], {u.username for u in users if sees_all(u)})
    orgs = _organizations(session, [u.id for u in users])
    out = []
    for user in users:
        everything = sees_all(user)
        hidden = set() if everything else set(filter(None, user.hidden_fields.split(",")))
        body: dict[str, Any] = {
            "name": user.username,
            "full_name": user.full_name,
            "repos": repos[user.username],
            "organizations": orgs[user.id],
            "followers_count": user.followers_count,
            "registered": format_time(user.created_at),
        }
        if everything:
            body["quota_used_bytes"] = user.quota_used_bytes
        body["avatar_url"] = f"/users/{user.username}/avatar"
        for name in ("bio", "company", "location", "website"):
            if name not in hidden:
                body[name] = getattr(user, name)
        body["accounts"] = {name: getattr(user, name) for name in LINKED_ACCOUNTS if name not in hidden}
        if everything or user.show_email:
            body["email"] = user.email
            # the md5 of the address: anyone could confirm a guessed address with it
            body["gravatar_id"] = gravatar_id(user.email)
        out.append(body)
    return out


def get_user(session: Session, username: str, viewer: Principal | None) -> dict[str, Any]:
    """Bintray's user JSON plus the profile fields the owner lets ``viewer`` see (everything to the owner)."""
    user = session.scalars(sa.select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"Subject '{username}' was not found")
    return _users_json(session, [user], viewer)[0]


def search_users(session: Session, name: str, start_pos: int, viewer: Principal | None
                 ) -> tuple[list[dict[str, Any]], int]:
    """Users whose username or full name contains ``name`` (case-insensitive), one page, and the total."""
    pattern = "%" + name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    match = sa.or_(User.username_key.like(pattern, escape="\\"),
                   sa.func.lower(User.full_name).like(pattern, escape="\\"))
    total = session.scalar(sa.select(sa.func.count()).select_from(User).where(match)) or 0
    users = session.scalars(sa.select(User).where(match).order_by(User.username_key)
                            .offset(start_pos).limit(PAGE_SIZE)).all()
    return _users_json(session, users, viewer), total


def get_profile(session: Session, user_id: str) -> dict[str, Any]:
    user = caller(session, user_id)
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "full_name": user.full_name,
        "email": user.email,
        "bio": user.bio,
        "company": user.company,
        "location": user.location,
        "website": user.website,
        "show_email": user.show_email,
        "release_alerts_email": user.release_alerts_email,
        "news_email": user.news_email,
        "hidden_fields": [name for name in HIDEABLE_FIELDS if name in user.hidden_fields.split(",")],
        "gravatar_id": gravatar_id(user.email),
        "avatar_url": f"/users/{user.username}/avatar",
        "has_avatar": session.get(Avatar, user.id) is not None,
        "registered": format_time(user.created_at),
    }


def get_linked_accounts(session: Session, user_id: str) -> dict[str, str]:
    user = caller(session, user_id)
    return {name: getattr(user, name) for name in LINKED_ACCOUNTS}


def get_avatar(session: Session, username: str) -> AvatarImage | None:
    """The uploaded avatar of a user, or None when they have none (404 for no such user)."""
    user_id = session.scalar(sa.select(User.id).where(User.username == username))
    if user_id is None:
        raise NotFound(f"Subject '{username}' was not found")
    row = session.get(Avatar, user_id)
    return AvatarImage(row.image, row.content_type, row.etag) if row else None


def get_org(session: Session, name: str, viewer: Principal | None) -> dict[str, Any]:
    """Bintray's organization JSON: member roles, teams and quota only to the org's admins."""
    org = org_by_name(session, name)
    admin_view = sees_admin_view(session, org, viewer)
    members = session.execute(sa.select(User.username, OrgMember.role, OrgMember.created_at)
                              .join(OrgMember, OrgMember.user_id == User.id)
                              .where(OrgMember.org_id == org.id).order_by(User.username)).all()
    owners = sorted((m for m in members if m.role == "owner"), key=lambda m: (m.created_at, m.username))
    body: dict[str, Any] = {
        "name": org.name,
        "full_name": org.full_name,
        "owner": owners[0].username if owners else None,
        "repos": _org_repos(session, org, viewer, admin_view),
        "followers_count": org.followers_count,
        "registered": format_time(org.created_at),
        "members": [{"name": m.username, "type": m.role} if admin_view else {"name": m.username} for m in members],
    }
    if admin_view:
        body["teams"] = list(session.scalars(sa.select(Team.name).where(Team.org_id == org.id).order_by(Team.name)))
        body["quota_used_bytes"] = org.quota_used_bytes
    body["desc"] = org.description
    body["website"] = org.website
    return body


def _org_repos(session: Session, org: Org, viewer: Principal | None, admin_view: bool) -> list[str]:
    """The organization's repositories the viewer can read: private ones only to its owners and admins
    and to members of its teams granted a permission on them (catalog's rule)."""
    rows = session.execute(sa.select(SubjectRepo.repo, SubjectRepo.private).where(
        SubjectRepo.subject == org.name, SubjectRepo.deleted.is_(False)).order_by(SubjectRepo.repo)).all()
    if admin_view:
        return [repo for repo, _private in rows]
    granted: set[str] = set()
    if viewer is not None and role_in(session, org, viewer.user_id) is not None:
        my_teams = sa.select(Team.name).join(TeamMember, TeamMember.team_id == Team.id).where(
            Team.org_id == org.id, TeamMember.user_id == viewer.user_id)
        granted = set(session.scalars(sa.select(TeamPermission.repo).where(
            TeamPermission.subject == org.name, TeamPermission.permission.is_not(None),
            TeamPermission.team.in_(my_teams))))
    return [repo for repo, private in rows if not private or repo in granted]


def list_my_orgs(session: Session, user_id: str) -> list[dict[str, Any]]:
    rows = session.execute(sa.select(Org.name, Org.full_name, OrgMember.role)
                           .join(OrgMember, OrgMember.org_id == Org.id)
                           .where(OrgMember.user_id == user_id).order_by(Org.name))
    return [{"name": name, "full_name": full_name, "role": role} for name, full_name, role in rows]


def team_json(session: Session, team: Team) -> dict[str, Any]:
    return {"name": team.name, "members": member_names(session, team),
            "permitted_repos": permitted_repos(session, team),
            "allow_repo_creation": team.allow_repo_creation}


def permitted_repos(session: Session, team: Team) -> dict[str, str]:
    """``{"repo": "read|publish|admin"}`` from catalog's grants, for repositories that still exist."""
    owner = (session.scalar(sa.select(Org.name).where(Org.id == team.org_id)) if team.org_id
             else session.scalar(sa.select(User.username).where(User.id == team.user_id)))
    deleted = sa.select(SubjectRepo.repo).where(SubjectRepo.subject == owner, SubjectRepo.deleted.is_(True))
    rows = session.execute(sa.select(TeamPermission.repo, TeamPermission.permission).where(
        TeamPermission.subject == owner, TeamPermission.team == team.name,
        TeamPermission.permission.is_not(None), TeamPermission.repo.not_in(deleted)).order_by(TeamPermission.repo))
    return {repo: permission for repo, permission in rows if permission is not None}  # NULLs filtered above


def list_my_teams(session: Session, user_id: str) -> list[dict[str, Any]]:
    """The teams the caller is in, of organizations and of users."""
    teams = session.scalars(sa.select(Team).join(TeamMember, TeamMember.team_id == Team.id)
                            .where(TeamMember.user_id == user_id)).all()
    org_names = {row.id: row.name for row in session.execute(
        sa.select(Org.id, Org.name).where(Org.id.in_([t.org_id for t in teams if t.org_id])))}
    user_names = {row.id: row.username for row in session.execute(
        sa.select(User.id, User.username).where(User.id.in_([t.user_id for t in teams if t.user_id])))}
    out = []
    for team in teams:
        subject, subject_type = ((org_names[team.org_id], "org") if team.org_id
                                 else (user_names[team.user_id], "user"))
        out.append({"subject": subject, "subject_type": subject_type, **team_json(session, team)})
    return sorted(out, key=lambda t: (t["subject"], t["name"]))


def _readable_teams_of(session: Session, owner: TeamOwner, viewer: Principal) -> Org | User:
    """The teams' owner, when ``viewer`` may read its teams (platform administrators may too)."""
    holder = resolve_owner(session, owner)
    if not viewer.admin:
        require_team_manager(session, holder, viewer.user_id)
    return holder


def list_teams(session: Session, owner: TeamOwner, viewer: Principal) -> dict[str, list[str]]:
    holder = _readable_teams_of(session, owner, viewer)
    return {"teams": list(session.scalars(sa.select(Team.name).where(owner_filter(holder)).order_by(Team.name)))}


def get_team(session: Session, owner: TeamOwner, name: str, viewer: Principal) -> dict[str, Any]:
    holder = _readable_teams_of(session, owner, viewer)
    return team_json(session, find_team(session, holder, name))
