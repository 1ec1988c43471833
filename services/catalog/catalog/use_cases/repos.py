"""Repositories and the team permissions on them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy.exc

from catalog import events
from catalog.models import Repo, RepoPermission, Team
from catalog.use_cases import signatures, subjects
from catalog.use_cases.access import (
    ADMIN,
    FOR_CHANGE,
    FOR_DELETE,
    LEVELS,
    ORG_ADMIN_ROLES,
    find_repo,
    live_subject,
    may_create_repo_in,
    repo_for,
)
from catalog.use_cases.belongings import announce_grant_removed, delete_repository, grant_key
from catalog.use_cases.names import REPO_TYPES, check_repo_name
from catalog.use_cases.revisions import next_revision
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Forbidden, Invalid, NotFound

GPG_FLAGS = ("gpg_sign_metadata", "gpg_sign_files", "gpg_use_owner_key")


@dataclass(frozen=True)
class NewRepo:
    name: str
    type: str = "generic"
    private: bool = False
    desc: str | None = None
    labels: list[str] = field(default_factory=list)
    gpg_sign_metadata: bool = False
    gpg_sign_files: bool = False
    gpg_use_owner_key: bool = False


def repo_event_data(repo: Repo) -> dict[str, Any]:
    return {"owner": repo.owner, "repo": repo.name, "private": repo.private, "type": repo.type, "desc": repo.desc,
            "labels": list(repo.labels or []), "gpg_sign_files": repo.gpg_sign_files,
            "gpg_sign_metadata": repo.gpg_sign_metadata, "gpg_use_owner_key": repo.gpg_use_owner_key,
            "created": repo.created, "updated": repo.updated, "revision": repo.revision}


def _check_gpg_flags(values: dict[str, Any]) -> None:
    if values.get("gpg_use_owner_key") and (values.get("gpg_sign_files") or values.get("gpg_sign_metadata")):
        raise Invalid("gpg_use_owner_key cannot be combined with gpg_sign_files or gpg_sign_metadata")


def create_repo(uow: UnitOfWork, actor: Principal, owner: str, cmd: NewRepo, now: datetime) -> Repo:
    session = uow.session
    check_repo_name(cmd.name)
    if cmd.type not in REPO_TYPES:
        raise Invalid(f"Unknown repository type '{cmd.type}': use one of {', '.join(REPO_TYPES)}")
    subject = live_subject(session, owner)
    if owner == actor.username:
        subject = subjects.ensure_user(uow, actor.user_id, actor.username, now) or subject
    if subject is None:
        # An organization created a moment ago: the caller's token vouches for it and their role.
        if actor.org_role(owner) is None:
            raise NotFound(f"Subject '{owner}' was not found")
        if actor.org_role(owner) not in ORG_ADMIN_ROLES:
            raise Forbidden(f"You are not allowed to create repositories for '{owner}'")
    elif not may_create_repo_in(session, actor, subject):
        raise Forbidden(f"You are not allowed to create repositories for '{owner}'")
    _check_gpg_flags(dataclasses.asdict(cmd))
    signatures.check_owner_key(session, owner, cmd.gpg_use_owner_key)
    if find_repo(session, owner, cmd.name) is not None:
        raise Conflict(f"Repo '{cmd.name}' already exists")
    repo = Repo(owner=owner, name=cmd.name, type=cmd.type, private=cmd.private, desc=cmd.desc,
                labels=list(cmd.labels), gpg_sign_metadata=cmd.gpg_sign_metadata,
                gpg_sign_files=cmd.gpg_sign_files, gpg_use_owner_key=cmd.gpg_use_owner_key,
                created=now, updated=now, revision=1)
    session.add(repo)
    try:
        session.flush()
    except sqlalchemy.exc.IntegrityError:
        raise Conflict(f"Repo '{cmd.name}' already exists") from None
    uow.publish(events.REPO_CREATED, repo_event_data(repo), subject=f"{owner}/{repo.name}")
    return repo


def update_repo(uow: UnitOfWork, actor: Principal, owner: str, name: str, changes: dict[str, Any],
                now: datetime) -> Repo:
    """Change the description, labels or signing flags (``admin``, or a team allowed to create repositories)."""
    session = uow.session
    # concurrent updates wait for each other (distinct revisions); one deleted meanwhile answers 404
    access = repo_for(session, actor, owner, name, lock=FOR_CHANGE)
    subject = live_subject(session, owner)
    if access.level < ADMIN and not (subject is not None and subject.kind == "org"
                                     and may_create_repo_in(session, actor, subject)):
        raise Forbidden(f"You do not have the 'admin' permission on repository '{owner}/{name}' needed to update it")
    repo = access.repo
    allowed = {"desc", "labels", *GPG_FLAGS}
    changes = {k: v for k, v in changes.items() if k in allowed}
    merged = {flag: changes.get(flag, getattr(repo, flag)) for flag in GPG_FLAGS}
    _check_gpg_flags(merged)
    if changes.get("gpg_use_owner_key") and not repo.gpg_use_owner_key:
        signatures.check_owner_key(session, owner, True)
    if not changes:
        return repo
    for key, value in changes.items():
        setattr(repo, key, list(value or []) if key == "labels" else value)  # labels: null clears them
    repo.updated = now
    repo.revision += 1
    uow.publish(events.REPO_UPDATED, repo_event_data(repo), subject=f"{owner}/{name}")
    return repo


def delete_repo(uow: UnitOfWork, actor: Principal, owner: str, name: str) -> None:
    repo = repo_for(uow.session, actor, owner, name, ADMIN, action="delete it", lock=FOR_DELETE).repo
    delete_repository(uow, repo)


# --- team permissions ---------------------------------------------------------------------------

def set_team_permission(uow: UnitOfWork, actor: Principal, owner: str, name: str, team: str,
                        permission: str) -> None:
    session = uow.session
    repo = repo_for(session, actor, owner, name, ADMIN, action="manage its permissions").repo
    if permission not in LEVELS:
        raise Invalid(f"Unknown permission '{permission}': use read, publish or admin")
    known = session.get(Team, (owner, team))
    vouched = actor.managed_teams is not None and f"{repo.owner}/{team}" in actor.managed_teams
    if (known is None or known.deleted) and not vouched:  # the token knows teams formed a moment ago
        raise NotFound(f"Team '{team}' was not found")
    grant = session.get(RepoPermission, (repo.id, team), with_for_update=True)
    if grant is not None and grant.permission == permission:
        return
    if grant is None:
        session.add(RepoPermission(repo_id=repo.id, team=team, permission=permission))
    else:
        grant.permission = permission
    uow.publish(events.PERMISSION_SET, {
        "owner": repo.owner, "repo": repo.name, "team": team, "permission": permission,
        "revision": next_revision(session, "permission", grant_key(repo.owner, repo.name, team))},
        subject=f"{repo.owner}/{repo.name}")


def delete_team_permission(uow: UnitOfWork, actor: Principal, owner: str, name: str, team: str) -> None:
    session = uow.session
    repo = repo_for(session, actor, owner, name, ADMIN, action="manage its permissions").repo
    grant = session.get(RepoPermission, (repo.id, team), with_for_update=True)
    if grant is None:
        raise NotFound(f"Team '{team}' has no permission on repository '{name}'")
    session.delete(grant)
    announce_grant_removed(uow, repo.owner, repo.name, team)
