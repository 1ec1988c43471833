"""Versions of a package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc

from catalog import events
from catalog.models import Package, Repo, Version
from catalog.use_cases import usage
from catalog.use_cases.access import FOR_CHANGE, FOR_DELETE, PUBLISH, READ, RepoAccess, locking, repo_for
from catalog.use_cases.names import check_version_name
from catalog.use_cases.packages import find_package
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Conflict, NotFound

LATEST = "_latest"
EDITABLE = ("desc", "labels", "released", "github_release_notes_file", "github_use_tag_release_notes", "vcs_tag")


@dataclass(frozen=True)
class Located:
    """A package (and maybe one of its versions) with the caller's access to its repository."""

    access: RepoAccess
    package: Package
    version: Version | None = None

    @property
    def repo(self) -> Repo:
        return self.access.repo


def find_version(session: sa.orm.Session, package: Package, name: str, *, lock: str | None = None) -> Version:
    """The package's version ``name`` (404 when missing); ``lock``: see :data:`access.FOR_CHANGE`."""
    if name == LATEST:
        select = (sa.select(Version).where(Version.package_id == package.id, Version.published_at.is_not(None))
                  .order_by(Version.published_at.desc(), Version.id.desc()).limit(1))
    else:
        select = sa.select(Version).where(Version.package_id == package.id, Version.name == name)
    version = session.scalars(locking(select, lock)).first()
    if version is None:
        raise NotFound(f"Version '{name}' was not found")
    return version


def locate(session: sa.orm.Session, actor: Principal | None, owner: str, repo: str, package: str,
           version: str | None = None, needed: int = READ, *, action: str = "", lock: str | None = None) -> Located:
    """The package (and version) with the caller's access; ``lock`` locks the row of the version when one
    is named, else of the package, for a change or delete of it (see :data:`access.FOR_CHANGE`)."""
    access = repo_for(session, actor, owner, repo, needed, action=action)
    found = find_package(session, access.repo, package, lock=lock if version is None else None)
    return Located(access, found, find_version(session, found, version, lock=lock) if version is not None else None)


def version_event_ref(repo: Repo, package: Package, version: Version) -> dict[str, Any]:
    return {"owner": repo.owner, "repo": repo.name, "private": repo.private, "package": package.name,
            "version": version.name}


def add_version(uow: UnitOfWork, actor: Principal, repo: Repo, package: Package, values: dict[str, Any],
                now: datetime) -> Version:
    """Create a version in a package the caller may publish to (also used by uploads)."""
    session = uow.session
    name = check_version_name(values["name"])
    if session.scalar(sa.select(Version.id).where(Version.package_id == package.id, Version.name == name)):
        raise Conflict(f"Version '{name}' already exists")
    last = session.scalar(sa.select(sa.func.max(Version.ordinal)).where(Version.package_id == package.id))
    version = Version(package_id=package.id, name=name, desc=values.get("desc"),
                      labels=list(values.get("labels") or []), attributes=[], ordinal=float((last or 0) + 1),
                      released=values.get("released"),
                      github_release_notes_file=values.get("github_release_notes_file"),
                      github_use_tag_release_notes=bool(values.get("github_use_tag_release_notes")),
                      vcs_tag=values.get("vcs_tag"), created=now, updated=now, rating_count=0)
    try:
        with session.begin_nested():  # a savepoint: a concurrent upload creating it too must not spoil the rest
            session.add(version)
            session.flush()
    except sqlalchemy.exc.IntegrityError:
        raise Conflict(f"Version '{name}' already exists") from None
    package.updated = now
    uow.publish(events.VERSION_CREATED, {**version_event_ref(repo, package, version), "created": now,
                                         "creator": actor.username},
                subject=f"{repo.owner}/{repo.name}/{package.name}/{name}")
    return version


def create_version(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str,
                   values: dict[str, Any], now: datetime) -> Located:
    found = locate(uow.session, actor, owner, repo, package, needed=PUBLISH, action="create versions")
    version = add_version(uow, actor, found.repo, found.package, values, now)
    return Located(found.access, found.package, version)


def update_version(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, name: str,
                   changes: dict[str, Any], now: datetime) -> Located:
    found = locate(uow.session, actor, owner, repo, package, name, PUBLISH, action="update versions", lock=FOR_CHANGE)
    version = found.version
    assert version is not None
    for key, value in changes.items():
        if key in EDITABLE:
            if key == "labels":
                value = list(value or [])
            elif key == "github_use_tag_release_notes":
                value = bool(value)
            setattr(version, key, value)
    version.updated = now
    return found


def delete_version(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, name: str) -> None:
    found = locate(uow.session, actor, owner, repo, package, name, PUBLISH, action="delete versions", lock=FOR_DELETE)
    version = found.version
    assert version is not None
    data = version_event_ref(found.repo, found.package, version)
    uow.session.execute(sa.delete(Version).where(Version.id == version.id))
    uow.session.expunge(version)
    uow.publish(events.VERSION_DELETED, data, subject=f"{owner}/{repo}/{package}/{data['version']}")
    usage.settle(uow, found.repo.owner)
