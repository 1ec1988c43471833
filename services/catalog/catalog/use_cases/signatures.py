"""Signatures of files, for signing's internal calls (DESIGN §1: the one synchronous pair).

Signing reads what to sign (a version's files, one file) as an actor who must be able to publish to
the repository, streams the bytes, and hands back an armored detached signature that becomes
``<path>.asc``: a file of the same version, published when the signed file is, replaced when signing
again, and deleted with the file it signs. The signed file records which key signed it and when.

Catalog also keeps a replica of signing's key events, to refuse ``gpg_use_owner_key`` unless the
owner has a stored private key that signs without passphrase (as Bintray did).
"""

from __future__ import annotations

import io
import posixpath
from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.orm import Session

from catalog import events
from catalog.models import File, GpgKeyReplica, Package, Repo, Subject, Version
from catalog.storage import BlobStorage
from catalog.use_cases.access import PUBLISH, find_repo, live_subject, repo_for
from catalog.use_cases.files import announce_file_deleted, download_url
from catalog.use_cases.names import check_path
from catalog.use_cases.packages import find_package
from catalog.use_cases.versions import find_version, version_event_ref
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Invalid, NotFound

SUFFIX = ".asc"
MAX_SIGNATURE_BYTES = 64 * 1024


def actor_principal(session: Session, actor: str | None, token: Principal | None) -> Principal | None:
    """Who signs: the caller's own access token when signing forwarded it, else the named user from the
    replica; None for automatic signing (the repository's own setting asked for it)."""
    if token is not None:
        return token
    if not actor:
        return None
    user = live_subject(session, actor)
    if user is None or user.kind != "user":
        raise NotFound(f"User '{actor}' was not found")
    return Principal(username=user.name, user_id=user.identity_id)


def _repo(session: Session, principal: Principal | None, owner: str, repo: str) -> Repo:
    if principal is None:
        found = find_repo(session, owner, repo)
        if found is None:
            raise NotFound(f"Repo '{repo}' was not found")
        return found
    return repo_for(session, principal, owner, repo, PUBLISH, action="sign content").repo


def _file_json(file: File) -> dict[str, Any]:
    return {"path": file.path, "size": file.size, "sha1": file.sha1, "sha256": file.sha256,
            "published": file.published_at is not None}


def _owner_type(session: Session, owner: str) -> str:
    subject = session.get(Subject, owner)
    return subject.kind if subject is not None else "user"


def version_to_sign(session: Session, principal: Principal | None, owner: str, repo: str, package: str,
                    version: str) -> dict[str, Any]:
    found_repo = _repo(session, principal, owner, repo)
    found_package = find_package(session, found_repo, package)
    found_version = find_version(session, found_package, version)
    files = session.scalars(sa.select(File).where(File.version_id == found_version.id).order_by(File.path)).all()
    return {"owner": owner, "repo": repo, "package": found_package.name, "version": found_version.name,
            "private": found_repo.private, "owner_type": _owner_type(session, owner),
            "files": [_file_json(f) for f in files]}


def _file(session: Session, repo: Repo, path: str) -> File:
    check_path(path)
    file = session.scalars(sa.select(File).where(File.repo_id == repo.id, File.path == path)).first()
    if file is None:
        raise NotFound(f"File '{path}' was not found")
    return file


def file_to_sign(session: Session, principal: Principal | None, owner: str, repo: str, path: str) -> dict[str, Any]:
    found_repo = _repo(session, principal, owner, repo)
    file = _file(session, found_repo, path)
    return {**_file_json(file), "owner": owner, "repo": repo, "signature_fingerprint": file.signature_fingerprint,
            "package": session.scalar(sa.select(Package.name).where(Package.id == file.package_id)),
            "version": session.scalar(sa.select(Version.name).where(Version.id == file.version_id)),
            "private": found_repo.private, "owner_type": _owner_type(session, owner)}


def content_of(session: Session, owner: str, repo: str, path: str) -> File:
    found = find_repo(session, owner, repo)
    if found is None:
        raise NotFound(f"Repo '{repo}' was not found")
    return _file(session, found, path)


