"""What catalog listens to: identity's subjects (its permission replica).

Schemas here are catalog's own, tolerant readings of other services' events (unknown fields
excluded); catalog never imports another service's code. Handlers do their effects through the
given unit of work and never commit: the consumer runner commits them with the inbox row.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import marshmallow as ma

from catalog.use_cases import subjects
from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork
from packyard.events import CloudEvent


def event_time(event: CloudEvent) -> datetime:
    """When the publisher recorded the event (tie-breaker where identity carries no revision)."""
    try:
        moment = datetime.fromisoformat(event.time)
    except ValueError:
        return datetime.now(timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class UserRegistered(ma.Schema):
    user_id = ma.fields.String(required=True)
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    full_name = ma.fields.String(load_default="", allow_none=True)
    registered = ma.fields.DateTime(load_default=None, allow_none=True)


class UserDeleted(ma.Schema):
    user_id = ma.fields.String(required=True)
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))


def on_user_registered(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    subjects.record_user(uow, subjects.UserRegistered(
        user_id=data["user_id"], username=data["username"], full_name=data["full_name"] or "",
        registered=data["registered"]), event_time(event))


def on_user_deleted(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    subjects.forget_user(uow, data["user_id"], data["username"], event_time(event))


QUEUES = [
    ConsumerQueue("catalog.identity", (
        Handler("identity.user.registered", on_user_registered, UserRegistered),
        Handler("identity.user.deleted", on_user_deleted, UserDeleted),
    )),
]
