"""Signing's behaviour: plain functions over a unit of work.

No Flask, no pika, no environment here. The subject replica follows identity's events, which can
arrive late or twice: every function leaves the same state however often and in whatever order
it is called.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from packyard.auth import Principal
from packyard.db import UnitOfWork, release_name
from packyard.errors import Forbidden, Invalid, NotFound
from signing import events, gpg
from signing.models import ORG, USER, GpgKey, Membership, PlatformKey, Subject
from signing.vault import KeyVault


def record_subject(uow: UnitOfWork, *, subject_id: str, name: str, kind: str, revision: int = 0) -> None:
    """Add or refresh a user or organization, unless we already know a newer state of it."""
    session = uow.session
    subject = session.get(Subject, subject_id)
    if subject is not None and (subject.deleted_at is not None or subject.revision > revision):
        return
    release_name(session, Subject.name, name, Subject.id, subject_id)
    if subject is None:
        session.add(Subject(id=subject_id, name=name, kind=kind, revision=revision))
    else:
        subject.name, subject.kind, subject.revision = name, kind, revision


def forget_subject(uow: UnitOfWork, *, subject_id: str, kind: str, revision: int = 0, now: datetime) -> None:
    """A deleted user or organization: keep only a tombstone of its id."""
    session = uow.session
    subject = session.get(Subject, subject_id)
    if subject is None:
        session.add(Subject(id=subject_id, name=None, kind=kind, revision=revision, deleted_at=now))
        return
    forget_key(uow, subject_id)
    subject.name = None
    subject.revision = max(subject.revision, revision)
    subject.deleted_at = subject.deleted_at or now


# --- who may act for a subject -----------------------------------------------------------------

def subject_named(session: Session, name: str, kind: str | None = None) -> Subject:
    subject = session.scalars(sa.select(Subject).where(Subject.name == name)).first()
    if subject is None or (kind is not None and subject.kind != kind):
        raise NotFound(f"{'Organization' if kind == ORG else 'Subject'} '{name}' was not found")
    return subject


def caller_subject(uow: UnitOfWork, caller: Principal) -> Subject:
    """The caller's own user, recorded from the token when identity's event has not arrived yet."""
    session = uow.session
    subject = session.get(Subject, caller.user_id) if caller.user_id else None
    if subject is None:
        subject = session.scalars(sa.select(Subject).where(Subject.name == caller.username)).first()
    if subject is None and caller.user_id:
        record_subject(uow, subject_id=caller.user_id, name=caller.username, kind=USER)
        session.flush()
        subject = session.get(Subject, caller.user_id)
    if subject is None or subject.deleted_at is not None or subject.kind != USER:
        raise NotFound(f"User '{caller.username}' was not found")
    return subject


def is_org_admin(session: Session, caller: Principal, org: Subject) -> bool:
    """An owner or admin of ``org``: the token's own claim first (read your own writes), else the replica."""
    claims = caller.orgs
    if claims is not None and org.name is not None and org.name in claims:
        return claims[org.name] in ("owner", "admin")
    membership = session.get(Membership, (org.id, caller.username))
    return membership is not None and membership.role in ("owner", "admin")


def org_for_admin(session: Session, caller: Principal, name: str) -> Subject:
    org = subject_named(session, name, ORG)
    if not is_org_admin(session, caller, org):
        raise Forbidden(f"Only the owners and admins of '{name}' may manage its GPG key")
    return org


def record_membership(uow: UnitOfWork, *, org_id: str, username: str, role: str | None, revision: int) -> None:
    membership = uow.session.get(Membership, (org_id, username))
    if membership is None:
        uow.session.add(Membership(org_id=org_id, username=username, role=role, revision=revision))
    elif revision >= membership.revision:
        membership.role, membership.revision = role, revision


# --- keys --------------------------------------------------------------------------------------

def _key_event(subject: Subject, key: GpgKey) -> dict[str, Any]:
    return {"subject": subject.name, "subject_type": subject.kind, "fingerprint": key.fingerprint,
            "key_id": key.key_id, "has_private_key": key.private_key_ciphertext is not None,
            "passphrase_protected": key.passphrase_protected, "created": key.created, "expires": key.expires}


def store_key(uow: UnitOfWork, vault: KeyVault, subject: Subject, public_key: str, private_key: str | None, *,
              gpg_root: str | None, gpg_binary: str, now: datetime) -> GpgKey:
    """Validate and store a subject's key (pair), replacing any earlier one."""
    try:
        info, public = gpg.inspect_key(public_key, private_key, now=now, root=gpg_root, binary=gpg_binary)
    except gpg.KeyProblem as exc:
        raise Invalid(str(exc)) from None
    key = uow.session.get(GpgKey, subject.id)
    if key is None:
        key = GpgKey(subject_id=subject.id)
        uow.session.add(key)
    key.fingerprint, key.key_id, key.user_ids, key.algorithm = (info.fingerprint, info.key_id, info.user_ids,
                                                                info.algorithm)
    key.created, key.expires, key.public_key = info.created, info.expires, public
    key.private_key_ciphertext = vault.seal(private_key) if private_key else None
    key.passphrase_protected = info.passphrase_protected
    key.uploaded = now
    uow.session.flush()
    uow.publish(events.KEY_UPLOADED, _key_event(subject, key), subject=subject.name)
    return key


