"""Catalog's tables. Nothing here is shared with another service."""

from __future__ import annotations

from datetime import date, datetime
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


class Membership(Base):
    """A user's role in an organization, from identity's member events (a tombstone once removed)."""

    __tablename__ = "memberships"

    org_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    org: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    username: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    role: Mapped[str | None] = mapped_column(sa.String(8), nullable=True)  # owner | admin | member; None: removed
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)

    __table_args__ = (sa.Index("ix_memberships_org_user_id", "org", "user_id"),)


class Team(Base):
    """A team of an organization (or of a user), with the usernames of its members, from identity's events."""

    __tablename__ = "teams"

    subject: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    subject_type: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    members: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    allow_repo_creation: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    changed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class Repo(Base):
    __tablename__ = "repos"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    type: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    private: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    desc: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    labels: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    gpg_sign_metadata: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    gpg_sign_files: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    gpg_use_owner_key: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    updated: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    # Grows with every change, so that consumers can order the repo's events.
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    __table_args__ = (sa.UniqueConstraint("owner", "name", name="uq_repos_owner_name"),)


class RepoPermission(Base):
    """A team's permission on a repository of the team's subject (Bintray's repository permissions)."""

    __tablename__ = "repo_permissions"

    repo_id: Mapped[int] = mapped_column(sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True)
    team: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    permission: Mapped[str] = mapped_column(sa.String(8), nullable=False)  # read | publish | admin


class Package(Base):
    __tablename__ = "packages"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    repo_id: Mapped[int] = mapped_column(sa.ForeignKey("repos.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    desc: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    labels: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    licenses: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    custom_licenses: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    vcs_url: Mapped[str | None] = mapped_column(sa.String(1000), nullable=True)
    website_url: Mapped[str | None] = mapped_column(sa.String(1000), nullable=True)
    issue_tracker_url: Mapped[str | None] = mapped_column(sa.String(1000), nullable=True)
    github_repo: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    github_release_notes_file: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    public_download_numbers: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    public_stats: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    maturity: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="")
    attributes: Mapped[list[dict]] = mapped_column(sa.JSON, nullable=False, default=list)
    readme: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    release_notes: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    # Counters carried by social's events. *_count_revision is the highest ``count_revision`` (per
    # package, grows with every change of that counter whoever made it) applied so far: an event
    # replaces the counter only when its count_revision is higher, so two different users' events
    # delivered out of order never make a count go backwards or stall. *_as_of is the time of the
    # event the counter came from. ``rating`` is the average of the visible ratings (0 without any).
    followers_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    followers_as_of: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    followers_count_revision: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    rating_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    rating: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0, server_default="0")
    ratings_as_of: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    ratings_count_revision: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    created: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    updated: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    __table_args__ = (sa.UniqueConstraint("repo_id", "name", name="uq_packages_repo_id_name"),)


class Version(Base):
    __tablename__ = "versions"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[int] = mapped_column(sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    desc: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    labels: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    attributes: Mapped[list[dict]] = mapped_column(sa.JSON, nullable=False, default=list)
    release_notes: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    ordinal: Mapped[float] = mapped_column(sa.Float, nullable=False)
    github_release_notes_file: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    github_use_tag_release_notes: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    vcs_tag: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    created: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    updated: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    released: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    # Set when the first file is published: the version is "published" and competes for latest.
    published_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    rating_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    ratings_as_of: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)

    __table_args__ = (sa.UniqueConstraint("package_id", "name", name="uq_versions_package_id_name"),)


class File(Base):
    """A file of a version, at a path unique in its repository; its bytes are the blob named by sha256."""

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    repo_id: Mapped[int] = mapped_column(sa.ForeignKey("repos.id", ondelete="CASCADE"), nullable=False)
    package_id: Mapped[int] = mapped_column(sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("versions.id", ondelete="CASCADE"), nullable=False)
    path: Mapped[str] = mapped_column(sa.String(1024), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    sha1: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    uploader: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    created: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    # The detached signature <path>.asc stored by signing: which key made it, and when.
    signature_fingerprint: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)

    __table_args__ = (
        sa.UniqueConstraint("repo_id", "path", name="uq_files_repo_id_path"),
        sa.Index("ix_files_version_id", "version_id"),
        sa.Index("ix_files_package_id", "package_id"),
        sa.Index("ix_files_sha1", "sha1"),
        sa.Index("ix_files_sha256", "sha256"),
        sa.Index("ix_files_name", "name"),
        # Download counts are keyed by file id and outlive the file: SQLite must never reuse an id.
        {"sqlite_autoincrement": True},
    )


class DownloadCount(Base):
    """Downloads of one file on one day from one country, written in aggregated batches.

    ``file_id`` has no foreign key on purpose: a deleted file's downloads still count for its
    version and package. Deleting the version or the package removes its counts.
    """

    __tablename__ = "download_counts"

    file_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    country: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("versions.id", ondelete="CASCADE"), nullable=False)
    package_id: Mapped[int] = mapped_column(sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False)
    count: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)

    __table_args__ = (
        sa.Index("ix_download_counts_package_id_day", "package_id", "day"),
        sa.Index("ix_download_counts_version_id_day", "version_id", "day"),
        sa.Index("ix_download_counts_day", "day"),  # the popularity ranking reads recent days of every package
    )


