"""Request and response schemas of catalog's HTTP API (marshmallow, documented in OpenAPI).

Request schemas exclude unknown fields: Bintray clients send fields Packyard does not use
(``business_unit``, ``version_update_max_days``, …). Response schemas document the Bintray JSON
shapes; the views build those dicts in the exact key order real clients saw.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from catalog.use_cases.names import REPO_TYPES
from packyard.paging import PageArgs

_LABEL = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
_LABELS: dict[str, Any] = {"validate": ma.validate.Length(max=50)}


def _text(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(max=max_length), **kwargs)


class _Tolerant(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


# --- requests -----------------------------------------------------------------------------------

class RepoCreateSchema(_Tolerant):
    name = ma.fields.String(metadata={"description": "must match the URL when given"})
    type = ma.fields.String(load_default="generic", validate=ma.validate.OneOf(REPO_TYPES))
    private = ma.fields.Boolean(load_default=False)
    desc = _text(4000, load_default=None, allow_none=True)
    labels = ma.fields.List(_LABEL, load_default=list, allow_none=True, **_LABELS)
    gpg_sign_metadata = ma.fields.Boolean(load_default=False)
    gpg_sign_files = ma.fields.Boolean(load_default=False)
    gpg_use_owner_key = ma.fields.Boolean(load_default=False)


class RepoUpdateSchema(_Tolerant):
    desc = _text(4000, allow_none=True)
    labels = ma.fields.List(_LABEL, allow_none=True, **_LABELS)
    gpg_sign_metadata = ma.fields.Boolean()
    gpg_sign_files = ma.fields.Boolean()
    gpg_use_owner_key = ma.fields.Boolean()


class PermissionSchema(_Tolerant):
    team = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    permission = ma.fields.String(required=True, validate=ma.validate.OneOf(("read", "publish", "admin")))


_PACKAGE_FIELDS = {
    "desc": lambda **kw: _text(4000, allow_none=True, **kw),
    "labels": lambda **kw: ma.fields.List(_LABEL, allow_none=True, **_LABELS, **kw),
    "licenses": lambda **kw: ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
                                            allow_none=True, validate=ma.validate.Length(max=20), **kw),
    "custom_licenses": lambda **kw: ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
                                                   allow_none=True, validate=ma.validate.Length(max=20), **kw),
    "vcs_url": lambda **kw: _text(1000, allow_none=True, **kw),
    "website_url": lambda **kw: _text(1000, allow_none=True, **kw),
    "issue_tracker_url": lambda **kw: _text(1000, allow_none=True, **kw),
    "github_repo": lambda **kw: _text(200, allow_none=True, **kw),
    "github_release_notes_file": lambda **kw: _text(500, allow_none=True, **kw),
    "public_download_numbers": lambda **kw: ma.fields.Boolean(allow_none=True, **kw),
    "public_stats": lambda **kw: ma.fields.Boolean(allow_none=True, **kw),
    "maturity": lambda **kw: _text(16, allow_none=True, **kw),
}


class PackageCreateSchema(_Tolerant):
    name = ma.fields.String(required=True)
    desc = _PACKAGE_FIELDS["desc"](load_default=None)
    labels = _PACKAGE_FIELDS["labels"](load_default=list)
    licenses = _PACKAGE_FIELDS["licenses"](load_default=list)
    custom_licenses = _PACKAGE_FIELDS["custom_licenses"](load_default=list)
    vcs_url = _PACKAGE_FIELDS["vcs_url"](load_default=None)
    website_url = _PACKAGE_FIELDS["website_url"](load_default=None)
    issue_tracker_url = _PACKAGE_FIELDS["issue_tracker_url"](load_default=None)
    github_repo = _PACKAGE_FIELDS["github_repo"](load_default=None)
    github_release_notes_file = _PACKAGE_FIELDS["github_release_notes_file"](load_default=None)
    public_download_numbers = _PACKAGE_FIELDS["public_download_numbers"](load_default=False)
    public_stats = _PACKAGE_FIELDS["public_stats"](load_default=False)
    maturity = _PACKAGE_FIELDS["maturity"](load_default="")


class PackageUpdateSchema(_Tolerant):
    desc = _PACKAGE_FIELDS["desc"]()
    labels = _PACKAGE_FIELDS["labels"]()
    licenses = _PACKAGE_FIELDS["licenses"]()
    custom_licenses = _PACKAGE_FIELDS["custom_licenses"]()
    vcs_url = _PACKAGE_FIELDS["vcs_url"]()
    website_url = _PACKAGE_FIELDS["website_url"]()
    issue_tracker_url = _PACKAGE_FIELDS["issue_tracker_url"]()
    github_repo = _PACKAGE_FIELDS["github_repo"]()
    github_release_notes_file = _PACKAGE_FIELDS["github_release_notes_file"]()
    public_download_numbers = _PACKAGE_FIELDS["public_download_numbers"]()
    public_stats = _PACKAGE_FIELDS["public_stats"]()
    maturity = _PACKAGE_FIELDS["maturity"]()


class VersionCreateSchema(_Tolerant):
    name = ma.fields.String(required=True)
    desc = _text(4000, load_default=None, allow_none=True)
    labels = ma.fields.List(_LABEL, load_default=list, allow_none=True, **_LABELS)
    released = ma.fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC,
                                       metadata={"description": "ISO 8601"})
    github_release_notes_file = _text(500, load_default=None, allow_none=True)
    github_use_tag_release_notes = ma.fields.Boolean(load_default=False, allow_none=True)
    vcs_tag = _text(200, load_default=None, allow_none=True)


class VersionUpdateSchema(_Tolerant):
    desc = _text(4000, allow_none=True)
    labels = ma.fields.List(_LABEL, allow_none=True, **_LABELS)
    released = ma.fields.AwareDateTime(allow_none=True, default_timezone=UTC,
                                       metadata={"description": "ISO 8601"})
    github_release_notes_file = _text(500, allow_none=True)
    github_use_tag_release_notes = ma.fields.Boolean(allow_none=True)
    vcs_tag = _text(200, allow_none=True)


class AttributeSchema(_Tolerant):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256))
    values = ma.fields.List(ma.fields.Raw(allow_none=True), allow_none=True, load_default=list,
                            validate=ma.validate.Length(max=100))
    type = ma.fields.String(allow_none=True, load_default=None,
                            validate=ma.validate.OneOf(("string", "date", "number", "boolean", "version")))


class AttributeNamesQuery(_Tolerant):
    names = ma.fields.String(load_default=None, metadata={"description": "comma-separated attribute names"})


class _BintrayText(_Tolerant):
    syntax = ma.fields.String(load_default="markdown", allow_none=True,
                              validate=ma.validate.OneOf(("markdown", "asciidoc", "plain_text")))
    content = ma.fields.String(required=True, validate=ma.validate.Length(max=200_000))


class _GithubSource(_Tolerant):
    github_repo = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))
    github_release_notes_file = ma.fields.String(load_default=None, allow_none=True,
                                                 validate=ma.validate.Length(max=500))


class DocumentSchema(_Tolerant):
    """A readme or release notes: written on Packyard (``bintray``) or taken from GitHub (``github``)."""

    bintray = ma.fields.Nested(_BintrayText, load_default=None, allow_none=True)
    github = ma.fields.Nested(_GithubSource, load_default=None, allow_none=True)


class PublishSchema(_Tolerant):
    discard = ma.fields.Boolean(load_default=False, allow_none=True)
    publish_wait_for_secs = ma.fields.Integer(load_default=None, allow_none=True,
                                              metadata={"description": "accepted; publishing is immediate"})


class UploadQuery(_Tolerant):
    publish = ma.fields.Boolean(load_default=None)
    override = ma.fields.Boolean(load_default=None)
    explode = ma.fields.Boolean(load_default=False)


class StartQuery(PageArgs):
    """``?start_pos=N`` of Bintray's paginated lists."""


