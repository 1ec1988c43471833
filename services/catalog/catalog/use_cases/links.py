"""Links: a package shown in another repository (Bintray's link API), e.g. an aggregate owned by an
organization that includes packages of many owners. Its published files download through the
target repository's ``/dl/`` path beside the target's own files (which win a path they share).

A package of a private repository is never shown in a public one: it may only be linked into a
private repository of the same owner, by someone who administers both.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.exc

from catalog import events
from catalog.models import Link, Package, Repo
from catalog.use_cases.access import ADMIN, RepoLike, repo_for
from catalog.use_cases.names import check_path
from catalog.use_cases.versions import locate
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Forbidden, Invalid, NotFound


def check_path_prefix(prefix: str | None) -> str | None:
    """A link's ``path_prefix``: a directory relative to the repository root (None or empty: everything)."""
    if prefix is None:
        return None
    prefix = prefix.strip("/")
    return check_path(prefix) if prefix else None


def passes_link_rules(source: RepoLike, target: RepoLike) -> bool:
    """The rule every link keeps, whoever made it: a package of a private repository is shown only in a
    private repository of the same owner. (:mod:`catalog.downloads.paths` applies the same rule in SQL.)"""
    return not source.private or (target.private and target.owner == source.owner)


def check_linkable(source: Repo, target: Repo, *, source_level: int) -> None:
    """May a package of ``source`` be shown in ``target``? (``source_level``: the asker's level on ``source``)."""
    if source.id == target.id:
        raise Invalid(f"The package is already in repository '{target.owner}/{target.name}'")
    if source.private:
        if not passes_link_rules(source, target):
            raise Invalid("A package of a private repository can only be linked into a private repository of "
                          "the same owner")
        if source_level < ADMIN:
            raise Forbidden(f"You do not have the 'admin' permission on repository '{source.owner}/{source.name}' "
                            "needed to link its packages elsewhere")


def is_linked(session: sa.orm.Session, package: Package, target: Repo) -> bool:
    found = session.scalar(sa.select(Link.id).where(Link.repo_id == target.id, Link.package_id == package.id))
    return found is not None


def add_link(uow: UnitOfWork, actor: str, target: Repo, source: Repo, package: Package, path_prefix: str | None,
             now: datetime) -> Link:
    session = uow.session
    if is_linked(session, package, target):
        raise Conflict(f"Package '{package.name}' is already linked to repository '{target.owner}/{target.name}'")
    link = Link(repo_id=target.id, package_id=package.id, path_prefix=path_prefix, created=now, created_by=actor)
    try:
        with session.begin_nested():
            session.add(link)
            session.flush()
    except sqlalchemy.exc.IntegrityError:
        raise Conflict(f"Package '{package.name}' is already linked to repository "
                       f"'{target.owner}/{target.name}'") from None
    uow.publish(events.PACKAGE_LINKED, {
        "owner": source.owner, "repo": source.name, "private": source.private, "package": package.name,
        "target_owner": target.owner, "target_repo": target.name, "target_private": target.private,
        "path_prefix": path_prefix, "actor": actor}, subject=f"{source.owner}/{source.name}/{package.name}")
    return link


def link_package(uow: UnitOfWork, actor: Principal, owner: str, repo: str, source_owner: str, source_repo: str,
                 source_package: str, path_prefix: str | None, now: datetime) -> Link:
    """Show ``source_owner/source_repo/source_package`` in ``owner/repo`` (``admin`` on the target)."""
    session = uow.session
    target = repo_for(session, actor, owner, repo, ADMIN, action="link packages into it").repo
    found = locate(session, actor, source_owner, source_repo, source_package)
    prefix = check_path_prefix(path_prefix)
    check_linkable(found.repo, target, source_level=found.access.level)
    return add_link(uow, actor.username, target, found.repo, found.package, prefix, now)


def unlink_package(uow: UnitOfWork, actor: Principal, owner: str, repo: str, source_owner: str, source_repo: str,
                   source_package: str) -> None:
    """Stop showing a package in ``owner/repo`` (``admin`` on the target)."""
    session = uow.session
    target = repo_for(session, actor, owner, repo, ADMIN, action="unlink packages from it").repo
    row = session.execute(
        sa.select(Link, Package, Repo).join(Package, Package.id == Link.package_id)
        .join(Repo, Repo.id == Package.repo_id)
        .where(Link.repo_id == target.id, Repo.owner == source_owner, Repo.name == source_repo,
               Package.name == source_package)).first()
    if row is None:
        raise NotFound(f"Package '{source_package}' is not linked to repository '{repo}'")
    link, package, source = row
    session.delete(link)
    _announce_unlinked(uow, source, package, target, actor.username)


def _announce_unlinked(uow: UnitOfWork, source: Repo, package: Package, target: Repo, actor: str) -> None:
    uow.publish(events.PACKAGE_UNLINKED, {
        "owner": source.owner, "repo": source.name, "private": source.private, "package": package.name,
        "target_owner": target.owner, "target_repo": target.name, "target_private": target.private,
        "actor": actor}, subject=f"{source.owner}/{source.name}/{package.name}")


def drop_broken_by_move(uow: UnitOfWork, package: Package, source: Repo, destination: Repo, actor: str) -> int:
    """Before ``package`` moves from ``source`` to ``destination``: remove its links that would no longer pass
    the link rules (and its link into ``destination`` itself), announcing each. The number removed."""
    session = uow.session
    rows = session.execute(sa.select(Link, Repo).join(Repo, Repo.id == Link.repo_id)
                           .where(Link.package_id == package.id).order_by(Link.id)).all()
    removed = 0
    for link, shown_in in rows:
        if shown_in.id != destination.id and passes_link_rules(destination, shown_in):
            continue
        session.delete(link)
        _announce_unlinked(uow, source, package, shown_in, actor)
        removed += 1
    session.flush()
    return removed
