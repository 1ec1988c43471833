"""Request and response schemas of the notifier's HTTP API (marshmallow, documented in OpenAPI)."""

from __future__ import annotations

import marshmallow as ma

from packyard.paging import PageArgs


class NotificationListArgs(PageArgs):
    """Bintray's pagination (``?start_pos=N``, 50 a page) and an unread filter."""

    unread = ma.fields.Boolean(load_default=False, metadata={"description": "only notifications not read yet"})


class NotificationSchema(ma.Schema):
    id = ma.fields.String(required=True)
    type = ma.fields.String(required=True, metadata={"description": "what it is about, e.g. welcome"})
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    created = ma.fields.String(required=True)
    read = ma.fields.Boolean(required=True)
    link = ma.fields.String(allow_none=True, metadata={"description": "where to see it (built from PUBLIC_BASE_URL)"})
    data = ma.fields.Dict(allow_none=True, metadata={
        "description": "what it is about; a release's owner, repo, package, version, released and share_url "
                       "(X/Twitter's web intent, prefilled)"})


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)


class NotificationFilterArgs(NotificationListArgs):
    kind = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=400), metadata={
        "description": "only these kinds (comma-separated), e.g. release,message"})


class UnreadCountSchema(ma.Schema):
    unread_count = ma.fields.Integer(required=True)


class KindChoice(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    in_app = ma.fields.Boolean(load_default=None, allow_none=True)
    email = ma.fields.String(load_default=None, allow_none=True, metadata={
        "description": "off, immediate, hourly, daily or weekly"})
    description = ma.fields.String(dump_only=True)


class SettingsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    kinds = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(KindChoice), load_default=dict,
                           metadata={"description": "per kind of notification: in_app and email"})
    time_zone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=64), metadata={
        "description": "IANA time zone of digests (e.g. Europe/Paris); null = UTC"})
    email_suspended = ma.fields.Boolean(dump_only=True, metadata={
        "description": "the address refused mail for good; no mail until it changes"})


class DeliveryListArgs(PageArgs):
    pass


class DeliverySchema(ma.Schema):
    id = ma.fields.String(required=True)
    delivery_id = ma.fields.String(required=True, metadata={"description": "stable id sent as webhook-id"})
    kind = ma.fields.String(required=True, metadata={"description": "webhook, test or mastodon"})
    owner = ma.fields.String()
    repo = ma.fields.String()
    package = ma.fields.String()
    version = ma.fields.String(allow_none=True)
    url = ma.fields.String()
    method = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending, succeeded or failed"})
    attempts = ma.fields.Integer()
    max_attempts = ma.fields.Integer()
    request = ma.fields.Dict()
    response = ma.fields.Dict(allow_none=True)
    duration_ms = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    created = ma.fields.String()
    finished = ma.fields.String(allow_none=True)
    next_attempt = ma.fields.String(allow_none=True)


class MastodonLinkSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    instance_url = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    access_token = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=2000))
    linked = ma.fields.String(dump_only=True)


class AnnouncementArgs(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    mastodon = ma.fields.Boolean(required=True, metadata={"description": "post each release on my Mastodon account"})


class AnnouncementSchema(ma.Schema):
    owner = ma.fields.String()
    repo = ma.fields.String()
    package = ma.fields.String()
    mastodon = ma.fields.Boolean()


class NewsArgs(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50_000))


class NewsSchema(ma.Schema):
    id = ma.fields.String()
    subject = ma.fields.String()
    posted_by = ma.fields.String()
    created = ma.fields.String()
    sent = ma.fields.Integer(metadata={"description": "recipients handled so far"})
    finished = ma.fields.String(allow_none=True)
