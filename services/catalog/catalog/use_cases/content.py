"""Files: uploads, publishing, discarding and deleting content."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa
import sqlalchemy.exc

from catalog import events
from catalog.models import File, Package, Repo, Version
from catalog.storage import BlobStorage
from catalog.use_cases import signatures, usage
from catalog.use_cases.access import FOR_DELETE, PUBLISH, locking, repo_for
from catalog.use_cases.files import announce_file_deleted, download_url
from catalog.use_cases.names import check_package_name, check_path, check_version_name
from catalog.use_cases.packages import find_package
from catalog.use_cases.versions import add_version, locate, version_event_ref
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Invalid, NotFound, TooLarge

NO_LIMITS = usage.Limits()  # no storage quota, no upload rate limit


def already_exists(path: str) -> Conflict:
    return Conflict(f"Unable to upload files: An artifact with the path '{path}' already exists")


# --- uploads ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    owner: str
    repo: str
    package: str
    version: str
    path: str
    publish: bool = False
    override: bool = False
    sha256: str | None = None  # X-Checksum-Sha2, verified against the content


@dataclass(frozen=True)
class Uploaded:
    path: str
    size: int
    sha1: str
    sha256: str
    published: bool


def upload(uow_factory: Callable[[], UnitOfWork], storage: BlobStorage, actor: Principal, cmd: Upload,
           body: IO[bytes], *, limit: int, base_url: str, clock: Callable[[], datetime],
           limits: usage.Limits = NO_LIMITS, announced_size: int | None = None) -> Uploaded:
    """Receive one file into a version, creating the version when needed (Bintray's upload).

    Unlike other use cases this one commits: the body may take minutes to arrive, so everything
    that can refuse the upload is checked in a first short transaction before a byte is read, the
    content streams into the blob store with no transaction open, and a second transaction records
    the file (checking again, since the world may have changed meanwhile). The upload is counted
    against the caller's rate limit first, and the owner's storage quota is checked before a byte
    is read (``announced_size``: the request's Content-Length) and again when the file is recorded.
    """
    check_path(cmd.path)
    check_package_name(cmd.package)
    check_version_name(cmd.version)
    if cmd.sha256 is not None and (len(cmd.sha256) != 64 or any(c not in "0123456789abcdef" for c in cmd.sha256)):
        raise Invalid("X-Checksum-Sha2 must be a hex SHA-256")
    with uow_factory() as uow:
        usage.count_upload(uow, actor.user_id, limits, clock())
        uow.commit()
    receive_limit = limit
    with uow_factory() as uow:
        repo, _package, existing = _check_upload(uow, actor, cmd)
        if limits.quota_bytes:
            replaced = existing.size if existing is not None else 0
            used = usage.measure(uow.session, repo.owner) - replaced
            if announced_size is not None:
                usage.check_quota(used, announced_size, repo.owner, limits)
            receive_limit = min(limit, max(limits.quota_bytes - used, 0))
    try:
        received = storage.receive(body, limit=receive_limit)
    except TooLarge:
        if receive_limit < limit:
            usage.check_quota(used, receive_limit + 1, cmd.owner, limits)
        raise
    with received as incoming:
        if cmd.sha256 is not None and incoming.sha256 != cmd.sha256:
            raise Conflict(f"Checksum mismatch: the content's SHA-256 is {incoming.sha256}, "
                           f"not {cmd.sha256} as X-Checksum-Sha2 says")
        incoming.commit()
    with uow_factory() as uow:
        file = _record_upload(uow, actor, cmd, incoming, clock(), base_url, limits)
        uow.commit()
    return Uploaded(file.path, file.size, file.sha1, file.sha256, file.published_at is not None)


def _check_upload(uow: UnitOfWork, actor: Principal, cmd: Upload) -> tuple[Repo, Package, File | None]:
    session = uow.session
    repo = repo_for(session, actor, cmd.owner, cmd.repo, PUBLISH, action="upload").repo
    package = find_package(session, repo, cmd.package)
    existing = session.scalars(sa.select(File).where(File.repo_id == repo.id, File.path == cmd.path)
                              .with_for_update()).first()
    if existing is not None:
        version_name = session.scalar(sa.select(Version.name).where(Version.id == existing.version_id))
        if existing.package_id != package.id or version_name != cmd.version:
            raise Conflict(f"Unable to upload files: An artifact with the path '{cmd.path}' already exists "
                           "in another version")
        if not cmd.override:
            raise already_exists(cmd.path)
    return repo, package, existing


def _record_upload(uow: UnitOfWork, actor: Principal, cmd: Upload, incoming: Any, now: datetime,
                   base_url: str, limits: usage.Limits) -> File:
    session = uow.session
    repo, package, existing = _check_upload(uow, actor, cmd)
    usage.lock(uow, repo.owner)  # until commit: concurrent uploads of this owner queue here
    replaced = existing.size if existing is not None else 0
    usage.check_quota(usage.measure(session, repo.owner) - replaced, incoming.size, repo.owner, limits)
    version = session.scalars(sa.select(Version).where(Version.package_id == package.id,
                                                       Version.name == cmd.version)).first()
    if version is None:
        try:
            version = add_version(uow, actor, repo, package, {"name": cmd.version}, now)
        except Conflict:  # created by a concurrent upload a moment ago
            version = session.scalars(sa.select(Version).where(Version.package_id == package.id,
                                                               Version.name == cmd.version)).one()
    if existing is not None:
        if existing.published_at is not None:
            announce_file_deleted(uow, repo, package, version, existing)
        signatures.drop_signature(uow, repo, existing)  # new bytes: the old signature no longer holds
        file = existing
        file.size, file.sha1, file.sha256 = incoming.size, incoming.sha1, incoming.sha256
        file.uploader, file.created, file.published_at = actor.username, now, None
    else:
        file = File(repo_id=repo.id, package_id=package.id, version_id=version.id, path=cmd.path,
                    name=posixpath.basename(cmd.path), size=incoming.size, sha1=incoming.sha1,
                    sha256=incoming.sha256, uploader=actor.username, created=now, published_at=None)
        session.add(file)
    try:
        session.flush()
    except sqlalchemy.exc.IntegrityError:
        raise already_exists(cmd.path) from None  # a concurrent upload of the same path won
    version.updated = now
    if cmd.publish:
        _publish(uow, actor, repo, package, version, [file], now, base_url)
    usage.settle(uow, repo.owner)
    return file


# --- publish, discard, delete -------------------------------------------------------------------

def _publish(uow: UnitOfWork, actor: Principal, repo: Repo, package: Package, version: Version,
             files: list[File], now: datetime, base_url: str) -> None:
    if not files:
        return
    # Concurrent publishes of one version (an upload with publish=1 beside a publish call) must
    # release it once: its state is re-read under a row lock before deciding.
    uow.session.flush()
    uow.session.refresh(version, with_for_update=True)
    ref = version_event_ref(repo, package, version)
    subject = f"{repo.owner}/{repo.name}/{package.name}/{version.name}"
    for file in files:
        file.published_at = now
        uow.publish(events.FILE_PUBLISHED, {
            **ref, "path": file.path, "size": file.size, "sha1": file.sha1, "sha256": file.sha256,
            "download_url": download_url(base_url, repo.owner, repo.name, file.path),
            "publisher": actor.username, "published": now}, subject=subject)
    package.updated = version.updated = now
    if version.published_at is not None:
        return
    version.published_at = now
    version.released = version.released or now
    notes = (version.release_notes or {}).get("bintray") or {}
    uow.publish(events.VERSION_RELEASED, {
        **ref, "publisher": actor.username, "released": version.released,
        "files": [{"path": f.path, "size": f.size, "sha1": f.sha1, "sha256": f.sha256,
                   "download_url": download_url(base_url, repo.owner, repo.name, f.path)} for f in files],
        "release_notes": notes.get("content"), "gpg_sign_files": repo.gpg_sign_files,
        "gpg_use_owner_key": repo.gpg_use_owner_key}, subject=subject)


def _unpublished(uow: UnitOfWork, version: Version) -> list[File]:
    return list(uow.session.scalars(sa.select(File).where(File.version_id == version.id,
                                                          File.published_at.is_(None))
                                    .order_by(File.path).with_for_update()).all())


def publish_version(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, version: str,
                    *, discard: bool, now: datetime, base_url: str) -> int:
    """Publish (or discard) every unpublished file of a version; the number of files affected."""
    found = locate(uow.session, actor, owner, repo, package, version, PUBLISH,
                   action="discard content" if discard else "publish content")
    assert found.version is not None
    files = _unpublished(uow, found.version)
    if discard:
        if files:
            uow.session.execute(sa.delete(File).where(File.id.in_([f.id for f in files])))
            found.version.updated = now
            usage.settle(uow, found.repo.owner)
        return len(files)
    _publish(uow, actor, found.repo, found.package, found.version, files, now, base_url)
    return len(files)


def delete_content(uow: UnitOfWork, actor: Principal, owner: str, repo: str, path: str) -> None:
    check_path(path)
    session = uow.session
    found = repo_for(session, actor, owner, repo, PUBLISH, action="delete content").repo
    # a concurrent delete of the same file waits for this one, then finds it gone (404, announced once)
    file = session.scalars(locking(sa.select(File).where(File.repo_id == found.id, File.path == path),
                                   FOR_DELETE)).first()
    if file is None:
        raise NotFound(f"File '{path}' was not found")
    if file.published_at is not None:
        package = session.get_one(Package, file.package_id)  # a file's package and version exist (foreign keys)
        version = session.get_one(Version, file.version_id)
        announce_file_deleted(uow, found, package, version, file)
    signatures.drop_signature(uow, found, file)  # a file's signature goes with it
    session.delete(file)
    usage.settle(uow, found.owner)
