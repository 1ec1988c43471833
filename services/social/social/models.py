"""Social's tables. Nothing here is shared with another service.

Three groups:

* replicas of other services' facts social needs (users, organizations, memberships, teams from
  identity; repositories, packages, versions and team permissions from catalog) — enough to know
  what exists and who may read a private package;
* social's own relationships and content: follows, watches, reviews, messages, blocks, comments;
* the activity log, one row per entry per log (a user's or an organization's).
"""

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


# -- replicas ---------------------------------------------------------------------------------

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
    full_name: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    gravatar_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)


class Org(Base):
    """A replica of identity's organizations (``revision`` orders identity's org events)."""

    __tablename__ = "orgs"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(50), nullable=True, unique=True)
    full_name: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    owner_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)


class Membership(Base):
    """Who belongs to which organization, with which role (``role`` null once removed)."""

    __tablename__ = "memberships"

    org_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    org: Mapped[str] = mapped_column(sa.String(50), nullable=False, index=True)
    username: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    role: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class Team(Base):
    """A team of a user or organization and its whole membership (identity's state-carrying events)."""

    __tablename__ = "teams"

    subject: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    subject_type: Mapped[str] = mapped_column(sa.String(4), nullable=False, default="org")
    members: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class Repo(Base):
    """A replica of catalog's repositories: whether each is private (``revision`` orders catalog's events)."""

    __tablename__ = "repos"

    owner: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    private: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class RepoPermission(Base):
    """A team's permission on a repository (``permission`` null once removed: a tombstone)."""

    __tablename__ = "repo_permissions"

    owner: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    repo: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    team: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    permission: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class Package(Base):
    """A replica of catalog's packages (``changed_at``: the time of the last event applied)."""

    __tablename__ = "packages"

    owner: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    repo: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    changed_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class Version(Base):
    """A replica of catalog's versions, so that comments go only to versions that exist."""

    __tablename__ = "versions"

    owner: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    repo: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    package: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    changed_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


# -- counters ---------------------------------------------------------------------------------

class Counter(Base):
    """A counter published on events (followers of a user/org, watchers, reviews of a package).

    ``revision`` is the ``count_revision`` of the events: it grows with every change of the
    counter, whoever caused it, so consumers keep the count of the highest one. ``total`` is
    the sum of ratings for review counters.
    """

    __tablename__ = "counters"

    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    total: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


# -- relationships ----------------------------------------------------------------------------

class Follow(Base):
    """A user following a user or an organization. Stopping keeps the row (inactive) so that the
    relationship's ``revision`` keeps growing across follow / unfollow / follow."""

    __tablename__ = "follows"
    __table_args__ = (
        sa.Index("ix_follows_followee", "followee_id", "active", "created_at"),
        sa.Index("ix_follows_follower", "follower_id", "active", "created_at"),
    )

    follower_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    followee_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    followee_type: Mapped[str] = mapped_column(sa.String(4), nullable=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class Watch(Base):
    """A user watching a package, with a filter on which releases matter (kept inactive once stopped)."""

    __tablename__ = "watches"
    __table_args__ = (
        sa.Index("ix_watches_package", "owner", "repo", "package", "active"),
        sa.Index("ix_watches_user", "user_id", "active", "created_at"),
    )

    user_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    repo: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    package: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    filter_kind: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="all")
    pattern: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class Block(Base):
    """``blocker_id`` refuses messages from ``blocked_id``."""

    __tablename__ = "blocks"

    blocker_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    blocked_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


# -- content ----------------------------------------------------------------------------------

class Review(Base):
    """One user's review of one package. ``user_id`` null: the reviewer deleted their account
    (the text is erased then, the anonymous rating stays in the average, the owner's reply stays)."""

    __tablename__ = "reviews"
    __table_args__ = (
        sa.UniqueConstraint("owner", "repo", "package", "user_id"),
        sa.Index("ix_reviews_package", "owner", "repo", "package", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    repo: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    package: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    user_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)
    rating: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    title: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    body: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    hidden: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    reply: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    reply_by_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class ReviewReport(Base):
    """Somebody reported a review to the platform's administrators."""

    __tablename__ = "review_reports"
    __table_args__ = (sa.UniqueConstraint("review_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    review_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("reviews.id", ondelete="CASCADE"),
                                           nullable=False, index=True)
    reporter_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    reason: Mapped[str] = mapped_column(sa.String(1000), nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    resolved: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)


class Message(Base):
    """A direct message. ``pair`` is the two user ids sorted and joined: the conversation's key.

    ``sender_id`` null: the sender deleted their account (the body is erased then)."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.Index("ix_messages_pair", "pair", "id"),
        sa.Index("ix_messages_new_conversations", "sender_id", "starts_conversation", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pair: Mapped[str] = mapped_column(sa.String(73), nullable=False)
    sender_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    recipient_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    subject: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    body: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    sent_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    starts_conversation: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)


class ConversationState(Base):
    """One side's view of a conversation: read up to, and cleared up to (deleted for this side only)."""

    __tablename__ = "conversation_states"

    user_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    other_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    read_through: Mapped[int] = mapped_column(BigId, nullable=False, default=0)
    cleared_through: Mapped[int] = mapped_column(BigId, nullable=False, default=0)


class Comment(Base):
    """A comment on a version: the Markdown as written and the sanitized HTML made from it."""

    __tablename__ = "comments"
    __table_args__ = (sa.Index("ix_comments_version", "owner", "repo", "package", "version", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    repo: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    package: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    version: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    user_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    html: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


# -- activity ---------------------------------------------------------------------------------

class ActivityEntry(Base):
    """One line of an activity log (``user_id``: whose log — a user's or an organization's id).

    ``package_key`` (``owner/repo/package``) puts the entry in the feed of the package's watchers;
    ``repo_owner``/``repo_name`` with ``private`` let only the repository's readers see it.
    The feed reads ``ix_activity_log`` and ``ix_activity_package`` newest first, per followed log
    and per watched package, with a bounded limit each (see queries.feed).
    """

    __tablename__ = "activity"
    __table_args__ = (
        # A second guard beside the inbox: one event puts one entry of a kind in a log.
        sa.UniqueConstraint("user_id", "type", "event_id", name="uq_activity_user_id_type_event_id"),
        sa.Index("ix_activity_log", "user_id", "created_at", "id"),
        sa.Index("ix_activity_package", "package_key", "created_at", "id"),
        # The feed's first step: the newest entries of the whole log, read from the index alone.
        sa.Index("ix_activity_recent", "created_at", "id", postgresql_include=["user_id", "package_key"]),
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
    package_key: Mapped[str | None] = mapped_column(sa.String(260), nullable=True)
    repo_owner: Mapped[str | None] = mapped_column(sa.String(50), nullable=True)
    repo_name: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    private: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
