"""What signing listens to: identity's user and organization events, for the subject replica.

Schemas here are signing's own, tolerant readings of identity's events (unknown fields
excluded); signing never imports another service's code.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork
from packyard.events import CloudEvent
from signing import use_cases
from signing.models import ORG, USER

_Id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))
_Name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))


class UserRegistered(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    user_id = _Id
    username = _Name


class UserDeleted(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    user_id = _Id


class OrgCreated(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    org_id = _Id
    name = _Name
    revision = ma.fields.Integer(load_default=0)


class OrgDeleted(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    org_id = _Id
    revision = ma.fields.Integer(load_default=0)


def on_user_registered(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.record_subject(uow, subject_id=data["user_id"], name=data["username"], kind=USER)


def on_user_deleted(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.forget_subject(uow, subject_id=data["user_id"], kind=USER, now=uow.clock())


def on_org_created(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.record_subject(uow, subject_id=data["org_id"], name=data["name"], kind=ORG,
                             revision=data["revision"])


def on_org_deleted(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.forget_subject(uow, subject_id=data["org_id"], kind=ORG, revision=data["revision"],
                             now=uow.clock())


QUEUES = [
    ConsumerQueue("signing.subjects", (
        Handler("identity.user.registered", on_user_registered, UserRegistered),
        Handler("identity.user.deleted", on_user_deleted, UserDeleted),
        Handler("identity.org.created", on_org_created, OrgCreated),
        Handler("identity.org.deleted", on_org_deleted, OrgDeleted),
    )),
]
