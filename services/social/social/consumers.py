"""What social listens to. So far: identity's account events, for the user replica and the activity log.

Schemas here are social's own, tolerant readings of identity's events (unknown fields
excluded); social never imports another service's code.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

import marshmallow as ma

from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork
from packyard.events import CloudEvent
from social import use_cases


class UserRegistered(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    user_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    registered = ma.fields.AwareDateTime(load_default=None, default_timezone=timezone.utc)


class UserDeleted(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    user_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))


def on_user_registered(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.record_registration(uow, user_id=data["user_id"], username=data["username"],
                                  registered=data["registered"] or uow.clock(), event_id=event.id)


def on_user_deleted(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.forget_user(uow, user_id=data["user_id"], now=uow.clock())


QUEUES = [
    ConsumerQueue("social.accounts", (
        Handler("identity.user.registered", on_user_registered, UserRegistered),
        Handler("identity.user.deleted", on_user_deleted, UserDeleted),
    )),
]
