"""Signing's tables. Nothing here is shared with another service."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from packyard.db import NAMING_CONVENTION, define_inbox_table, define_outbox_table


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


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
