"""The notifier's tables. Nothing here is shared with another service."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

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
    # IANA name (``Europe/Paris``) for digests; None = UTC.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    # Set when the SMTP server refused ``email`` for good: no mail goes there until the address changes.
    email_bounced_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


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
    link: Mapped[str | None] = mapped_column(sa.String(1000), nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)


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


# -- subscriptions: replicas of social's watches and follows ----------------------------------

class Watch(Base):
    """A user's watch of a package, as social last said (``active`` false once stopped).

    ``revision`` is the version of this one relationship: an event with a revision at most the
    stored one is older news and is ignored, so a late ``watch.started`` cannot resurrect a watch.
    """

    __tablename__ = "watches"
    __table_args__ = (sa.Index("ix_watches_package", "owner", "repo", "package"),)

    username: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    repo: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    package: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    private: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    filter_kind: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="all")
    filter_pattern: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    revision: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)


class Follow(Base):
    """A user's follow of a user or organization, as social last said (``active`` false once stopped)."""

    __tablename__ = "follows"
    __table_args__ = (sa.Index("ix_follows_followee", "followee"),)

    follower: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    followee: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    revision: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)


class OrgAdmin(Base):
    """Owners and admins of organizations (identity's memberships): who hears about an org's packages."""

    __tablename__ = "org_admins"

    org: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    revision: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)


# -- preferences and digests ------------------------------------------------------------------

class Setting(Base):
    """A recipient's choice for one kind of notification (absent: the kind's default)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[str] = mapped_column(sa.ForeignKey("recipients.user_id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    in_app: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    email: Mapped[str] = mapped_column(sa.String(10), nullable=False)  # off|immediate|hourly|daily|weekly


class DigestItem(Base):
    """Something to list in the recipient's next digest email (``digest_id`` set once listed)."""

    __tablename__ = "digest_items"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "kind", "event_id", name="uq_digest_items_user_id_kind_event_id"),
        sa.Index("ix_digest_items_pending", "user_id", postgresql_where=sa.text("digest_id IS NULL"),
                 sqlite_where=sa.text("digest_id IS NULL")),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("recipients.user_id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    mode: Mapped[str] = mapped_column(sa.String(10), nullable=False)  # hourly|daily|weekly
    event_id: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    link: Mapped[str | None] = mapped_column(sa.String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    digest_id: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)


class News(Base):
    """An announcement by a platform admin, mailed to everyone who wants news, a few at a time.

    ``cursor`` is the last user id handled: the news sender resumes after it, and the email's
    uniqueness per (event, address) makes a repeated step harmless.
    """

    __tablename__ = "news"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    posted_by: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    cursor: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    sent: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class SigningKey(Base):
    """A subject's GPG key with an expiry date (signing's events): warned about 30 days before."""

    __tablename__ = "signing_keys"

    subject: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    subject_type: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    warned_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


# -- webhooks, Mastodon and deliveries --------------------------------------------------------

# PostgreSQL channel notified in the transaction that queues a call, so the webhook sender wakes at commit.
DELIVERY_CHANNEL = "notifier_deliveries"


class Webhook(Base):
    """A webhook registered in catalog (one per user and package), with its delivery record."""

    __tablename__ = "webhooks"
    __table_args__ = (sa.UniqueConstraint("owner", "repo", "package", "username",
                                          name="uq_webhooks_owner_repo_package_username"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    repo: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    package: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    username: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    url: Mapped[str] = mapped_column(sa.String(1000), nullable=False)
    method: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    secret_ciphertext: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    consecutive_failures: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    registered_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class ApiKey(Base):
    """A user's API key, sealed (Fernet, ``MAIL_TOKEN_KEY``): it keys ``X-Bintray-Hook-Hmac``."""

    __tablename__ = "api_keys"

    username: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    key_ciphertext: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class MastodonAccount(Base):
    """A user's linked Mastodon account (the access token sealed like every secret here)."""

    __tablename__ = "mastodon_accounts"

    user_id: Mapped[str] = mapped_column(sa.ForeignKey("recipients.user_id", ondelete="CASCADE"), primary_key=True)
    instance_url: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    token_ciphertext: Mapped[str] = mapped_column(sa.Text, nullable=False)
    linked_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class Announcement(Base):
    """A package whose releases are announced on Mastodon by the user who turned it on."""

    __tablename__ = "announcements"

    owner: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    repo: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    package: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("recipients.user_id", ondelete="CASCADE"), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


SUCCEEDED = "succeeded"
WEBHOOK, TEST, MASTODON = "webhook", "test", "mastodon"


class Delivery(Base):
    """One outbound call (a release's webhook, a test call, a Mastodon post) and its last attempt.

    ``message_id`` is the stable delivery id receivers see in ``webhook-id`` (kept by a manual
    redelivery); ``target`` makes a source event call each target once.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "target", name="uq_deliveries_event_id_target"),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
        sa.Index("ix_deliveries_due", "next_attempt_at", postgresql_where=sa.text("status = 'pending'"),
                 sqlite_where=sa.text("status = 'pending'")),
        sa.Index("ix_deliveries_user_created", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    event_id: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    target: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    user_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    username: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    webhook_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    owner: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    repo: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    package: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    version: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    url: Mapped[str] = mapped_column(sa.String(1000), nullable=False)
    method: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    payload: Mapped[str] = mapped_column(sa.Text, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    claim_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    request_headers: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    response_status: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
