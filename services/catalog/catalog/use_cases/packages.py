"""Packages, their attributes, readme and release notes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.exc

from catalog import events, licenses
from catalog.models import Package, Repo
from catalog.use_cases import usage
from catalog.use_cases.access import FOR_CHANGE, FOR_DELETE, PUBLISH, locking, repo_for
from catalog.use_cases.names import check_package_name
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Invalid, NotFound

MATURITIES = ("", "Official", "Stable", "Development", "Experimental")
EDITABLE = ("desc", "labels", "licenses", "custom_licenses", "vcs_url", "website_url", "issue_tracker_url",
            "github_repo", "github_release_notes_file", "public_download_numbers", "public_stats", "maturity")
_SCP_LIKE = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+")
VCS_SCHEMES = ("http", "https", "git", "ssh", "svn", "svn+ssh", "hg", "bzr")


def package_event_data(repo: Repo, package: Package) -> dict[str, Any]:
    return {"owner": repo.owner, "repo": repo.name, "private": repo.private, "package": package.name,
            "desc": package.desc, "labels": list(package.labels or []), "licenses": list(package.licenses or []),
            "vcs_url": package.vcs_url, "website_url": package.website_url, "created": package.created,
            "updated": package.updated, "revision": package.revision}


def find_package(session: sa.orm.Session, repo: Repo, name: str, *, lock: str | None = None) -> Package:
    """The repository's package ``name`` (404 when missing); ``lock``: see :data:`access.FOR_CHANGE`."""
    package = session.scalars(locking(sa.select(Package).where(Package.repo_id == repo.id, Package.name == name),
                                      lock)).first()
    if package is None:
        raise NotFound(f"Package '{name}' was not found")
    return package


def _valid_vcs_url(value: str | None) -> bool:
    if not value:
        return False
    if _SCP_LIKE.fullmatch(value):
        return True
    parts = urlsplit(value)
    return parts.scheme in VCS_SCHEMES and bool(parts.netloc) and not any(c.isspace() for c in value)


def _valid_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in value)


def _normalize(values: dict[str, Any], *, public: bool) -> dict[str, Any]:
    """Check a package's information as it will be stored (Bintray's rules and messages)."""
    names = []
    for name in values.get("licenses") or []:
        known = licenses.canonical(name)
        if known is None:
            raise Invalid(f"License '{name}' does not exist")
        names.append(known)
    values["licenses"] = list(dict.fromkeys(names))
    if public:
        if not values["licenses"]:
            raise Invalid("Package license is mandatory")
        if not _valid_vcs_url(values.get("vcs_url")):
            raise Invalid("Please enter a valid VCS URL for your OSS package.")
    elif values.get("vcs_url") and not _valid_vcs_url(values["vcs_url"]):
        raise Invalid("Please enter a valid VCS URL for your package.")
    for key in ("website_url", "issue_tracker_url"):
        if values.get(key) and not _valid_web_url(values[key]):
            raise Invalid(f"{key}: not a valid http(s) URL")
    if values.get("maturity", "") not in MATURITIES:
        raise Invalid("maturity must be one of Official, Stable, Development, Experimental or empty")
    return values


def create_package(uow: UnitOfWork, actor: Principal, owner: str, repo_name: str, values: dict[str, Any],
                   now: datetime) -> tuple[Repo, Package]:
    session = uow.session
    repo = repo_for(session, actor, owner, repo_name, PUBLISH, action="create packages").repo
    name = check_package_name(values["name"])
    info = {key: values.get(key) for key in EDITABLE}
    info = _normalize({**info, "labels": info["labels"] or [], "custom_licenses": info["custom_licenses"] or [],
                       "public_download_numbers": bool(info["public_download_numbers"]),
                       "public_stats": bool(info["public_stats"]), "maturity": info["maturity"] or ""},
                      public=not repo.private)
    if session.scalar(sa.select(Package.id).where(Package.repo_id == repo.id, Package.name == name)) is not None:
        raise Conflict(f"Package '{name}' already exists")
    package = Package(repo_id=repo.id, name=name, attributes=[], created=now, updated=now, revision=1, **info)
    session.add(package)
    try:
        session.flush()
    except sqlalchemy.exc.IntegrityError:
        raise Conflict(f"Package '{name}' already exists") from None
    uow.publish(events.PACKAGE_CREATED, package_event_data(repo, package), subject=f"{owner}/{repo_name}/{name}")
    return repo, package


def update_package(uow: UnitOfWork, actor: Principal, owner: str, repo_name: str, name: str,
                   changes: dict[str, Any], now: datetime) -> tuple[Repo, Package]:
    session = uow.session
    repo = repo_for(session, actor, owner, repo_name, PUBLISH, action="update packages").repo
    # concurrent updates wait for each other (distinct revisions); one deleted meanwhile answers 404
    package = find_package(session, repo, name, lock=FOR_CHANGE)
    changes = {k: v for k, v in changes.items() if k in EDITABLE}
    if not changes:
        return repo, package
    merged = {key: changes.get(key, getattr(package, key)) for key in EDITABLE}
    merged["labels"] = merged["labels"] or []
    merged["custom_licenses"] = merged["custom_licenses"] or []
    merged["maturity"] = merged["maturity"] or ""
    merged = _normalize(merged, public=not repo.private)
    for key in changes:
        setattr(package, key, merged[key])
    package.updated = now
    package.revision += 1
    uow.publish(events.PACKAGE_UPDATED, package_event_data(repo, package), subject=f"{owner}/{repo_name}/{name}")
    return repo, package


def delete_package(uow: UnitOfWork, actor: Principal, owner: str, repo_name: str, name: str) -> None:
    session = uow.session
    repo = repo_for(session, actor, owner, repo_name, PUBLISH, action="delete packages").repo
    package = find_package(session, repo, name, lock=FOR_DELETE)  # a concurrent delete of it: 404
    session.execute(sa.delete(Package).where(Package.id == package.id))
    session.expunge(package)
    uow.publish(events.PACKAGE_DELETED, {"owner": owner, "repo": repo_name, "private": repo.private,
                                         "package": name}, subject=f"{owner}/{repo_name}/{name}")
    usage.settle(uow, repo.owner)