def store_signature(uow: UnitOfWork, storage: BlobStorage, *, owner: str, repo: str, path: str, body: IO[bytes],
                    fingerprint: str, actor: str | None, token: Principal | None, now: datetime,
                    base_url: str) -> dict[str, Any]:
    """Store ``<path>.asc`` beside the file (replacing an older one) and record the signature on the file."""

    if not fingerprint or len(fingerprint) > 64 or not all(c in "0123456789ABCDEFabcdef" for c in fingerprint):
        raise Invalid("X-Signing-Fingerprint must be the signing key's hex fingerprint")
    session = uow.session
    principal = actor_principal(session, actor, token)
    found_repo = _repo(session, principal, owner, repo)
    file = _file(session, found_repo, path)
    if path.endswith(SUFFIX):
        raise Invalid(f"'{path}' is a signature itself")
    signature_path = check_path(path + SUFFIX)
    signature = body.read(MAX_SIGNATURE_BYTES + 1)
    if len(signature) > MAX_SIGNATURE_BYTES or not signature.lstrip().startswith(b"-----BEGIN PGP SIGNATURE-----"):
        raise Invalid("The body must be an ASCII-armored PGP signature")
    with storage.receive(io.BytesIO(signature), limit=MAX_SIGNATURE_BYTES) as incoming:
        incoming.commit()
    package = session.get_one(Package, file.package_id)  # a file's package and version exist (foreign keys)
    version = session.get_one(Version, file.version_id)
    existing = session.scalars(sa.select(File).where(File.repo_id == found_repo.id, File.path == signature_path)
                               .with_for_update()).first()
    uploader = principal.username if principal is not None else owner
    if existing is not None:
        if existing.version_id != file.version_id:
            raise Conflict(f"'{signature_path}' already exists in another version")
        if existing.published_at is not None:
            announce_file_deleted(uow, found_repo, package, version, existing)
        asc = existing
        asc.size, asc.sha1, asc.sha256 = incoming.size, incoming.sha1, incoming.sha256
        asc.uploader, asc.created, asc.published_at = uploader, now, None
    else:
        asc = File(repo_id=found_repo.id, package_id=file.package_id, version_id=file.version_id, path=signature_path,
                   name=posixpath.basename(signature_path), size=incoming.size, sha1=incoming.sha1,
                   sha256=incoming.sha256, uploader=uploader, created=now, published_at=None)
        session.add(asc)
    try:
        session.flush()
    except sqlalchemy.exc.IntegrityError:
        raise Conflict(f"'{signature_path}' was stored by a concurrent call; sign again") from None
    file.signature_fingerprint, file.signed_at = fingerprint.upper(), now
    if file.published_at is not None:
        # The signature of a published file is published with it. Nothing else of the version changes (no
        # version or package row is locked or updated), so the signatures of a version's files are stored
        # side by side; the version was released when the file was published.
        asc.published_at = now
        uow.publish(events.FILE_PUBLISHED, {
            **version_event_ref(found_repo, package, version), "path": asc.path, "size": asc.size, "sha1": asc.sha1,
            "sha256": asc.sha256, "download_url": download_url(base_url, found_repo.owner, found_repo.name, asc.path),
            "publisher": uploader, "published": now}, subject=f"{found_repo.owner}/{found_repo.name}/{package.name}/"
                                                            f"{version.name}")
    return {"path": file.path, "signature_path": signature_path, "size": asc.size, "sha256": asc.sha256,
            "published": asc.published_at is not None}


def drop_signature(uow: UnitOfWork, repo: Repo, file: File) -> None:
    """The file is deleted or replaced: its signature no longer holds (announced like any deleted file)."""

    file.signature_fingerprint, file.signed_at = None, None
    session = uow.session
    if file.path.endswith(SUFFIX):  # the signature itself goes: the file it signed is no longer signed
        signed = session.scalars(sa.select(File).where(File.repo_id == repo.id, File.path == file.path[:-len(SUFFIX)],
                                                       File.version_id == file.version_id)).first()
        if signed is not None:
            signed.signature_fingerprint, signed.signed_at = None, None
        return
    asc = session.scalars(sa.select(File).where(File.repo_id == repo.id, File.path == file.path + SUFFIX,
                                                File.version_id == file.version_id)).first()
    if asc is None:
        return
    if asc.published_at is not None:
        announce_file_deleted(uow, repo, session.get_one(Package, asc.package_id),
                              session.get_one(Version, asc.version_id), asc)
    session.delete(asc)


# --- the replica of signing's keys ---------------------------------------------------------------

def record_key(uow: UnitOfWork, data: dict[str, Any], changed_at: datetime, *, cleared: bool) -> None:
    session = uow.session
    row = session.get(GpgKeyReplica, data["subject"])
    if row is not None and row.changed_at > changed_at:
        return  # an older event arriving late
    if row is None:
        row = GpgKeyReplica(subject=data["subject"])
        session.add(row)
    if cleared:
        if row.fingerprint not in (None, data["fingerprint"]):
            return  # a newer key replaced the one cleared
        row.fingerprint, row.has_private_key, row.passphrase_protected = None, False, False
    else:
        row.fingerprint = data["fingerprint"]
        row.has_private_key = data["has_private_key"]
        row.passphrase_protected = data["passphrase_protected"]
    row.changed_at = changed_at


def check_owner_key(session: Session, owner: str, use_owner_key: bool) -> None:
    """``gpg_use_owner_key`` needs a stored private key that signs unattended (no passphrase)."""
    if not use_owner_key:
        return
    key = session.get(GpgKeyReplica, owner)
    if key is None or key.fingerprint is None or not key.has_private_key:
        raise Invalid(f"gpg_use_owner_key needs a GPG key with its private key stored for '{owner}' "
                      "(PUT /me/keys/gpg or /orgs/:org/keys/gpg)")
    if key.passphrase_protected:
        raise Invalid(f"gpg_use_owner_key needs a private key without passphrase: the key of '{owner}' "
                      "is protected by one, so it cannot sign unattended")
