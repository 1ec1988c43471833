"""Identity's tables. Nothing here is shared with another service."""

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

ROLES = ("owner", "admin", "member")
LINKED_ACCOUNTS = ("twitter", "github", "google", "bitbucket")
# Personal fields their owner may hide from others. Username, full name and avatar are always
# shown; the email address has its own switch (``show_email``) and is hidden unless shown.
HIDEABLE_FIELDS = ("bio", "company", "location", "website", *LINKED_ACCOUNTS)


def _text(length: int | None = None) -> Mapped[str]:
    """A required text column that is empty rather than NULL when not filled in."""
    return mapped_column(sa.String(length) if length else sa.Text, nullable=False, default="", server_default="")


class SubjectName(Base):
    """The one namespace of users and organizations: a name belongs to one subject, case-insensitively.

    Names of deleted subjects stay here as ``retired``: download paths and package
    coordinates that still point at them must never lead to somebody else's files.
    """

    __tablename__ = "subject_names"

    name_key: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)  # user | org | retired
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


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

    first_name: Mapped[str] = _text(100)
    last_name: Mapped[str] = _text(100)
    bio: Mapped[str] = _text()
    company: Mapped[str] = _text(100)
    location: Mapped[str] = _text(100)
    website: Mapped[str] = _text(500)
    twitter: Mapped[str] = _text(64)
    github: Mapped[str] = _text(64)
    google: Mapped[str] = _text(64)
    bitbucket: Mapped[str] = _text(64)
    # Comma-separated names of the personal fields others may not see (see profiles.HIDEABLE).
    hidden_fields: Mapped[str] = _text(200)
    show_email: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
    release_alerts_email: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True,
                                                       server_default=sa.true())
    news_email: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
    # Grows with every change of the user's preferences or of the teams the user owns: the
    # ``revision`` of those events, so consumers can ignore what arrives late.
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")
    followers_revision: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0, server_default="0")
    # Bytes stored under the user's name, as catalog last announced it (catalog.usage.changed).
    quota_used_bytes: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0, server_default="0")
    usage_revision: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0, server_default="0")


class ApiKey(Base):
    """The one API key of a user: encrypted (so its owner can show it) and found by a keyed digest."""

    __tablename__ = "api_keys"

    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(sa.Text, nullable=False)
    digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class Avatar(Base):
    """An uploaded avatar, already decoded, resized and re-encoded (never the bytes as uploaded)."""

    __tablename__ = "avatars"

    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    image: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    etag: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class PasswordReset(Base):
    """An outstanding password-reset link: only a keyed digest of its token is kept."""

    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class LoginThrottle(Base):
    """Failed password checks per username and per client address, shared by every API replica."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)  # "user:<name>" | "addr:<ip>"
    failures: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    last_failure_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class RevokedLogin(Base):
    """Login tokens logged out before they expire, by their ``jti``; a row is dropped once its token expired."""

    __tablename__ = "revoked_logins"

    jti: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, index=True)


class AuthnEpoch(Base):
    """One row: a number that grows whenever something an access token says may have changed.

    The gateway keeps identity's answers about credentials under the epoch it last heard of
    (:mod:`identity.authn_epoch`); a higher epoch makes every kept answer unreachable at once.
    """

    __tablename__ = "authn_epoch"

    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)


class Org(Base):
    __tablename__ = "orgs"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), nullable=False, unique=True)
    name_key: Mapped[str] = mapped_column(sa.String(50), nullable=False, unique=True)
    full_name: Mapped[str] = _text(200)
    description: Mapped[str] = _text()
    website: Mapped[str] = _text(500)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    # One counter for the organization and everything in it (memberships, teams): each event
    # takes the next value, so revisions keep growing even when a member or team is removed
    # and added again.
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    followers_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    followers_revision: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    quota_used_bytes: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0, server_default="0")
    usage_revision: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0, server_default="0")


class OrgMember(Base):
    __tablename__ = "org_members"
    __table_args__ = (sa.CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),)

    org_id: Mapped[str] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class Team(Base):
    """A team of an organization or of a user (Bintray had both); exactly one owner is set."""

    __tablename__ = "teams"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "name_key"),
        sa.UniqueConstraint("user_id", "name_key"),
        sa.CheckConstraint("(org_id IS NULL) <> (user_id IS NULL)", name="one_owner"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    org_id: Mapped[str | None] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), nullable=True)
    user_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    name: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    name_key: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    allow_repo_creation: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[str] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class SubjectRepo(Base):
    """Repositories of a user or organization, as announced by catalog's events (Bintray ``repos``).

    A deleted repository stays as a tombstone so that an older event arriving late cannot
    bring it back; ``revision`` (when catalog sends one) or ``changed_at`` orders the events.
    """

    __tablename__ = "subject_repos"

    subject: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    repo: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    private: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
    revision: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    changed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class SigningKey(Base):
    """Ed25519 keys that sign access and login tokens; the private half encrypted at rest."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    private_key: Mapped[str] = mapped_column(sa.Text, nullable=False)
    public_jwk: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class TeamPermission(Base):
    """A team's permission on a repository, as announced by catalog (Bintray ``permitted_repos``).

    A removed grant stays with ``permission`` NULL so that an older event arriving late cannot
    bring it back; ``revision`` (per repository and team, from catalog) orders the events.
    """

    __tablename__ = "team_permissions"

    subject: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    repo: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    team: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    permission: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    revision: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
