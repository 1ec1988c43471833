"""Catalog's tables. Nothing here is shared with another service."""

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


class Subject(Base):
    """A user or an organization that may own repositories: catalog's replica of identity's subjects.

    A deleted subject stays as a tombstone (``deleted``) so that an older event arriving late
    cannot bring it back; ``revision`` and ``changed_at`` order the events of organizations.
    """

    __tablename__ = "subjects"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8), nullable=False)  # "user" | "org"
    identity_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)  # user_id or org_id
    full_name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    owner_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)  # an organization's owner
    registered: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    changed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)

    __table_args__ = (sa.Index("ix_subjects_identity_id", "identity_id"),)
