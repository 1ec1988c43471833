"""Repositories and their team permissions, as Bintray showed them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from catalog.models import Package, Repo, RepoPermission
from catalog.queries.common import contains, page_items, time_or_none
from catalog.use_cases.access import ADMIN, READ, level_on, live_subject, repo_for
from packyard.auth import Principal
from packyard.errors import Invalid, NotFound
from packyard.paging import Page


def repo_json(session: Session, repo: Repo, package_count: int | None = None) -> dict[str, Any]:
    if package_count is None:
        package_count = session.scalar(sa.select(sa.func.count()).select_from(Package)
                                       .where(Package.repo_id == repo.id)) or 0
    return {
        "name": repo.name,
        "owner": repo.owner,
        "type": repo.type,
        "private": repo.private,
        "premium": False,
        "desc": repo.desc,
        "labels": list(repo.labels or []),
        "created": time_or_none(repo.created),
        "package_count": package_count,
        "gpg_sign_metadata": repo.gpg_sign_metadata,
        "gpg_sign_files": repo.gpg_sign_files,
        "gpg_use_owner_key": repo.gpg_use_owner_key,
    }


def get_repo(session: Session, viewer: Principal | None, owner: str, name: str) -> dict[str, Any]:
    return repo_json(session, repo_for(session, viewer, owner, name).repo)


def list_repos(session: Session, viewer: Principal | None, owner: str) -> list[dict[str, str]]:
    repos = session.scalars(sa.select(Repo).where(Repo.owner == owner).order_by(Repo.name)).all()
    if not repos and live_subject(session, owner) is None and not (viewer and viewer.username == owner):
        raise NotFound(f"Subject '{owner}' was not found")
    return [{"name": r.name, "owner": r.owner} for r in repos
            if not r.private or level_on(session, viewer, r) >= READ]


def search_repos(session: Session, name: str | None, desc: str | None, start: int) -> Page:
    if not name and not desc:
        raise Invalid("Give at least one of the search parameters name and desc")
    query = sa.select(Repo).where(Repo.private.is_(False))
    if name:
        query = query.where(Repo.name.ilike(contains(name), escape="\\"))
    if desc:
        query = query.where(Repo.desc.ilike(contains(desc), escape="\\"))
    repos, total = page_items(session, query.order_by(Repo.owner, Repo.name), start)
    counts = dict(session.execute(sa.select(Package.repo_id, sa.func.count()).where(
        Package.repo_id.in_([r.id for r in repos])).group_by(Package.repo_id)).all())
    return Page([repo_json(session, r, counts.get(r.id, 0)) for r in repos], total, start)


def list_permissions(session: Session, viewer: Principal, owner: str, name: str) -> list[dict[str, str]]:
    repo = repo_for(session, viewer, owner, name, ADMIN, action="see its permissions").repo
    grants = session.execute(sa.select(RepoPermission.team, RepoPermission.permission)
                             .where(RepoPermission.repo_id == repo.id).order_by(RepoPermission.team)).all()
    return [{"team": team, "permission": permission} for team, permission in grants]


def get_permission(session: Session, viewer: Principal, owner: str, name: str, team: str) -> dict[str, str]:
    for grant in list_permissions(session, viewer, owner, name):
        if grant["team"] == team:
            return grant
    raise NotFound(f"Team '{team}' has no permission on repository '{name}'")
