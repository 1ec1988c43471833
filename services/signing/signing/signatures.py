"""Signing content: Bintray's signing calls, signing on upload, and automatic signing.

The files' bytes come from catalog's internal API as a stream, go through gpg in a throwaway home
and the armored detached signature goes back to catalog as ``<path>.asc``. No database
transaction stays open while bytes flow; the events are committed once catalog has stored every
signature. Nothing secret leaves this module: errors and events carry fingerprints and reasons only.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, BinaryIO

import sqlalchemy as sa

from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import DomainError, Forbidden, Invalid, NotFound
from signing import events, gpg, use_cases
from signing.catalog import CatalogClient, CatalogUnavailable
from signing.models import ORG, GpgKey, Membership, RepoSigning, SigningJob, Subject
from signing.vault import KeyVault

log = logging.getLogger(__name__)

SIGNATURE_SUFFIX = ".asc"


@dataclass(frozen=True)
class SignRequest:
    owner: str
    repo: str
    package: str | None = None
    version: str | None = None
    path: str | None = None
    passphrase: str | None = None
    private_key: str | None = None
    subject: str | None = None
    bearer: str | None = field(default=None, repr=False)  # the caller's access token, forwarded to catalog


@dataclass
class _Key:
    fingerprint: str
    private_key: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)
    platform: bool = False


class _Checked:
    """A stream that counts and hashes what it hands out, to prove gpg saw the whole file."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw, self.size, self._sha256 = raw, 0, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.size += len(data)
        self._sha256.update(data)
        return data

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()


