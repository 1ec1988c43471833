"""Packages and versions, with their attributes, readme and release notes, as Bintray showed them."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from catalog.models import Link, Package, PackageMove, Repo, Version
from catalog.queries.common import contains, page_items, time_or_none, wildcard
from catalog.use_cases.access import PUBLISH, READ, RepoRef, level_for, repo_for
from catalog.use_cases.versions import Located, locate
from packyard.auth import Principal
from packyard.errors import Invalid, NotFound
from packyard.paging import Page, page_of


def _attribute_names(attributes: Iterable[dict[str, Any]] | None, publisher: bool) -> list[str]:
    return [a["name"] for a in attributes or [] if publisher or not a["name"].startswith("_")]


def _attributes(attributes: Iterable[dict[str, Any]] | None, publisher: bool) -> list[dict[str, Any]]:
    return [dict(a) for a in attributes or [] if publisher or not a["name"].startswith("_")]


def package_json(owner: str, repo: str, package: Any, versions: list[str], latest: str | None, *,
                 publisher: bool, with_attributes: bool = False, linked_to: list[str] | None = None) -> dict[str, Any]:
    """``package``: a Package or a row of its columns; ``versions``: names, newest first; ``latest``: the latest
    published version; ``linked_to``: names of the repositories it is linked into that the viewer may see."""
    body: dict[str, Any] = {
        "name": package.name,
        "repo": repo,
        "owner": owner,
        "desc": package.desc,
        "labels": list(package.labels or []),
        "attribute_names": _attribute_names(package.attributes, publisher),
        "licenses": list(package.licenses or []),
        "custom_licenses": list(package.custom_licenses or []),
        "followers_count": package.followers_count,
        "created": time_or_none(package.created),
        "website_url": package.website_url,
        "issue_tracker_url": package.issue_tracker_url,
    }
    if publisher:
        body["github_repo"] = package.github_repo or ""
        body["github_release_notes_file"] = package.github_release_notes_file or ""
        body["public_download_numbers"] = package.public_download_numbers
        body["public_stats"] = package.public_stats
    body.update({
        "linked_to_repos": list(linked_to or []),
        "versions": list(versions),
        "latest_version": latest,
        "updated": time_or_none(package.updated),
        "rating": package.rating,
        "rating_count": package.rating_count,
        "system_ids": [],
        "vcs_url": package.vcs_url,
        "maturity": package.maturity or "",
    })
    if with_attributes:
        body["attributes"] = _attributes(package.attributes, publisher)
    return body


def versions_of(conn: sa.Connection, package_ids: list[int]) -> dict[int, tuple[list[str], str | None]]:
    """Per package: its version names, newest first, and its latest published version."""
    rows = conn.execute(
        sa.select(Version.package_id, Version.name, Version.published_at)
        .where(Version.package_id.in_(package_ids)).order_by(Version.ordinal.desc(), Version.id.desc())).all()
    names: dict[int, list[str]] = {pid: [] for pid in package_ids}
    published: dict[int, list[tuple[datetime, int, str]]] = {pid: [] for pid in package_ids}
    for index, (package_id, name, published_at) in enumerate(rows):
        names[package_id].append(name)
        if published_at is not None:
            published[package_id].append((published_at, -index, name))
    return {pid: (names[pid], max(published[pid])[2] if published[pid] else None) for pid in package_ids}


_PACKAGE_COLUMNS = ("id", "name", "desc", "labels", "attributes", "licenses", "custom_licenses", "followers_count",
                    "created", "website_url", "issue_tracker_url", "github_repo", "github_release_notes_file",
                    "public_download_numbers", "public_stats", "updated", "rating", "rating_count", "vcs_url",
                    "maturity")


@functools.cache
def _package_statement(dialect: str) -> sa.Select:
    """The most requested read, built once. On PostgreSQL the versions come in the same statement."""
    query = (sa.select(Repo.id.label("repo_key"), Repo.private.label("repo_private"),
                       *(Package.__table__.c[name] for name in _PACKAGE_COLUMNS))
             .select_from(Repo)
             .outerjoin(Package, sa.and_(Package.repo_id == Repo.id, Package.name == sa.bindparam("name")))
             .where(Repo.owner == sa.bindparam("owner"), Repo.name == sa.bindparam("repo")))
    if dialect != "postgresql":
        return query
    version = sa.orm.aliased(Version)
    names = (sa.select(sa.func.array_agg(aggregate_order_by(version.name, version.ordinal.desc(), version.id.desc())))
             .where(version.package_id == Package.id).scalar_subquery())
    latest = (sa.select(version.name).where(version.package_id == Package.id, version.published_at.is_not(None))
              .order_by(version.published_at.desc(), version.id.desc()).limit(1).scalar_subquery())
    target = sa.orm.aliased(Repo)
    public_links = (sa.select(sa.func.array_agg(aggregate_order_by(target.name, target.owner, target.name)))
                    .select_from(Link).join(target, target.id == Link.repo_id)
                    .where(Link.package_id == Package.id, target.private.is_(False)).scalar_subquery())
    private_links = (sa.exists().where(Link.package_id == Package.id, Link.repo_id == target.id,
                                       target.private.is_(True)))
    return query.add_columns(names.label("version_names"), latest.label("latest_version"),
                             public_links.label("public_links"), private_links.label("private_links"))


def linked_to_repos(conn: sa.Connection, viewer: Principal | None, package_id: int) -> list[str]:
    """Names of the repositories a package is linked into, those the viewer may see (Bintray's ``linked_to_repos``)."""
    targets = conn.execute(sa.select(Repo.id, Repo.owner, Repo.name, Repo.private).join(Link, Link.repo_id == Repo.id)
                           .where(Link.package_id == package_id).order_by(Repo.owner, Repo.name)).all()
    return [t.name for t in targets
            if not t.private or level_for(conn, viewer, RepoRef(t.id, t.owner, t.private)) >= READ]


def get_package(conn: sa.Connection, viewer: Principal | None, owner: str, repo: str, name: str, *,
                with_attributes: bool = False) -> dict[str, Any]:
    # The most requested read: Core on a bare connection, one statement (on PostgreSQL).
    dialect = conn.dialect.name
    package = conn.execute(_package_statement(dialect), {"owner": owner, "repo": repo, "name": name}).first()
    level = level_for(conn, viewer, RepoRef(package.repo_key, owner, package.repo_private)) if package else 0
    if package is None or level < READ:
        raise NotFound(f"Repo '{repo}' was not found")
    if package.id is None:
        raise NotFound(f"Package '{name}' was not found")
    if dialect == "postgresql":
        versions, latest = package.version_names or [], package.latest_version
        linked = (package.public_links or []) if viewer is None or not package.private_links else None
    else:
        versions, latest = versions_of(conn, [package.id])[package.id]
        linked = None
    if linked is None:
        linked = linked_to_repos(conn, viewer, package.id)
    return package_json(owner, repo, package, versions, latest, publisher=level >= PUBLISH,
                        with_attributes=with_attributes, linked_to=linked)


def moved_package(conn: sa.Connection, viewer: Principal | None, owner: str, repo: str, name: str) -> str | None:
    """Where a package that moved away from ``owner/repo`` is now (``owner/repo``), when the viewer may see it."""
    row = conn.execute(sa.select(Repo.id, Repo.owner, Repo.name, Repo.private)
                       .select_from(PackageMove)
                       .join(Package, Package.id == PackageMove.package_id).join(Repo, Repo.id == Package.repo_id)
                       .where(PackageMove.from_owner == owner, PackageMove.from_repo == repo,
                              PackageMove.package == name, Package.name == name)
                       .order_by(PackageMove.id.desc()).limit(1)).first()
    if row is None or level_for(conn, viewer, RepoRef(row.id, row.owner, row.private)) < READ:
        return None
    return f"{row.owner}/{row.name}"


def list_packages(session: Session, viewer: Principal | None, owner: str, repo: str, start: int,
                  start_name: str | None) -> Page:
    """The repository's own packages, and those of other repositories linked into it (``linked: true``)."""
    found = repo_for(session, viewer, owner, repo).repo
    own = sa.select(Package.name.label("name"), sa.literal(False).label("linked")).where(Package.repo_id == found.id)
    linked = (sa.select(Package.name.label("name"), sa.literal(True).label("linked"))
              .join(Link, Link.package_id == Package.id).where(Link.repo_id == found.id))
    both = sa.union_all(own, linked).subquery()
    query = sa.select(both.c.name, both.c.linked)
    if start_name:
        query = query.where(both.c.name.like(wildcard(start_name) + "%", escape="\\"))
    page = page_of(session, query.order_by(both.c.name, both.c.linked), start, scalars=False)
    return Page([{"name": name, "linked": bool(is_linked)} for name, is_linked in page.items], page.total, start)


def search_packages(session: Session, name: str | None, desc: str | None, subject: str | None,
                    repo: str | None, start: int) -> Page:
    if not any((name, desc, subject, repo)):
        raise Invalid("Give at least one of the search parameters name, desc, subject and repo")
    query = sa.select(Package).join(Repo, Repo.id == Package.repo_id).where(Repo.private.is_(False))
    if name:
        query = query.where(Package.name.ilike(contains(name), escape="\\"))
    if desc:
        query = query.where(Package.desc.ilike(contains(desc), escape="\\"))
    if subject:
        query = query.where(Repo.owner == subject)
    if repo:
        query = query.where(Repo.name == repo)
    packages, total = page_items(session, query.order_by(Repo.owner, Repo.name, Package.name), start)
    repos = {r.id: r for r in session.scalars(sa.select(Repo).where(Repo.id.in_({p.repo_id for p in packages})))}
    versions = versions_of(session.connection(), [p.id for p in packages])
    links: dict[int, list[str]] = {p.id: [] for p in packages}
    for package_id, target in session.execute(
            sa.select(Link.package_id, Repo.name).join(Repo, Repo.id == Link.repo_id)
            .where(Link.package_id.in_(list(links)), Repo.private.is_(False)).order_by(Repo.owner, Repo.name)):
        links[package_id].append(target)
    return Page([package_json(repos[p.repo_id].owner, repos[p.repo_id].name, p, *versions[p.id], publisher=False,
                              linked_to=links[p.id]) for p in packages], total, start)


def share_url(base_url: str, owner: str, repo: str, package: str, version: str) -> str:
    """X/Twitter's web intent with the release's announcement prefilled, linking to the version's page."""
    page = f"{base_url}/ui/packages/{quote(owner)}/{quote(repo)}/{quote(package)}/versions/{quote(version)}"
    return "https://twitter.com/intent/tweet?" + urlencode({"text": f"{package} {version} is out", "url": page})


def version_json(found: Located, *, with_attributes: bool = False, base_url: str | None = None) -> dict[str, Any]:
    """Bintray's version JSON; with ``base_url``, a published version also carries its ``share_url``."""
    version, package, repo = found.version, found.package, found.repo
    assert version is not None
    publisher = found.access.can_publish
    body: dict[str, Any] = {
        "name": version.name,
        "desc": version.desc,
        "package": package.name,
        "repo": repo.name,
        "owner": repo.owner,
        "labels": list(version.labels or []),
        "published": version.published_at is not None,
        "attribute_names": _attribute_names(version.attributes, publisher),
        "created": time_or_none(version.created),
        "updated": time_or_none(version.updated),
        "released": time_or_none(version.released) or "",
        "ordinal": float(version.ordinal),
        "github_release_notes_file": version.github_release_notes_file,
        "github_use_tag_release_notes": version.github_use_tag_release_notes,
        "vcs_tag": version.vcs_tag,
        "rating_count": version.rating_count,
    }
    if with_attributes:
        body["attributes"] = _attributes(version.attributes, publisher)
    if base_url and version.published_at is not None:
        body["share_url"] = share_url(base_url, repo.owner, repo.name, package.name, version.name)
    return body


def get_version(session: Session, viewer: Principal | None, owner: str, repo: str, package: str, name: str, *,
                with_attributes: bool = False, base_url: str | None = None) -> dict[str, Any]:
    return version_json(locate(session, viewer, owner, repo, package, name), with_attributes=with_attributes,
                        base_url=base_url)


def get_attributes(session: Session, viewer: Principal | None, owner: str, repo: str, package: str,
                   version: str | None, names: list[str] | None) -> list[dict[str, Any]]:
    found = locate(session, viewer, owner, repo, package, version)
    target = found.version if found.version is not None else found.package
    attributes = _attributes(target.attributes, found.access.can_publish)
    return [a for a in attributes if not names or a["name"] in names]


def get_document(session: Session, viewer: Principal | None, owner: str, repo: str, package: str,
                 version: str | None, field: str, missing: str) -> dict[str, Any]:
    """A readme or release notes, with the names of what it belongs to."""
    found = locate(session, viewer, owner, repo, package, version)
    target = found.version if found.version is not None else found.package
    document = getattr(target, field)
    if not document:
        raise NotFound(missing)
    return document_json(found, document)


def document_json(found: Located, document: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"owner": found.repo.owner, "repo": found.repo.name, "package": found.package.name}
    if found.version is not None:
        body["version"] = found.version.name
    body.update(document)
    return body
