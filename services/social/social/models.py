"""Social's tables. Nothing here is shared with another service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from packyard.db import NAMING_CONVENTION, define_inbox_table, define_outbox_table


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


metadata = Base.metadata
outbox = define_outbox_table(metadata)
inbox = define_inbox_table(metadata)

Timestamp = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class User(Base):
    """A replica of identity's users, keyed by identity's user id.

    A deleted user stays as a tombstone (no username, ``deleted_at`` set) so that an event
    about them arriving late — a retried registration — cannot bring them back.
    """

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    username: Mapped[str | None] = mapped_column(sa.String(50), nullable=True, unique=True)
    registered_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class ActivityEntry(Base):
    """One line of a user's activity log (``user_id`` is whose log it is in)."""

    __tablename__ = "activity"
    __table_args__ = (
        # A second guard beside the inbox: one event puts one entry of a kind in a log.
        sa.UniqueConstraint("user_id", "type", "event_id", name="uq_activity_user_id_type_event_id"),
        sa.Index("ix_activity_log", "user_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    # The actor's id and name as of the event; both are cleared when the actor's account is deleted.
    actor_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)
    actor: Mapped[str | None] = mapped_column(sa.String(50), nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    event_id: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