def clear_key(uow: UnitOfWork, subject: Subject, confirmation: str | None) -> None:
    key = uow.session.get(GpgKey, subject.id)
    if key is None:
        raise NotFound(f"'{subject.name}' has no GPG key")
    given = (confirmation or "").replace(" ", "").upper()
    if given not in (key.fingerprint.upper(), key.key_id.upper()):
        raise Invalid(f"To clear the GPG key, confirm with its fingerprint: send {{\"fingerprint\": "
                      f"\"{key.fingerprint}\"}}")
    uow.session.delete(key)
    uow.publish(events.KEY_CLEARED, {"subject": subject.name, "subject_type": subject.kind,
                                     "fingerprint": key.fingerprint}, subject=subject.name)


def key_of(session: Session, subject: Subject) -> GpgKey:
    key = session.get(GpgKey, subject.id)
    if key is None:
        raise NotFound(f"'{subject.name}' has no GPG key")
    return key


def forget_key(uow: UnitOfWork, subject_id: str) -> None:
    """A deleted subject's key goes with it (announced, so catalog stops relying on it)."""
    key = uow.session.get(GpgKey, subject_id)
    subject = uow.session.get(Subject, subject_id)
    if key is None or subject is None:
        return
    uow.session.delete(key)
    uow.publish(events.KEY_CLEARED, {"subject": subject.name or "", "subject_type": subject.kind,
                                     "fingerprint": key.fingerprint}, subject=subject.name)


# --- the platform key --------------------------------------------------------------------------

def platform_keys(session: Session) -> list[PlatformKey]:
    return list(session.scalars(sa.select(PlatformKey).where(PlatformKey.retired.is_(None))
                                .order_by(PlatformKey.created.desc(), PlatformKey.id.desc())).all())


def add_platform_key(uow: UnitOfWork, vault: KeyVault, *, private_key: str | None, name: str, email: str,
                     gpg_root: str | None, gpg_binary: str, now: datetime) -> PlatformKey:
    """Import ``private_key`` (unprotected) or generate a new key; it becomes the newest, the one that signs."""
    if private_key:
        try:
            info = gpg.inspect_private_key(private_key, now=now, root=gpg_root, binary=gpg_binary)
            with gpg.keyring(gpg_root, gpg_binary) as ring:
                ring.import_private(private_key, info.fingerprint)
                if ring.protected(info.fingerprint):
                    raise gpg.KeyProblem("The platform key must not be protected by a passphrase")
                public = ring.export_public(info.fingerprint)
        except gpg.KeyProblem as exc:
            raise Invalid(f"PLATFORM_GPG_KEY: {exc}") from None
        source, secret = "imported", private_key
    else:
        info, public, secret = gpg.generate_key(name, email, root=gpg_root, binary=gpg_binary)
        source = "generated"
    existing = uow.session.scalars(sa.select(PlatformKey).where(PlatformKey.fingerprint == info.fingerprint)).first()
    if existing is not None:
        return existing
    key = PlatformKey(fingerprint=info.fingerprint, public_key=public, private_key_ciphertext=vault.seal(secret),
                      source=source, created=now)
    uow.session.add(key)
    uow.session.flush()
    return key


def ensure_platform_key(uow: UnitOfWork, vault: KeyVault, *, configured: str | None, name: str, email: str,
                        gpg_root: str | None, gpg_binary: str, now: datetime) -> PlatformKey:
    """At migration: import the configured key when it is new, else generate one when there is none."""
    if configured:
        return add_platform_key(uow, vault, private_key=configured, name=name, email=email, gpg_root=gpg_root,
                                gpg_binary=gpg_binary, now=now)
    keys = platform_keys(uow.session)
    if keys:
        return keys[0]
    return add_platform_key(uow, vault, private_key=None, name=name, email=email, gpg_root=gpg_root,
                            gpg_binary=gpg_binary, now=now)


def retire_platform_key(uow: UnitOfWork, fingerprint: str, now: datetime) -> None:
    key = uow.session.scalars(sa.select(PlatformKey).where(PlatformKey.fingerprint == fingerprint.upper())).first()
    if key is None:
        raise NotFound(f"No platform key {fingerprint}")
    if len(platform_keys(uow.session)) == 1 and key.retired is None:
        raise Invalid("The last platform key cannot be retired: add a new one first")
    key.retired = key.retired or now
