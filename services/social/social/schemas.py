"""Request and response schemas of social's HTTP API (marshmallow, documented in OpenAPI)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from packyard.paging import PageArgs
from social.events import FILTER_KINDS
from social.filters import UnsafePattern, check_pattern

COMMENT_MAX = 10000
REVIEW_MAX = 10000
REPLY_MAX = 5000


class _Loose(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


class _KeepKinds(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE  # documented as open: each kind of entry adds its own fields

    @ma.post_dump(pass_original=True)
    def _keep_kind_fields(self, data: dict[str, Any], original: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        for key, value in original.items():
            data.setdefault(key, value)
        return data


class ActivitySchema(_KeepKinds):
    """One entry of an activity log; kinds of entries add their own fields beside these."""

    type = ma.fields.String(required=True, metadata={
        "description": "joined, created_org, joined_org, created_repo, created_package, released_version, "
                       "signed_version, reviewed, commented, watched, followed"})
    actor = ma.fields.String(required=True, allow_none=True,
                             metadata={"description": "who did it (null once their account is deleted)"})
    created = ma.fields.String(required=True)


class FeedArgs(PageArgs):
    before = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200), metadata={
        "description": "keyset cursor: the X-Next-Before header of the previous page"})


class PersonSchema(_KeepKinds):
    name = ma.fields.String(required=True)
    full_name = ma.fields.String(allow_none=True)
    gravatar_id = ma.fields.String(allow_none=True, metadata={"description": "md5 of the email, for gravatar"})
    avatar_url = ma.fields.String()


class WatchFilterSchema(_Loose):
    kind = ma.fields.String(load_default="all", validate=ma.validate.OneOf(FILTER_KINDS))
    pattern = ma.fields.String(load_default=None, allow_none=True)

    @ma.validates_schema
    def _pattern(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("kind") == "regex":
            if not data.get("pattern"):
                raise ma.ValidationError("a regex filter needs a pattern", "pattern")
            try:
                check_pattern(data["pattern"])
            except UnsafePattern as exc:
                raise ma.ValidationError(str(exc), "pattern") from None


class WatchArgs(_Loose):
    filter = ma.fields.Nested(WatchFilterSchema, load_default=lambda: {"kind": "all", "pattern": None})


class WatchSchema(ma.Schema):
    owner = ma.fields.String()
    repo = ma.fields.String()
    package = ma.fields.String()
    filter = ma.fields.Dict()
    created = ma.fields.String()


class ReviewArgs(_Loose):
    rating = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=5))
    title = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))
    body = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=REVIEW_MAX))


class ReviewSchema(_KeepKinds):
    id = ma.fields.Integer()
    username = ma.fields.String()
    rating = ma.fields.Integer()
    title = ma.fields.String(allow_none=True)
    body = ma.fields.String(allow_none=True)
    created = ma.fields.String()
    updated = ma.fields.String()
    reply = ma.fields.Dict(allow_none=True)


class ReviewListSchema(ma.Schema):
    rating = ma.fields.Float(allow_none=True, metadata={"description": "average rating; null without ratings"})
    rating_count = ma.fields.Integer()
    distribution = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    reviews = ma.fields.List(ma.fields.Nested(ReviewSchema))


class ReplyArgs(_Loose):
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=REPLY_MAX))


class ReportArgs(_Loose):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1000))


class ReportListArgs(PageArgs):
    include_resolved = ma.fields.Boolean(load_default=False)


class MessageArgs(_Loose):
    to = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    subject = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1))


class MessageSchema(_KeepKinds):
    id = ma.fields.Integer()
    subject = ma.fields.String(allow_none=True)
    body = ma.fields.String(allow_none=True, metadata={"description": "null: the sender deleted their account"})
    sent = ma.fields.String()


class ConversationSchema(_KeepKinds):
    unread = ma.fields.Integer()
    latest = ma.fields.Dict(allow_none=True)


class CommentArgs(_Loose):
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=COMMENT_MAX))


class CommentSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    body = ma.fields.String(metadata={"description": "the Markdown as written"})
    html = ma.fields.String(metadata={"description": "the Markdown rendered and sanitized"})
    created = ma.fields.String()
    updated = ma.fields.String()


class ReportSchema(_KeepKinds):
    id = ma.fields.Integer()
    reason = ma.fields.String()
