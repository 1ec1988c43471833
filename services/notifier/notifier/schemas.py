"""Request and response schemas of the notifier's HTTP API (marshmallow, documented in OpenAPI)."""

from __future__ import annotations

import marshmallow as ma


class NotificationListArgs(ma.Schema):
    """Bintray's pagination (``?start_pos=N``, 50 a page) and an unread filter."""

    class Meta:
        unknown = ma.EXCLUDE

    start_pos = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=2**31 - 1),
                                  metadata={"description": "index of the first item to return"})
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
