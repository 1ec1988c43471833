"""Identity's tables. Nothing here is shared with another service."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from packyard.db import define_inbox_table, define_outbox_table

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


metadata = Base.metadata
outbox = define_outbox_table(metadata)
inbox = define_inbox_table(metadata)

Timestamp = sa.DateTime(timezone=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(50), nullable=False, unique=True)
    # Lower-cased copies keep "Alice" from registering beside "alice" (impersonation).
    username_key: Mapped[str] = mapped_column(sa.String(50), nullable=False, unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    email_key: Mapped[str] = mapped_column(sa.String(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    full_name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    is_admin: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    # Login tokens carry the generation they were issued under; bumping it (password change,
    # reset) refuses every bearer token issued before, at once.
    token_generation: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    followers_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class ApiKey(Base):
    """The one API key of a user: encrypted (so its owner can show it) and found by a keyed digest."""

    __tablename__ = "api_keys"

    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(sa.Text, nullable=False)
    digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class SubjectRepo(Base):
    """Repositories of a user, as announced by catalog's events (for the Bintray ``repos`` field)."""

    __tablename__ = "subject_repos"

    subject: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    repo: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    private: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)


class SigningKey(Base):
    """Ed25519 keys that sign access and login tokens; the private half encrypted at rest."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    private_key: Mapped[str] = mapped_column(sa.Text, nullable=False)
    public_jwk: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
