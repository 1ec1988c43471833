"""Events catalog publishes on ``catalog.events`` (routing key = type).

Consumers read them with their own tolerant schemas; these schemas validate what is published.
Adding an optional field is compatible; anything else is a new version. Every event names its
repository by ``owner`` and ``repo`` and says whether that repository is ``private`` (a consumer
must not show a private repository's contents to people who cannot read it). ``revision`` grows
with every change of a repository or package, so consumers can ignore an older event arriving
late. Deleting a repository, package or version removes everything below it without an event per
child: consumers of ``*.deleted`` remove what they hold below it too.

Events about a step someone must hear of (an inclusion request, an ownership claim) carry
``recipients``: the usernames to tell, decided by catalog from its replica of organizations, so
that the notifier needs no knowledge of who administers what.

Internal subscribers bind a queue of their own to ``catalog.events`` with the routing key
``catalog.version.released`` (see ``examples/release_subscriber.py``).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from packyard.events import EventType, format_time


class Time(ma.fields.DateTime):
    """A timestamp in Packyard's wire format (``2026-11-25T10:00:00.123Z``)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return format_time(value)


def _text(description: str, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(metadata={"description": description}, **kwargs)


def _flag(description: str) -> ma.fields.Boolean:
    return ma.fields.Boolean(required=True, metadata={"description": description})


class _RepoRef(ma.Schema):
    owner = _text("the user or organization owning the repository", required=True)
    repo = _text("the repository's name", required=True)
    private = _flag("only readers of the repository may see it")


class RepoData(_RepoRef):
    type = _text("maven, debian, conan, rpm, docker, npm, opkg, nuget, vagrant or generic", required=True)
    desc = _text("description", allow_none=True, load_default=None)
    labels = ma.fields.List(ma.fields.String(), load_default=list)
    gpg_sign_files = _flag("sign published files with the platform key")
    gpg_sign_metadata = _flag("sign metadata with the platform key")
    gpg_use_owner_key = _flag("sign with the owner's own key")
    created = Time(required=True)
    updated = Time(required=True)
    revision = ma.fields.Integer(required=True, metadata={"description": "grows with every change of the repository"})


class RepoDeletedData(_RepoRef):
    revision = ma.fields.Integer(required=True)


class _PackageRef(_RepoRef):
    package = _text("the package's name", required=True)


class PackageData(_PackageRef):
    desc = _text("description", allow_none=True, load_default=None)
    labels = ma.fields.List(ma.fields.String(), load_default=list)
    licenses = ma.fields.List(ma.fields.String(), load_default=list)
    vcs_url = _text("source repository", allow_none=True, load_default=None)
    website_url = _text("web site", allow_none=True, load_default=None)
    created = Time(required=True)
    updated = Time(required=True)
    revision = ma.fields.Integer(required=True, metadata={"description": "grows with every change of the package"})


class PackageDeletedData(_PackageRef):
    pass


class _VersionRef(_PackageRef):
    version = _text("the version's name", required=True)


class VersionCreatedData(_VersionRef):
    created = Time(required=True)
    creator = _text("who created it", required=True)


class ReleasedFile(ma.Schema):
    path = _text("path in the repository, no leading slash", required=True)
    size = ma.fields.Integer(required=True, metadata={"description": "bytes"})
    sha1 = _text("hex SHA-1 of the content", required=True)
    sha256 = _text("hex SHA-256 of the content", required=True)
    download_url = _text("public download URL (GET, Range supported)", required=True)


class VersionReleasedData(_VersionRef):
    publisher = _text("who published the first files", required=True)
    released = Time(required=True,
                    metadata={"description": "release time (given by the publisher, else the first publication)"})
    files = ma.fields.List(ma.fields.Nested(ReleasedFile), required=True,
                           metadata={"description": "the files published with the release"})
    release_notes = _text("release notes of the version (markdown, asciidoc or plain text)", allow_none=True,
                          load_default=None)
    gpg_sign_files = _flag("the repository asks for signing with the platform key")
    gpg_use_owner_key = _flag("the repository asks for signing with the owner's key")


class VersionDeletedData(_VersionRef):
    pass


class FilePublishedData(_VersionRef):
    path = _text("path in the repository, no leading slash", required=True)
    size = ma.fields.Integer(required=True)
    sha1 = _text("hex SHA-1", required=True)
    sha256 = _text("hex SHA-256", required=True)
    download_url = _text("public download URL", required=True)
    publisher = _text("who published it", required=True)
    published = Time(required=True)


class FileDeletedData(_VersionRef):
    path = _text("path in the repository", required=True)
    sha256 = _text("hex SHA-256 of the removed content", required=True)


class PermissionSetData(ma.Schema):
    owner = _text("the user or organization owning the repository", required=True)
    repo = _text("the repository's name", required=True)
    team = _text("the team of the repository's owner", required=True)
    permission = _text("read, publish or admin", required=True,
                       validate=ma.validate.OneOf(("read", "publish", "admin")))
    revision = ma.fields.Integer(required=True, metadata={
        "description": "grows with every change of this team's permission on a repository of this name"})


class PermissionRemovedData(ma.Schema):
    owner = _text("the user or organization owning the repository", required=True)
    repo = _text("the repository's name", required=True)
    team = _text("the team that lost its permission", required=True)
    revision = ma.fields.Integer(required=True, metadata={
        "description": "grows with every change of this team's permission on a repository of this name"})


class _LinkData(_PackageRef):
    """``owner``, ``repo``, ``private`` and ``package`` name the linked package where it lives."""

    target_owner = _text("owner of the repository the package is shown in", required=True)
    target_repo = _text("the repository the package is shown in", required=True)
    target_private = _flag("only readers of the target repository may see it")
    actor = _text("who linked or unlinked it", required=True)


class PackageLinkedData(_LinkData):
    path_prefix = _text("only files under this path are included (all when null)", allow_none=True,
                        load_default=None)


class PackageUnlinkedData(_LinkData):
    pass


class PackageOwnershipTransferredData(_PackageRef):
    """``owner`` and ``repo`` say where the package is now."""

    previous_owner = _text("who owned it before", required=True)
    previous_repo = _text("the repository it was in", required=True)
    previous_private = _flag("the repository it was in was private")
    claim_id = ma.fields.Integer(required=True, metadata={"description": "the ownership claim that moved it"})
    revision = ma.fields.Integer(required=True, metadata={"description": "grows with every change of the package"})


def _recipients() -> ma.fields.List:
    return ma.fields.List(ma.fields.String(), required=True,
                          metadata={"description": "usernames of the people to tell about this step"})


class _InclusionData(_PackageRef):
    """``owner``, ``repo``, ``private`` and ``package`` name the package asked to be included."""

    request_id = ma.fields.Integer(required=True)
    target_owner = _text("owner of the aggregate repository", required=True)
    target_repo = _text("the aggregate repository", required=True)
    target_private = _flag("only readers of the aggregate repository may see it")
    requester = _text("who asked", required=True)
    recipients = _recipients()


class InclusionRequestedData(_InclusionData):
    message = _text("the requester's words to the repository's administrators", allow_none=True,
                    load_default=None)


class InclusionDecidedData(_InclusionData):
    by = _text("the administrator who decided", required=True)
    reason = _text("why", allow_none=True, load_default=None)


class _ClaimData(_PackageRef):
    """``owner``, ``repo``, ``private`` and ``package`` name the claimed package where it was when claimed."""

    claim_id = ma.fields.Integer(required=True)
    claimant = _text("who claims the package", required=True)
    recipients = _recipients()


class ClaimFiledData(_ClaimData):
    reason = _text("why the claimant says the package is theirs", required=True)
    target_owner = _text("owner of the repository the package would move to", required=True)
    target_repo = _text("the repository the package would move to", required=True)
    answer_due = Time(required=True, metadata={
        "description": "after this, a platform administrator may decide without the owner's answer"})


class ClaimAnsweredData(_ClaimData):
    by = _text("who answered for the owner, or withdrew the claim", required=True)
    message = _text("their words", allow_none=True, load_default=None)


class ClaimDecidedData(_ClaimData):
    decision = _text("approved (the package moves to the claimant) or rejected", required=True,
                     validate=ma.validate.OneOf(("approved", "rejected")))
    by = _text("the platform administrator who decided", required=True)
    reason = _text("why", allow_none=True, load_default=None)


class ClaimClosedData(_ClaimData):
    reason = _text("why the claim was closed", required=True)
    closed_by_claim = ma.fields.Integer(required=True, metadata={"description": "the claim that moved the package"})
    now_owner = _text("owner of the repository the package is in now", required=True)
    now_repo = _text("the repository the package is in now", required=True)


class WebhookData(_PackageRef):
    username = _text("who registered it (their API key signs the callbacks)", required=True)
    url = _text("the callback URL, %r and %p replaced", required=True)
    method = _text("post, put or get", required=True, validate=ma.validate.OneOf(("post", "put", "get")))
    registered = Time(required=True, metadata={"description": "when it was registered or last replaced"})
    webhook_id = ma.fields.Integer(required=True, metadata={
        "description": "the webhook (the same when its registrant replaces it)"})
    secret_ciphertext = _text("its signing secret (Standard Webhooks, whsec_…), a Fernet token made with "
                              "MAIL_TOKEN_KEY; a new one with every registration", required=True)


class WebhookDeletedData(_PackageRef):
    username = _text("who had registered it", required=True)
    url = _text("the callback URL", required=True)
    webhook_id = ma.fields.Integer(load_default=None, metadata={"description": "the webhook deleted"})


class WebhookTestRequestedData(_VersionRef):
    username = _text("whose webhook (their API key signs the callback)", required=True)
    url = _text("where to call", required=True)
    method = _text("post, put or get", required=True, validate=ma.validate.OneOf(("post", "put", "get")))
    released = Time(allow_none=True, load_default=None, metadata={"description": "the version's release time"})
    release_notes = _text("the version's release notes", allow_none=True, load_default=None)
    requested_by = _text("who asked for the test call", required=True)
    webhook_id = ma.fields.Integer(allow_none=True, load_default=None, metadata={
        "description": "the registered webhook called (its secret signs the call); null for a URL given just for "
                       "the test"})


class VersionDownloads(ma.Schema):
    version = _text("the version's name", required=True)
    count = ma.fields.Integer(required=True)


class DownloadsRolledUpData(_PackageRef):
    day = ma.fields.Date(required=True, metadata={"description": "the day (UTC), e.g. 2026-11-25"})
    downloads = ma.fields.Integer(required=True, metadata={"description": "downloads of the package that day"})
    versions = ma.fields.List(ma.fields.Nested(VersionDownloads), required=True,
                              metadata={"description": "the same, per version (versions deleted since are left out)"})


class UsageChangedData(ma.Schema):
    owner = _text("the user or organization whose stored bytes changed", required=True)
    used_bytes = ma.fields.Integer(required=True, metadata={
        "description": "bytes of every file of the owner's repositories (published or not)"})
    revision = ma.fields.Integer(required=True, metadata={
        "description": "grows with every change of this owner's usage: keep the highest"})


REPO_CREATED = EventType("catalog.repo.created", RepoData, description="A repository was created.")
REPO_UPDATED = EventType("catalog.repo.updated", RepoData,
                         description="A repository's description, labels or signing flags changed.")
REPO_DELETED = EventType("catalog.repo.deleted", RepoDeletedData,
                         description="A repository and everything in it were deleted.")
PACKAGE_CREATED = EventType("catalog.package.created", PackageData, description="A package was created.")
PACKAGE_UPDATED = EventType("catalog.package.updated", PackageData, description="A package's information changed.")
PACKAGE_DELETED = EventType("catalog.package.deleted", PackageDeletedData,
                            description="A package, its versions and files were deleted.")
VERSION_CREATED = EventType("catalog.version.created", VersionCreatedData, description="A version was created.")
VERSION_RELEASED = EventType(
    "catalog.version.released", VersionReleasedData,
    description="The first files of a version were published: the release subscribers act on "
                "(notifications, webhooks, signing, internal consumers).")
VERSION_DELETED = EventType("catalog.version.deleted", VersionDeletedData,
                            description="A version and its files were deleted.")
FILE_PUBLISHED = EventType("catalog.file.published", FilePublishedData,
                           description="A file became downloadable by everyone who can read its repository.")
FILE_DELETED = EventType("catalog.file.deleted", FileDeletedData, description="A published file was deleted.")

PERMISSION_SET = EventType("catalog.permission.set", PermissionSetData,
                           description="A team was given a permission on a repository, or its permission changed.")
PERMISSION_REMOVED = EventType("catalog.permission.removed", PermissionRemovedData,
                               description="A team lost its permission on a repository (also when the repository "
                                           "or the team was deleted).")
PACKAGE_LINKED = EventType("catalog.package.linked", PackageLinkedData,
                           description="A package is shown in another repository; its published files download "
                                       "through that repository too.")
PACKAGE_UNLINKED = EventType("catalog.package.unlinked", PackageUnlinkedData,
                             description="A package is no longer shown in another repository.")
PACKAGE_OWNERSHIP_TRANSFERRED = EventType(
    "catalog.package.ownership_transferred", PackageOwnershipTransferredData,
    description="An ownership claim moved a package, its versions and files to the claimant's repository; its old "
                "URLs redirect to the new ones. Consumers holding the package by name rename it.")
INCLUSION_REQUESTED = EventType("catalog.inclusion.requested", InclusionRequestedData,
                                description="A publisher asked to include their package in an aggregate repository.")
INCLUSION_APPROVED = EventType("catalog.inclusion.approved", InclusionDecidedData,
                               description="An inclusion request was approved: the package is linked.")
INCLUSION_REJECTED = EventType("catalog.inclusion.rejected", InclusionDecidedData,
                               description="An inclusion request was rejected.")
CLAIM_FILED = EventType("catalog.claim.filed", ClaimFiledData,
                        description="A user claimed a package as theirs; its owner is asked to answer.")
CLAIM_CONSENTED = EventType("catalog.claim.consented", ClaimAnsweredData,
                            description="The owner agreed to an ownership claim: the package moved at once.")
CLAIM_OBJECTED = EventType("catalog.claim.objected", ClaimAnsweredData,
                           description="The owner objected to an ownership claim: a platform administrator decides.")
CLAIM_WITHDRAWN = EventType("catalog.claim.withdrawn", ClaimAnsweredData,
                            description="The claimant withdrew an ownership claim.")
CLAIM_DECIDED = EventType("catalog.claim.decided", ClaimDecidedData,
                          description="A platform administrator decided an ownership claim.")
CLAIM_CLOSED = EventType("catalog.claim.closed", ClaimClosedData,
                         description="An open ownership claim was closed because another claim moved the package; "
                                     "its claimant is told.")
WEBHOOK_REGISTERED = EventType("catalog.webhook.registered", WebhookData,
                               description="A user registered (or replaced) their webhook for a package's releases.")
WEBHOOK_DELETED = EventType("catalog.webhook.deleted", WebhookDeletedData, description="A webhook was deleted.")
WEBHOOK_TEST_REQUESTED = EventType(
    "catalog.webhook.test_requested", WebhookTestRequestedData,
    description="A publisher asked for a test call of a webhook for one release; the notifier delivers it.")
USAGE_CHANGED = EventType("catalog.usage.changed", UsageChangedData,
                          description="The bytes an owner stores changed (an upload, a replaced, moved or deleted "
                                      "file, version, package or repository): Bintray's quota_used_bytes.")
DOWNLOADS_ROLLED_UP = EventType("catalog.downloads.rolled_up", DownloadsRolledUpData,
                                description="A package's downloads of one past day (UTC), announced once per "
                                            "package and day.")

ALL = [REPO_CREATED, REPO_UPDATED, REPO_DELETED, PACKAGE_CREATED, PACKAGE_UPDATED, PACKAGE_DELETED,
       VERSION_CREATED, VERSION_RELEASED, VERSION_DELETED, FILE_PUBLISHED, FILE_DELETED,
       PERMISSION_SET, PERMISSION_REMOVED, PACKAGE_LINKED, PACKAGE_UNLINKED, PACKAGE_OWNERSHIP_TRANSFERRED,
       INCLUSION_REQUESTED, INCLUSION_APPROVED, INCLUSION_REJECTED,
       CLAIM_FILED, CLAIM_CONSENTED, CLAIM_OBJECTED, CLAIM_WITHDRAWN, CLAIM_DECIDED, CLAIM_CLOSED,
       WEBHOOK_REGISTERED, WEBHOOK_DELETED, WEBHOOK_TEST_REQUESTED, DOWNLOADS_ROLLED_UP, USAGE_CHANGED]