@dataclass
class Signer:
    uow_factory: Callable[[], UnitOfWork]
    vault: KeyVault
    catalog: CatalogClient
    gpg_root: str | None
    gpg_binary: str
    clock: Callable[[], datetime]

    # -- Bintray's signing calls -----------------------------------------------------------------
    def sign_request(self, caller: Principal, request: SignRequest) -> list[str]:
        """Sign a version's files or one file for ``caller``; the paths signed."""
        if request.passphrase is not None and ("\n" in request.passphrase or "\r" in request.passphrase):
            raise Invalid("The passphrase may not contain line breaks")
        if request.path is not None:
            target = self.catalog.file(request.owner, request.repo, request.path, caller.username, request.bearer)
            if target["path"].endswith(SIGNATURE_SUFFIX):
                raise Invalid(f"'{target['path']}' is a signature; sign the file it belongs to")
            files = [target]
        else:
            assert request.package is not None and request.version is not None
            target = self.catalog.version(request.owner, request.repo, request.package, request.version,
                                          caller.username, request.bearer)
            files = [f for f in target["files"] if not f["path"].endswith(SIGNATURE_SUFFIX)]
            if not files:
                raise Invalid(f"Version '{request.version}' has no files to sign")
        key = self._key_for(caller, request)
        signed = self._sign_files(request.owner, request.repo, files, key, actor=caller.username,
                                  bearer=request.bearer)
        with self.uow_factory() as uow:
            self._announce(uow, request.owner, request.repo, target, files, signed, key, signed_by=caller.username,
                           automatic=False, whole_version=request.path is None)
            uow.commit()
        return signed

    def _key_for(self, caller: Principal, request: SignRequest) -> _Key:
        now = self.clock()
        if request.private_key:
            try:
                info = gpg.inspect_private_key(request.private_key, now=now, root=self.gpg_root,
                                               binary=self.gpg_binary)
            except gpg.KeyProblem as exc:
                raise Invalid(str(exc)) from None
            return _Key(info.fingerprint, request.private_key, request.passphrase)
        name = request.subject or request.owner
        with self.uow_factory() as uow:
            session = uow.session
            subject = session.scalars(sa.select(Subject).where(Subject.name == name)).first()
            if subject is None:
                raise NotFound(f"Subject '{name}' was not found")
            if name not in (caller.username, request.owner):
                if subject.kind != ORG or not use_cases.is_org_admin(session, caller, subject):
                    raise Forbidden(f"You may not sign with the GPG key of '{name}'")
            key = session.get(GpgKey, subject.id)
            if key is None:
                raise Invalid(f"'{name}' has no GPG key: store one (PUT /me/keys/gpg or /orgs/:org/keys/gpg) "
                              "or send private_key")
            if key.private_key_ciphertext is None:
                raise Invalid(f"'{name}' stored only a public key: store the private key too, or send private_key")
            if key.expires is not None and key.expires <= now:
                raise Invalid(f"The GPG key of '{name}' has expired")
            if key.passphrase_protected and not request.passphrase:
                raise Invalid(f"The GPG key of '{name}' is protected by a passphrase: send it in the "
                              "X-GPG-PASSPHRASE header or the body's passphrase")
            return _Key(key.fingerprint, self.vault.open(key.private_key_ciphertext), request.passphrase)

    # -- the work --------------------------------------------------------------------------------
    def _sign_files(self, owner: str, repo: str, files: list[dict[str, Any]], key: _Key, *,
                    actor: str | None, bearer: str | None = None) -> list[str]:
        """Sign each file and hand its signature to catalog, a few files at a time (each one is mostly
        waiting on catalog and the disk); the first failure stops the rest and is raised."""
        with gpg.keyring(self.gpg_root, self.gpg_binary) as ring:
            try:
                ring.import_private(key.private_key, key.fingerprint)
            except gpg.KeyProblem as exc:
                raise Invalid(str(exc)) from None
            try:  # a wrong passphrase is found before any byte is fetched
                ring.sign(key.fingerprint, io.BytesIO(b"packyard"), key.passphrase)
            except gpg.KeyProblem as exc:
                raise Invalid(str(exc)) from None
            if len(files) == 1:
                self._sign_one(ring, owner, repo, files[0], key, actor, bearer)
            else:
                with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(files))),
                                        thread_name_prefix="signing") as pool:
                    futures = [pool.submit(self._sign_one, ring, owner, repo, item, key, actor, bearer)
                               for item in files]
                    try:
                        for future in futures:
                            future.result()
                    finally:
                        for future in futures:
                            future.cancel()
        return [item["path"] for item in files]

    def _sign_one(self, ring: gpg.Keyring, owner: str, repo: str, item: dict[str, Any], key: _Key,
                  actor: str | None, bearer: str | None) -> None:
        path = item["path"]
        with self.catalog.content(owner, repo, path) as raw:
            stream = _Checked(raw)
            try:
                signature = ring.sign(key.fingerprint, stream, key.passphrase)  # type: ignore[arg-type]
            except gpg.KeyProblem as exc:
                raise Invalid(str(exc)) from None
        if stream.size != item["size"] or stream.sha256 != item["sha256"]:
            log.warning("content of %s/%s/%s arrived incomplete; not signed", owner, repo, path)
            raise CatalogUnavailable()
        self.catalog.put_signature(owner, repo, path, signature, fingerprint=key.fingerprint, actor=actor,
                                   bearer=bearer)

    def _announce(self, uow: UnitOfWork, owner: str, repo: str, target: dict[str, Any], files: list[dict[str, Any]],
                  signed: list[str], key: _Key, *, signed_by: str | None, automatic: bool,
                  whole_version: bool) -> None:
        now = self.clock()
        common = {"owner": owner, "repo": repo, "package": target["package"], "version": target["version"],
                  "fingerprint": key.fingerprint, "signed_by": signed_by, "platform_key": key.platform,
                  "automatic": automatic, "signed": now}
        subject = f"{owner}/{repo}/{target['package']}/{target['version']}"
        for path in signed:
            uow.publish(events.FILE_SIGNED, {**common, "path": path, "signature_path": path + SIGNATURE_SUFFIX},
                        subject=subject)
        if whole_version:
            uow.publish(events.VERSION_SIGNED, {**common, "private": bool(target.get("private")), "files": signed},
                        subject=subject)

    # -- signing on upload (catalog asks, with the uploader's passphrase) ------------------------
    def sign_uploaded(self, actor: Principal, owner: str, repo: str, path: str, passphrase: str | None,
                      bearer: str | None) -> str:
        signed = self.sign_request(actor, SignRequest(owner=owner, repo=repo, path=path, passphrase=passphrase,
                                                      bearer=bearer))
        return signed[0]

    # -- automatic signing -----------------------------------------------------------------------
    def run_due_jobs(self, limit: int = 10) -> int:
        """Sign the versions waiting for it; the number of jobs finished (done or given up)."""
        finished = 0
        for _ in range(limit):
            with self.uow_factory() as uow:
                job = uow.session.scalars(sa.select(SigningJob).where(SigningJob.next_attempt <= self.clock())
                                          .order_by(SigningJob.next_attempt).limit(1).with_for_update(skip_locked=True)
                                          ).first()
                if job is None:
                    return finished
                self._run_job(uow, job)
                uow.commit()
                finished += 1 if uow.session.get(SigningJob, job.id) is None else 0
        return finished

    def _run_job(self, uow: UnitOfWork, job: SigningJob) -> None:
        target: dict[str, Any] = {}
        try:
            if job.path is not None:
                target = self.catalog.file(job.owner, job.repo, job.path, None)
                files = [target] if target.get("published", True) and not target.get("signature_fingerprint") else []
            else:
                target = self.catalog.version(job.owner, job.repo, job.package, job.version, None)
                files = [f for f in target["files"]
                         if f.get("published", True) and not f["path"].endswith(SIGNATURE_SUFFIX)]
            if not files:
                uow.session.delete(job)
                return
            key = self._automatic_key(uow, job)
            signed = self._sign_files(job.owner, job.repo, files, key, actor=None)
        except CatalogUnavailable:
            job.attempts += 1
            delay = min(300.0, self.retry_delay * 2 ** min(job.attempts - 1, 10))
            job.next_attempt = self.clock() + timedelta(seconds=delay)
            job.last_error = "catalog unavailable"
            return
        except NotFound:
            uow.session.delete(job)  # the file or version is gone: nothing to sign
            return
        except DomainError as exc:
            self._fail(uow, job, exc.message, private=bool(target.get("private")))
            return
        self._announce(uow, job.owner, job.repo, target, files, signed, key, signed_by=None, automatic=True,
                       whole_version=job.path is None)
        uow.session.delete(job)

    retry_delay: float = 5.0
    concurrency: int = 8

    def _automatic_key(self, uow: UnitOfWork, job: SigningJob) -> _Key:
        session = uow.session
        if not job.use_owner_key:
            keys = use_cases.platform_keys(session)
            if not keys:
                raise Invalid("Packyard has no platform key (run python -m signing migrate)")
            return _Key(keys[0].fingerprint, self.vault.open(keys[0].private_key_ciphertext), None, platform=True)
        subject = session.scalars(sa.select(Subject).where(Subject.name == job.owner)).first()
        key = session.get(GpgKey, subject.id) if subject is not None else None
        if key is None or key.private_key_ciphertext is None:
            raise Invalid(f"'{job.owner}' has no stored private GPG key to sign with")
        if key.passphrase_protected:
            raise Invalid(f"The GPG key of '{job.owner}' is protected by a passphrase and cannot sign unattended")
        if key.expires is not None and key.expires <= self.clock():
            raise Invalid(f"The GPG key of '{job.owner}' has expired")
        return _Key(key.fingerprint, self.vault.open(key.private_key_ciphertext), None)

    def _fail(self, uow: UnitOfWork, job: SigningJob, reason: str, *, private: bool) -> None:
        recipients = [job.publisher] if job.publisher else []
        owner = uow.session.scalars(sa.select(Subject).where(Subject.name == job.owner)).first()
        if owner is not None and owner.kind == ORG:
            admins = uow.session.scalars(sa.select(Membership.username).where(
                Membership.org_id == owner.id, Membership.role.in_(("owner", "admin")))).all()
            recipients.extend(a for a in admins if a not in recipients)
        elif job.owner not in recipients:
            recipients.append(job.owner)
        uow.publish(events.VERSION_SIGNING_FAILED, {
            "owner": job.owner, "repo": job.repo, "package": job.package, "version": job.version, "private": private,
            "reason": reason, "recipients": recipients, "automatic": True, "failed": self.clock()},
            subject=f"{job.owner}/{job.repo}/{job.package}/{job.version}")
        uow.session.delete(job)