class Link(Base):
    """A package shown in another repository (Bintray's links: how an aggregate repository such as
    JCenter included packages of many owners).

    The package's published files download through the target repository's ``/dl/`` path at their
    own paths; with a ``path_prefix``, only those under it.
    """

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    repo_id: Mapped[int] = mapped_column(sa.ForeignKey("repos.id", ondelete="CASCADE"), nullable=False)
    package_id: Mapped[int] = mapped_column(sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False)
    path_prefix: Mapped[str | None] = mapped_column(sa.String(1024), nullable=True)
    created: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    created_by: Mapped[str] = mapped_column(sa.String(64), nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("repo_id", "package_id", name="uq_links_repo_id_package_id"),
        sa.Index("ix_links_package_id", "package_id"),
    )


class InclusionRequest(Base):
    """A publisher's request to include their package in an aggregate repository ("Add to JCenter")."""

    __tablename__ = "inclusion_requests"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[int] = mapped_column(sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False)
    repo_id: Mapped[int] = mapped_column(sa.ForeignKey("repos.id", ondelete="CASCADE"), nullable=False)
    requester: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    requester_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    path_prefix: Mapped[str | None] = mapped_column(sa.String(1024), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False)  # pending | approved | rejected
    reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)  # given with the decision
    decided_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    created: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)

    __table_args__ = (
        sa.Index("ix_inclusion_requests_repo_id_status", "repo_id", "status"),
        sa.Index("ix_inclusion_requests_requester_id", "requester_id"),
        sa.Index("ix_inclusion_requests_package_id", "package_id"),
        # One open request per package and repository; decided ones stay as history.
        sa.Index("uq_inclusion_requests_pending", "package_id", "repo_id", unique=True,
                 postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'")),
    )


class Claim(Base):
    """A user's claim that a package is theirs ("report incorrect ownership of packages").

    ``owner``, ``repo`` and ``package`` name the package where it was when the claim was filed: the
    owner then is the party who answers, and the names outlive the package should it be deleted.
    """

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[int | None] = mapped_column(sa.ForeignKey("packages.id", ondelete="SET NULL"), nullable=True)
    owner: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    repo: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    package: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    claimant: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    claimant_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    evidence: Mapped[str] = mapped_column(sa.Text, nullable=False)
    target_owner: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    target_repo: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False)  # see use_cases.claims
    filed: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    answer_due: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    updated: Mapped[datetime] = mapped_column(Timestamp, nullable=False)

    __table_args__ = (
        sa.Index("ix_claims_claimant_id", "claimant_id"),
        sa.Index("ix_claims_owner", "owner"),
        sa.Index("ix_claims_status", "status"),
        sa.Index("ix_claims_package_id", "package_id"),
    )


class ClaimStep(Base):
    """One step in the history of a claim: filed, consented, objected, approved, rejected, withdrawn."""

    __tablename__ = "claim_steps"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id", ondelete="CASCADE"), nullable=False)
    action: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    actor: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)

    __table_args__ = (sa.Index("ix_claim_steps_claim_id", "claim_id"),)


class PackageMove(Base):
    """Where a package used to be, so that its old download and API URLs redirect to where it is now."""

    __tablename__ = "package_moves"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[int] = mapped_column(sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False)
    from_owner: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    from_repo: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    package: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    moved_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)

    __table_args__ = (
        sa.Index("ix_package_moves_from_owner_from_repo", "from_owner", "from_repo"),
        sa.Index("ix_package_moves_package_id", "package_id"),
    )


class Webhook(Base):
    """A user's callback for new releases of a package (Bintray's webhooks; the notifier delivers them).

    ``failure_count`` comes from the notifier's delivery events; ``failures_as_of`` is the time of
    the event it came from, so that an older event arriving late changes nothing.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[int] = mapped_column(sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False)
    username: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    user_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    url: Mapped[str] = mapped_column(sa.String(1000), nullable=False)
    method: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    failure_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    failures_as_of: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    created: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    updated: Mapped[datetime] = mapped_column(Timestamp, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("package_id", "username", name="uq_webhooks_package_id_username"),
        sa.Index("ix_webhooks_username", "username"),
    )


class DownloadRollup(Base):
    """A package's downloads of one day, announced once to other services (``catalog.downloads.rolled_up``)."""

    __tablename__ = "download_rollups"

    package_id: Mapped[int] = mapped_column(sa.ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    downloads: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    rolled_up_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class DownloadLogPosition(Base):
    """How far the gateway's download log file ``name`` has been counted.

    Written in the same transaction as the counts of the lines read, so each line counts once
    whatever crashes or how many workers read the directory; ``inode`` tells a file replaced under
    the same name from the one read before.
    """

    __tablename__ = "download_log_positions"

    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    inode: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    position: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class Revision(Base):
    """Revision counters of things that outlive their rows, e.g. a team's permission on a repository
    (identity keeps its own copy by name: a grant removed and given again must carry a higher revision)."""

    __tablename__ = "revisions"

    scope: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(400), primary_key=True)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False)


class GpgKeyReplica(Base):
    """Whether a subject has a GPG key signing can use unattended, from signing's key events
    (``gpg_use_owner_key`` is refused otherwise). ``changed_at`` orders the events."""

    __tablename__ = "gpg_keys"

    subject: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    fingerprint: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)  # None: cleared
    has_private_key: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    passphrase_protected: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    changed_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class OwnerUsage(Base):
    """The bytes an owner's files take (every version, published or not), announced with each change
    (``catalog.usage.changed``); its row is locked while an upload is checked against the quota, so that
    concurrent uploads of one owner cannot both squeeze under it."""

    __tablename__ = "owner_usage"

    owner: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    used_bytes: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    revision: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class UploadWindow(Base):
    """Uploads a user started in one window of ``UPLOAD_RATE_WINDOW`` seconds (the upload rate limit)."""

    __tablename__ = "upload_windows"

    user_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)
    uploads: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    __table_args__ = (sa.Index("ix_upload_windows_window_start", "window_start"),)