class PackagesQuery(StartQuery):
    start_name = ma.fields.String(load_default=None, validate=ma.validate.Length(max=128))


class AttributeValuesQuery(_Tolerant):
    attribute_values = ma.fields.Boolean(load_default=False)


class FilesQuery(_Tolerant):
    include_unpublished = ma.fields.Boolean(load_default=False)


class SearchReposQuery(StartQuery):
    name = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    desc = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))


class SearchPackagesQuery(StartQuery):
    name = ma.fields.String(load_default=None, validate=ma.validate.Length(max=128))
    desc = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    subject = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    repo = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))


class SearchFileQuery(StartQuery):
    name = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=255),
                            metadata={"description": "file name; wildcards * and ?"})
    sha1 = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"[0-9a-fA-F]{40}\Z"))
    subject = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    repo = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    created_after = ma.fields.DateTime(load_default=None, metadata={"description": "ISO 8601"})


class Moment(ma.fields.Field):
    """An ISO 8601 date or time as Bintray clients send it (``2016-12-22T01:05:37.451Z``, ``…+0000``,
    ``2016-12-22``); UTC when it names no zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise ma.ValidationError("Not an ISO 8601 date or time.")
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ma.ValidationError("Not an ISO 8601 date or time.") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else value.isoformat()


class LinkSchema(_Tolerant):
    path_prefix = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=1024),
                                   metadata={"description": "only files under this directory are included"})


_REPO_REF: dict[str, Any] = {"validate": ma.validate.Length(min=3, max=129),
                             "metadata": {"description": "<subject>/<repository>"}}


class InclusionRequestSchema(_Tolerant):
    target = ma.fields.String(required=True, **_REPO_REF)
    message = _text(4000, load_default=None, allow_none=True)
    path_prefix = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=1024),
                                   metadata={"description": "include only files under this directory"})


class ReasonSchema(_Tolerant):
    reason = _text(4000, load_default=None, allow_none=True)


class InclusionListQuery(StartQuery):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(("pending", "approved", "rejected")))


class ClaimCreateSchema(_Tolerant):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4000))
    evidence = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20000),
                                metadata={"description": "links, commits, anything showing the package is yours"})
    target = ma.fields.String(required=True, **_REPO_REF)


class ClaimAnswerSchema(_Tolerant):
    message = _text(4000, load_default=None, allow_none=True)


class ClaimDecisionSchema(_Tolerant):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(("approve", "reject")))
    reason = _text(4000, load_default=None, allow_none=True)


class ClaimListQuery(StartQuery):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(
        ("pending", "disputed", "approved", "rejected", "withdrawn", "closed")))


class WebhookSchema(_Tolerant):
    url = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000),
                           metadata={"description": "callback URL; %r and %p stand for the repository and package"})
    method = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=8),
                              metadata={"description": "post (default), put or get"})


class WebhookTestSchema(_Tolerant):
    url = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=2000),
                           metadata={"description": "call this URL instead of the registered one"})
    method = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=8))


class StatsRangeSchema(_Tolerant):
    start = Moment(data_key="from", load_default=None, allow_none=True,
                   metadata={"description": "ISO 8601; default 30 days before 'to'"})
    end = Moment(data_key="to", load_default=None, allow_none=True, metadata={"description": "ISO 8601; default now"})


class PopularQuery(_Tolerant):
    days = ma.fields.Integer(load_default=7, validate=ma.validate.Range(min=1, max=365))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


# --- responses (documentation of the Bintray shapes) ---------------------------------------------

class MessageSchema(ma.Schema):
    message = ma.fields.String()


class UploadedSchema(MessageSchema):
    signed = ma.fields.Boolean(metadata={"description": "with X-GPG-PASSPHRASE: whether the file was signed"})
    signing_error = ma.fields.String(metadata={"description": "with X-GPG-PASSPHRASE: why it was not signed"})


class RepoRefSchema(ma.Schema):
    name = ma.fields.String()
    owner = ma.fields.String()


class RepoSchema(ma.Schema):
    name = ma.fields.String()
    owner = ma.fields.String()
    type = ma.fields.String()
    private = ma.fields.Boolean()
    premium = ma.fields.Boolean()
    desc = ma.fields.String(allow_none=True)
    labels = ma.fields.List(ma.fields.String())
    created = ma.fields.String()
    package_count = ma.fields.Integer()
    gpg_sign_metadata = ma.fields.Boolean()
    gpg_sign_files = ma.fields.Boolean()
    gpg_use_owner_key = ma.fields.Boolean()


class TeamPermissionSchema(ma.Schema):
    team = ma.fields.String()
    permission = ma.fields.String()


class PackageRefSchema(ma.Schema):
    name = ma.fields.String()
    linked = ma.fields.Boolean()


class AttributeOutSchema(ma.Schema):
    name = ma.fields.String()
    values = ma.fields.List(ma.fields.Raw())
    type = ma.fields.String()


class PackageSchema(ma.Schema):
    name = ma.fields.String()
    repo = ma.fields.String()
    owner = ma.fields.String()
    desc = ma.fields.String(allow_none=True)
    labels = ma.fields.List(ma.fields.String())
    attribute_names = ma.fields.List(ma.fields.String())
    licenses = ma.fields.List(ma.fields.String())
    custom_licenses = ma.fields.List(ma.fields.String())
    followers_count = ma.fields.Integer()
    created = ma.fields.String()
    website_url = ma.fields.String(allow_none=True)
    issue_tracker_url = ma.fields.String(allow_none=True)
    github_repo = ma.fields.String(metadata={"description": "only to publishers"})
    github_release_notes_file = ma.fields.String(metadata={"description": "only to publishers"})
    public_download_numbers = ma.fields.Boolean(metadata={"description": "only to publishers"})
    public_stats = ma.fields.Boolean(metadata={"description": "only to publishers"})
    linked_to_repos = ma.fields.List(ma.fields.String())
    versions = ma.fields.List(ma.fields.String(), metadata={"description": "newest first"})
    latest_version = ma.fields.String(allow_none=True, metadata={"description": "latest published"})
    updated = ma.fields.String()
    rating = ma.fields.Float(metadata={"description": "average of the package's visible ratings (1 to 5, from "
                                                      "social's reviews); 0 when rating_count is 0"})
    rating_count = ma.fields.Integer(metadata={"description": "visible ratings (reviews) of the package"})
    system_ids = ma.fields.List(ma.fields.String())
    vcs_url = ma.fields.String(allow_none=True)
    maturity = ma.fields.String()
    attributes = ma.fields.List(ma.fields.Nested(AttributeOutSchema),
                                metadata={"description": "with attribute_values=1"})


class VersionSchema(ma.Schema):
    name = ma.fields.String()
    desc = ma.fields.String(allow_none=True)
    package = ma.fields.String()
    repo = ma.fields.String()
    owner = ma.fields.String()
    labels = ma.fields.List(ma.fields.String())
    published = ma.fields.Boolean()
    attribute_names = ma.fields.List(ma.fields.String())
    created = ma.fields.String()
    updated = ma.fields.String()
    released = ma.fields.String(metadata={"description": '"" when unset'})
    ordinal = ma.fields.Float()
    github_release_notes_file = ma.fields.String(allow_none=True)
    github_use_tag_release_notes = ma.fields.Boolean()
    vcs_tag = ma.fields.String(allow_none=True)
    rating_count = ma.fields.Integer()
    attributes = ma.fields.List(ma.fields.Nested(AttributeOutSchema),
                                metadata={"description": "with attribute_values=1"})
    share_url = ma.fields.String(metadata={"description": "a published version read on its own: X/Twitter's web "
                                                          "intent announcing the release, with a link to its page"})


class FileSchema(ma.Schema):
    name = ma.fields.String()
    path = ma.fields.String()
    repo = ma.fields.String()
    package = ma.fields.String()
    version = ma.fields.String()
    owner = ma.fields.String()
    created = ma.fields.String()
    size = ma.fields.Integer()
    sha1 = ma.fields.String()
    sha256 = ma.fields.String()
    signed = ma.fields.Boolean(metadata={"description": "a detached signature <path>.asc is published beside it"})
    signature_fingerprint = ma.fields.String(allow_none=True)
    signed_at = ma.fields.String(allow_none=True)


class PublishedSchema(ma.Schema):
    files = ma.fields.Integer()


class DocumentOutSchema(ma.Schema):
    owner = ma.fields.String()
    repo = ma.fields.String()
    package = ma.fields.String()
    version = ma.fields.String()
    bintray = ma.fields.Dict()
    github = ma.fields.Dict()


class LicenseSchema(ma.Schema):
    name = ma.fields.String()
    longname = ma.fields.String()
    url = ma.fields.String()


class InclusionRequestOutSchema(ma.Schema):
    id = ma.fields.Integer()
    owner = ma.fields.String()
    repo = ma.fields.String()
    package = ma.fields.String()
    target = ma.fields.String(metadata={"description": "<subject>/<repository>"})
    requester = ma.fields.String()
    message = ma.fields.String(allow_none=True)
    path_prefix = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "pending, approved or rejected"})
    reason = ma.fields.String(allow_none=True)
    decided_by = ma.fields.String(allow_none=True)
    created = ma.fields.String()
    decided = ma.fields.String(allow_none=True)


class ClaimStepSchema(ma.Schema):
    action = ma.fields.String(metadata={"description": "filed, consented, objected, approved, rejected, withdrawn, "
                                                       "transferred, closed"})
    by = ma.fields.String()
    at = ma.fields.String()
    message = ma.fields.String(allow_none=True)


class ClaimOutSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "pending, disputed, approved, rejected, withdrawn or closed"})
    owner = ma.fields.String(metadata={"description": "the package's owner when the claim was filed"})
    repo = ma.fields.String()
    package = ma.fields.String()
    claimant = ma.fields.String()
    reason = ma.fields.String()
    evidence = ma.fields.String()
    target = ma.fields.String(metadata={"description": "the claimant's repository the package moves to"})
    location = ma.fields.String(allow_none=True, metadata={"description": "where the package is now"})
    filed = ma.fields.String()
    answer_due = ma.fields.String()
    updated = ma.fields.String()
    history = ma.fields.List(ma.fields.Nested(ClaimStepSchema))


class WebhookRegisteredSchema(MessageSchema):
    secret = ma.fields.String(metadata={
        "description": "the webhook's signing secret (Standard Webhooks, ``whsec_…``), shown this once: callbacks "
                       "carry webhook-id, webhook-timestamp and webhook-signature headers made with it"})


class WebhookOutSchema(ma.Schema):
    package = ma.fields.String()
    url = ma.fields.String()
    failure_count = ma.fields.Integer()


class VersionCountSchema(ma.Schema):
    version = ma.fields.String()
    count = ma.fields.Integer()


class _StatsSchema(ma.Schema):
    start = ma.fields.String(data_key="from")
    end = ma.fields.String(data_key="to")


class TotalDownloadsSchema(_StatsSchema):
    records = ma.fields.List(ma.fields.Nested(VersionCountSchema))


class DayDownloadsSchema(ma.Schema):
    date = ma.fields.String(metadata={"description": "yyyy/MM/dd"})
    downloads = ma.fields.List(ma.fields.Nested(VersionCountSchema))


class TimeRangeDownloadsSchema(_StatsSchema):
    records = ma.fields.List(ma.fields.Nested(DayDownloadsSchema))


class CountryCountSchema(ma.Schema):
    country = ma.fields.String(metadata={"description": "ISO 3166 alpha-2, or unknown"})
    count = ma.fields.Integer()


class CountryDownloadsSchema(_StatsSchema):
    records = ma.fields.List(ma.fields.Nested(CountryCountSchema))


class PopularPackageSchema(ma.Schema):
    owner = ma.fields.String()
    repo = ma.fields.String()
    package = ma.fields.String()
    downloads = ma.fields.Integer()


# -- for the signing service (/internal/signing/...) ---------------------------------------------

class FileToSignSchema(ma.Schema):
    path = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)
    sha1 = ma.fields.String(required=True)
    sha256 = ma.fields.String(required=True)
    published = ma.fields.Boolean(required=True)


class VersionToSignSchema(ma.Schema):
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    private = ma.fields.Boolean(required=True)
    owner_type = ma.fields.String(required=True, metadata={"description": "user or org"})
    files = ma.fields.List(ma.fields.Nested(FileToSignSchema), required=True)


class FileOfVersionToSignSchema(FileToSignSchema):
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    signature_fingerprint = ma.fields.String(required=True, allow_none=True)
    package = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    private = ma.fields.Boolean(required=True)
    owner_type = ma.fields.String(required=True, metadata={"description": "user or org"})


class StoredSignatureSchema(ma.Schema):
    path = ma.fields.String(required=True, metadata={"description": "the signed file"})
    signature_path = ma.fields.String(required=True, metadata={"description": "the signature, <path>.asc"})
    size = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)
    published = ma.fields.Boolean(required=True)
