"""What a ``/dl/:subject/:repo/:file_path`` path is: a file of the repository, a file of a package linked
into it, or a file of a package that moved away (its old URLs redirect).

Three readers, three questions:

* :func:`resolve_download` — catalog's own ``/dl/`` handler: may this caller download it?
* :func:`public_download` — the gateway's fast path: is it a file anyone may download? One
  statement, for the gateway to serve the blob itself when the answer is yes.
* :func:`counted_file` — the download-log ingester: which file did a logged download fetch?

A repository's own published file at a path hides linked files at the same path, whoever asks. An
unpublished file exists only for those who may publish to its repository: everyone else gets what a
missing path gets (same status, body and headers).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from catalog.models import File, Link, Package, PackageMove, Repo
from catalog.use_cases.access import PUBLISH, READ, RepoRef, level_for
from catalog.use_cases.names import check_path
from packyard.auth import Principal
from packyard.errors import DomainError, NotFound, Unauthorized

AUTH_REQUIRED = "This resource requires authentication"
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Packyard"'}
DOWNLOAD_PREFIX = "/dl/"


@dataclass(frozen=True)
class Download:
    file_id: int
    version_id: int
    package_id: int
    path: str
    name: str
    size: int
    sha1: str
    sha256: str
    created: datetime
    owner: str  # the repository the file belongs to (not the aggregate it was reached through)
    repo: str


@dataclass(frozen=True)
class Moved:
    """The path belonged to a package that moved; ``location`` is its ``/dl/`` path now."""

    location: str


@dataclass(frozen=True)
class CountedFile:
    file_id: int
    version_id: int
    package_id: int
    size: int


def parse_download_uri(uri: str) -> tuple[str, str, str] | None:
    """``(subject, repo, file_path)`` of a request URI under ``/dl/`` as a client sent it; None otherwise."""
    path = unquote(uri.split("?", 1)[0].split("#", 1)[0], errors="strict") if uri else ""
    if not path.startswith(DOWNLOAD_PREFIX):
        return None
    parts = path[len(DOWNLOAD_PREFIX):].split("/", 2)
    if len(parts) != 3 or not all(parts) or not all(_plausible_name(name) for name in parts[:2]):
        return None
    return parts[0], parts[1], parts[2]


def _plausible_name(name: str) -> bool:
    """Could name a subject or repository (names are short and printable; PostgreSQL text holds no NUL)."""
    return len(name) <= 64 and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in name)


def _prefix_matches(path: sa.BindParameter) -> sa.ColumnElement[bool]:
    """The link includes the path: no prefix, or the path lies under it (a directory, not a string prefix)."""
    return sa.or_(Link.path_prefix.is_(None),
                  sa.func.substr(path, 1, sa.func.length(Link.path_prefix) + 1) == Link.path_prefix + "/")


_FILE_COLUMNS = (File.id, File.version_id, File.package_id, File.path, File.name, File.size, File.sha1, File.sha256,
                 File.created, File.published_at)


@functools.cache
def _direct_statement() -> sa.Select:
    return (sa.select(Repo.id.label("repo_key"), Repo.private.label("repo_private"), *_FILE_COLUMNS)
            .select_from(Repo)
            .outerjoin(File, sa.and_(File.repo_id == Repo.id, File.path == sa.bindparam("path")))
            .where(Repo.owner == sa.bindparam("owner"), Repo.name == sa.bindparam("repo")))


def _link_rules(source: Any, target: Any) -> sa.ColumnElement[bool]:
    """The link rules checked on every download through a link, whatever happened since it was made: a
    package of a private repository shows only in a private repository of the same owner
    (:func:`catalog.use_cases.links.passes_link_rules`)."""
    return sa.or_(source.private.is_(False), sa.and_(target.private.is_(True), target.owner == source.owner))


@functools.cache
def _linked_statement() -> sa.Select:
    source, target = aliased(Repo), aliased(Repo)
    path = sa.bindparam("path", type_=sa.String)
    return (sa.select(source.owner.label("source_owner"), source.name.label("source_repo"), *_FILE_COLUMNS)
            .select_from(Link)
            .join(target, target.id == Link.repo_id)
            .join(Package, Package.id == Link.package_id)
            .join(source, source.id == Package.repo_id)
            .join(File, sa.and_(File.repo_id == source.id, File.path == path, File.package_id == Package.id))
            .where(Link.repo_id == sa.bindparam("repo_id"), File.published_at.is_not(None), _prefix_matches(path),
                   _link_rules(source, target))
            .order_by(Link.id).limit(1))


@functools.cache
def _moved_statement() -> sa.Select:
    now_in = aliased(Repo)
    return (sa.select(now_in.id, now_in.owner, now_in.name, now_in.private, File.id.label("file_id"),
                      File.version_id, File.package_id, File.size, File.published_at)
            .select_from(PackageMove)
            .join(Package, Package.id == PackageMove.package_id)
            .join(now_in, now_in.id == Package.repo_id)
            .join(File, sa.and_(File.repo_id == now_in.id, File.package_id == Package.id,
                                File.path == sa.bindparam("path")))
            .where(PackageMove.from_owner == sa.bindparam("owner"), PackageMove.from_repo == sa.bindparam("repo"))
            .order_by(PackageMove.id.desc()).limit(1))


def dl_path(owner: str, repo: str, path: str) -> str:
    return f"{DOWNLOAD_PREFIX}{quote(owner)}/{quote(repo)}/{quote(path)}"


def resolve_download(conn: sa.Connection, actor: Principal | None, owner: str, repo: str,
                     path: str) -> Download | Moved:
    """A file the caller may download (what ``/dl/`` sends), or where a moved package's file is now.

    401 to an anonymous caller who might see it with credentials; a private repository and a
    missing one answer the same. The common case (the repository's own file) costs one statement.
    """
    check_path(path)
    row = conn.execute(_direct_statement(), {"owner": owner, "repo": repo, "path": path}).first()
    level = level_for(conn, actor, RepoRef(row.repo_key, owner, row.repo_private)) if row is not None else 0
    readable = row is not None and level >= READ
    if readable and row is not None and row.id is not None and (row.published_at is not None or level >= PUBLISH):
        return _download(row, owner, repo)
    # An unpublished file the caller may not see is no file at all for them: the answer below is the
    # one a missing path gets (a linked file may show there, credentials are not asked for).
    absent = readable
    if absent and row is not None:
        linked = conn.execute(_linked_statement(), {"repo_id": row.repo_key, "path": path}).first()
        if linked is not None:
            return _download(linked, linked.source_owner, linked.source_repo)
    if row is None or absent:
        moved = conn.execute(_moved_statement(), {"owner": owner, "repo": repo, "path": path}).first()
        if moved is not None:
            moved_level = level_for(conn, actor, RepoRef(moved.id, moved.owner, moved.private))
            if moved_level >= READ and (moved.published_at is not None or moved_level >= PUBLISH):
                return Moved(dl_path(moved.owner, moved.name, path))
    # Credentials may help unless a readable repository simply has no such file (for this caller).
    if actor is None and not readable:
        raise Unauthorized(AUTH_REQUIRED, headers=_CHALLENGE)
    raise NotFound(f"File '{path}' was not found")


def resolve_file(conn: sa.Connection, actor: Principal | None, owner: str, repo: str, path: str) -> Download:
    """:func:`resolve_download` for lookups that do not follow moved packages (``file_package``)."""
    found = resolve_download(conn, actor, owner, repo, path)
    if isinstance(found, Moved):
        if actor is None:
            raise Unauthorized(AUTH_REQUIRED, headers=_CHALLENGE)
        raise NotFound(f"File '{path}' was not found")
    return found


def _download(row: sa.Row, owner: str, repo: str) -> Download:
    return Download(row.id, row.version_id, row.package_id, row.path, row.name, row.size, row.sha1, row.sha256,
                    row.created, owner, repo)


# --- the gateway's fast path --------------------------------------------------------------------

@dataclass(frozen=True)
class PublicFile:
    name: str
    sha1: str
    sha256: str


@functools.cache
def _public_statement() -> sa.Select:
    path = sa.bindparam("path", type_=sa.String)
    own = (sa.select(sa.literal(0).label("rank"), sa.literal(0).label("link_id"), File.name, File.sha1, File.sha256)
           .select_from(Repo)
           .join(File, sa.and_(File.repo_id == Repo.id, File.path == path))
           .where(Repo.owner == sa.bindparam("owner"), Repo.name == sa.bindparam("repo"), Repo.private.is_(False),
                  File.published_at.is_not(None)))
    target, source, shadow = aliased(Repo), aliased(Repo), aliased(File)
    linked = (sa.select(sa.literal(1).label("rank"), Link.id.label("link_id"), File.name, File.sha1, File.sha256)
              .select_from(target)
              .join(Link, Link.repo_id == target.id)
              .join(Package, Package.id == Link.package_id)
              .join(source, source.id == Package.repo_id)
              .join(File, sa.and_(File.repo_id == source.id, File.path == path, File.package_id == Package.id))
              .where(target.owner == sa.bindparam("owner"), target.name == sa.bindparam("repo"),
                     target.private.is_(False), source.private.is_(False), _link_rules(source, target),
                     File.published_at.is_not(None),
                     _prefix_matches(path),
                     ~sa.exists().where(shadow.repo_id == target.id, shadow.path == path,
                                        shadow.published_at.is_not(None))))
    both = sa.union_all(own, linked).subquery()
    return sa.select(both.c.name, both.c.sha1, both.c.sha256).order_by(both.c.rank, both.c.link_id).limit(1)


def public_download(conn: sa.Connection, uri: str) -> PublicFile | None:
    """The file at a ``/dl/`` request URI when anyone may download it (published, public repository,
    directly or through a link), in one statement; None for everything else."""
    try:
        parsed = parse_download_uri(uri)
        if parsed is None:
            return None
        owner, repo, path = parsed
        check_path(path)
    except (UnicodeDecodeError, DomainError):
        return None
    row = conn.execute(_public_statement(), {"owner": owner, "repo": repo, "path": path}).first()
    return PublicFile(row.name, row.sha1, row.sha256) if row is not None else None


# --- counting logged downloads ------------------------------------------------------------------

def counted_file(conn: sa.Connection, owner: str, repo: str, path: str) -> CountedFile | None:
    """The file a download of ``/dl/owner/repo/path`` fetched, as the download log names it: the
    repository's own file, a linked one, or one of a package that moved away. None when unknown."""
    row = conn.execute(_direct_statement(), {"owner": owner, "repo": repo, "path": path}).first()
    if row is not None and row.id is not None:
        return CountedFile(row.id, row.version_id, row.package_id, row.size)
    if row is not None:
        linked = conn.execute(_linked_statement(), {"repo_id": row.repo_key, "path": path}).first()
        if linked is not None:
            return CountedFile(linked.id, linked.version_id, linked.package_id, linked.size)
    moved = conn.execute(_moved_statement(), {"owner": owner, "repo": repo, "path": path}).first()
    if moved is not None:
        return CountedFile(moved.file_id, moved.version_id, moved.package_id, moved.size)
    return None
