"""The notifier's tables. Nothing here is shared with another service."""

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

# PostgreSQL channel notified in the transaction that queues an email, so the sender wakes at commit.
MAIL_CHANNEL = "notifier_mail"


class Recipient(Base):
    """Whom the notifier can reach: a replica of identity's user, address and email preferences.

    A deleted user stays as a tombstone (no name, no address, ``deleted_at`` set) so that an
    event about them arriving late cannot bring them back.
    """

    __tablename__ = "recipients"

    user_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    username: Mapped[str | None] = mapped_column(sa.String(50), nullable=True, unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), nullable=True)
    # When the address applied last was changed (the event's time): an older change never wins.
    email_changed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    show_email: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    release_alerts_email: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    news_email: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    preferences_revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    registered_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class Notification(Base):
    """An in-app notification, shown at ``GET /me/notifications``."""

    __tablename__ = "notifications"
    __table_args__ = (
        # A second guard beside the inbox: one event notifies a user of one thing once.
        sa.UniqueConstraint("user_id", "type", "event_id", name="uq_notifications_user_id_type_event_id"),
        sa.Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("recipients.user_id", ondelete="CASCADE"), nullable=False)
    type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    event_id: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)


PENDING, SENT, FAILED = "pending", "sent", "failed"


class EmailDelivery(Base):
    """One email to send, queued by an event handler and sent by the mail sender.

    Unique per event and address, so an event mails each address once. While a sender holds a
    row, ``claim_id`` names its claim and ``next_attempt_at`` is when the claim lapses (a sender
    that died mid-send gives the row back that way). ``token_ciphertext`` is the only form a
    password-reset token ever takes here; it is cleared once the email is sent or abandoned.
    """

    __tablename__ = "email_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "recipient", name="uq_email_deliveries_event_id_recipient"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        sa.Index("ix_email_deliveries_due", "next_attempt_at",
                 postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'")),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    user_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)
    recipient: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    template: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    context: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    token_ciphertext: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    claim_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