def record_repo(uow: UnitOfWork, *, owner: str, repo: str, sign_files: bool, use_owner_key: bool, revision: int,
                deleted: bool) -> None:
    row = uow.session.get(RepoSigning, (owner, repo))
    if row is None:
        uow.session.add(RepoSigning(owner=owner, name=repo, gpg_sign_files=sign_files, gpg_use_owner_key=use_owner_key,
                                    revision=revision, deleted=deleted))
    elif revision >= row.revision:
        row.gpg_sign_files, row.gpg_use_owner_key = sign_files, use_owner_key
        row.revision, row.deleted = revision, deleted


def schedule_file(uow: UnitOfWork, *, owner: str, repo: str, package: str, version: str, path: str,
                  publisher: str | None, now: datetime) -> None:
    """Sign one published file when its repository asks for it (a file of the release itself is signed
    with the version; the job then finds it signed and does nothing)."""
    if path.endswith(SIGNATURE_SUFFIX):
        return
    flags = uow.session.get(RepoSigning, (owner, repo))
    if flags is None or flags.deleted or not (flags.gpg_sign_files or flags.gpg_use_owner_key):
        return
    uow.session.add(SigningJob(owner=owner, repo=repo, package=package, version=version, path=path,
                               use_owner_key=flags.gpg_use_owner_key, publisher=publisher, attempts=0,
                               next_attempt=now, created=now))


def schedule(uow: UnitOfWork, *, owner: str, repo: str, package: str, version: str, use_owner_key: bool,
             publisher: str | None, now: datetime) -> None:
    """A released version of a repository that asks for signatures: sign it as soon as possible.

    The release's files were announced just before it (one transaction in catalog): their one-file
    signings are covered by the version's and go."""
    uow.session.execute(sa.delete(SigningJob).where(
        SigningJob.owner == owner, SigningJob.repo == repo, SigningJob.package == package,
        SigningJob.version == version, SigningJob.path.is_not(None), SigningJob.attempts == 0))
    uow.session.add(SigningJob(owner=owner, repo=repo, package=package, version=version, use_owner_key=use_owner_key,
                               publisher=publisher, attempts=0, next_attempt=now, created=now))
