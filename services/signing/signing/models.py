"""Signing's tables. Nothing here is shared with another service."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from packyard.db import NAMING_CONVENTION, define_inbox_table, define_outbox_table


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:  # every model maps one Table (SQLAlchemy types __table__ as any FromClause)
        __table__: ClassVar[sa.Table]


metadata = Base.metadata
outbox = define_outbox_table(metadata)
inbox = define_inbox_table(metadata)

Timestamp = sa.DateTime(timezone=True)

USER = "user"
ORG = "org"


class Subject(Base):
    """A replica of identity's users and organizations — the owners of GPG keys.

    Users and organizations share one namespace of names, as on Bintray. A deleted subject
    stays as a tombstone (no name, ``deleted_at`` set) so that a late event about it cannot
    bring it back; ``revision`` orders an organization's events.
    """

    __tablename__ = "subjects"
    __table_args__ = (sa.CheckConstraint("kind IN ('user', 'org')", name="kind"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(50), nullable=True, unique=True)
    kind: Mapped[str] = mapped_column(sa.String(4), nullable=False)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class GpgKey(Base):
    """A subject's GPG key: the public key, and optionally its private key, encrypted at rest.

    One key per subject, as on Bintray; uploading another replaces it. The private key's
    passphrase is never stored: ``passphrase_protected`` only says whether signing needs one.
    """

    __tablename__ = "gpg_keys"

    subject_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("subjects.id", ondelete="CASCADE"),
                                            primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    key_id: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    user_ids: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    algorithm: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    created: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    expires: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    public_key: Mapped[str] = mapped_column(sa.Text, nullable=False)
    private_key_ciphertext: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    passphrase_protected: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    uploaded: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class PlatformKey(Base):
    """Packyard's own signing keys (repositories with ``gpg_sign_files``); the newest signs.

    Several live side by side while rotating, so signatures made with an older one still verify
    against the published public keys.
    """

    __tablename__ = "platform_keys"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    public_key: Mapped[str] = mapped_column(sa.Text, nullable=False)
    private_key_ciphertext: Mapped[str] = mapped_column(sa.Text, nullable=False)
    source: Mapped[str] = mapped_column(sa.String(16), nullable=False)  # generated | imported
    created: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    retired: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class Membership(Base):
    """A user's role in an organization, from identity's member events (None once removed)."""

    __tablename__ = "memberships"

    org_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    role: Mapped[str | None] = mapped_column(sa.String(8), nullable=True)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class SigningJob(Base):
    """A released version waiting for its automatic signature (catalog may be away; we retry)."""

    __tablename__ = "signing_jobs"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    repo: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    package: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    version: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    path: Mapped[str | None] = mapped_column(sa.String(1024), nullable=True)  # one file; None: the whole version
    use_owner_key: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    publisher: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    next_attempt: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created: Mapped[datetime] = mapped_column(Timestamp, nullable=False)

    __table_args__ = (sa.Index("ix_signing_jobs_next_attempt", "next_attempt"),)


class RepoSigning(Base):
    """Which repositories ask for automatic signing, from catalog's repository events (``revision`` orders
    them), so that a file published into an already released version is signed too."""

    __tablename__ = "repos"

    owner: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    gpg_sign_files: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    gpg_use_owner_key: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
