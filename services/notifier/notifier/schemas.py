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


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)
