"""Files: listings, search by name or checksum, and the package or version owning a path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from catalog.downloads.paths import resolve_file
from catalog.models import File, Package, Repo, Version
from catalog.queries.common import time_or_none, wildcard
from catalog.queries.packages import linked_to_repos, package_json, version_json, versions_of
from catalog.use_cases.access import PUBLISH
from catalog.use_cases.versions import Located, locate
from packyard.auth import Principal
from packyard.errors import Invalid
from packyard.paging import PAGE_SIZE, Page


def file_json(file: File, repo: Repo, package: str, version: str) -> dict[str, Any]:
    return {
        "name": file.name,
        "path": file.path,
        "repo": repo.name,
        "package": package,
        "version": version,
        "owner": repo.owner,
        "created": time_or_none(file.created),
        "size": file.size,
        "sha1": file.sha1,
        "sha256": file.sha256,
        "signed": file.signed_at is not None,
        "signature_fingerprint": file.signature_fingerprint,
        "signed_at": time_or_none(file.signed_at),
    }


def _files(session: Session, query: sa.Select) -> list[tuple[File, str, str]]:
    return [(f, p, v) for f, p, v in session.execute(
        query.add_columns(Package.name, Version.name)
        .join(Package, Package.id == File.package_id).join(Version, Version.id == File.version_id)).all()]


def list_files(session: Session, viewer: Principal | None, owner: str, repo: str, package: str,
               version: str | None, include_unpublished: bool) -> list[dict[str, Any]]:
    found = locate(session, viewer, owner, repo, package, version)
    query = sa.select(File).where(File.package_id == found.package.id)
    if found.version is not None:
        query = query.where(File.version_id == found.version.id)
    if not (include_unpublished and found.access.level >= PUBLISH):
        query = query.where(File.published_at.is_not(None))
    rows = _files(session, query.order_by(Version.ordinal.desc(), File.path))
    return [file_json(f, found.repo, p, v) for f, p, v in rows]


def search_files(session: Session, *, name: str | None, sha1: str | None, subject: str | None,
                 repo: str | None, created_after: datetime | None, start: int) -> Page:
    if not name and not sha1:
        raise Invalid("Give the search parameter name or sha1")
    query = (sa.select(File).join(Repo, Repo.id == File.repo_id)
             .where(Repo.private.is_(False), File.published_at.is_not(None)))
    if name:
        query = query.where(File.name.like(wildcard(name), escape="\\"))
    if sha1:
        query = query.where(File.sha1 == sha1.lower())
    if subject:
        query = query.where(Repo.owner == subject)
    if repo:
        query = query.where(Repo.name == repo)
    if created_after is not None:
        query = query.where(File.created > created_after)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.add_columns(Repo, Package.name, Version.name)
                           .join(Package, Package.id == File.package_id)
                           .join(Version, Version.id == File.version_id)
                           .order_by(File.created.desc(), File.id.desc()).offset(start).limit(PAGE_SIZE)).all()
    return Page([file_json(f, r, p, v) for f, r, p, v in rows], total, start)


def file_owner(session: Session, viewer: Principal | None, owner: str, repo: str, path: str,
               *, version: bool) -> dict[str, Any]:
    """``file_package`` / ``file_version``: the package or version a visible file belongs to (for a file of a
    package linked into the repository, that package where it lives)."""
    file = resolve_file(session.connection(), viewer, owner, repo, path)
    package = session.get_one(Package, file.package_id)  # a file's package exists (foreign key)
    found = locate(session, viewer, file.owner, file.repo, package.name)
    if not version:
        versions, latest = versions_of(session.connection(), [package.id])[package.id]
        return package_json(file.owner, file.repo, package, versions, latest, publisher=found.access.can_publish,
                            linked_to=linked_to_repos(session.connection(), viewer, package.id))
    the_version = session.get(Version, file.version_id)
    return version_json(Located(found.access, package, the_version))
