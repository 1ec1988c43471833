"""What catalog listens to: identity's subjects, memberships and teams (its permission replica),
social's watches and reviews (the counters on package and version JSON), and the notifier's
webhook delivery results (``failure_count`` of webhooks).

Schemas here are catalog's own, tolerant readings of other services' events (unknown fields
excluded); catalog never imports another service's code. Handlers do their effects through the
given unit of work and never commit: the consumer runner commits them with the inbox row.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from catalog.use_cases import counters, signatures, subjects, webhooks
from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork
from packyard.events import CloudEvent, event_time


def _clip(full_name: str | None) -> str | None:
    """Display names longer than catalog keeps are cut, not refused: the rest of the event still counts."""
    return None if full_name is None else full_name[:200]


class UserRegisteredData(ma.Schema):
    user_id = ma.fields.String(required=True)
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    full_name = ma.fields.String(load_default="", allow_none=True)
    registered = ma.fields.DateTime(load_default=None, allow_none=True)


class UserDeleted(ma.Schema):
    user_id = ma.fields.String(required=True)
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))


def on_user_registered(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    subjects.record_user(uow, subjects.RecordUser(
        user_id=data["user_id"], username=data["username"], full_name=_clip(data["full_name"]) or "",
        registered=data["registered"]), event_time(event))


def on_user_deleted(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    subjects.forget_user(uow, data["user_id"], data["username"], event_time(event))


class OrgEvent(ma.Schema):
    org_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    full_name = ma.fields.String(load_default=None, allow_none=True)
    owner_id = ma.fields.String(load_default=None, allow_none=True)
    revision = ma.fields.Integer(required=True)


def on_org_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    subjects.record_org(uow, subjects.RecordOrg(org_id=data["org_id"], name=data["name"], revision=data["revision"],
                                                 full_name=_clip(data["full_name"]), owner_id=data["owner_id"],
                                                 created=event.type == "identity.org.created"),
                        event_time(event))


def on_org_deleted(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    subjects.forget_org(uow, data["org_id"], data["name"], data["revision"], event_time(event))


_NAME: dict[str, Any] = {"required": True, "validate": ma.validate.Length(min=1, max=64)}


class MemberEvent(ma.Schema):
    org_id = ma.fields.String(**_NAME)
    org = ma.fields.String(**_NAME)
    user_id = ma.fields.String(**_NAME)
    username = ma.fields.String(**_NAME)
    role = ma.fields.String(load_default="member", validate=ma.validate.OneOf(("owner", "admin", "member")))
    revision = ma.fields.Integer(required=True)


def on_member_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    removed = event.type == "identity.member.removed"
    subjects.record_membership(uow, subjects.RecordMembership(
        org_id=data["org_id"], org=data["org"], user_id=data["user_id"], username=data["username"],
        revision=data["revision"], role=None if removed else data["role"],
        added=event.type == "identity.member.added"), event_time(event))


class TeamEvent(ma.Schema):
    subject = ma.fields.String(**_NAME)
    subject_type = ma.fields.String(load_default="org", validate=ma.validate.OneOf(("org", "user")))
    team = ma.fields.String(**_NAME)
    members = ma.fields.List(ma.fields.String(), load_default=None, allow_none=True)
    allow_repo_creation = ma.fields.Boolean(load_default=None, allow_none=True)
    revision = ma.fields.Integer(required=True)


def on_team_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    subjects.record_team(uow, subjects.RecordTeam(
        subject=data["subject"], subject_type=data["subject_type"], team=data["team"], revision=data["revision"],
        members=data["members"], allow_repo_creation=data["allow_repo_creation"],
        created=event.type == "identity.team.created", deleted=event.type == "identity.team.deleted"),
        event_time(event))


class CounterOrdering(ma.Schema):
    """``count_revision`` orders a package's counter (every change, whoever the actor); ``revision`` only
    one user's watch or review, so it is the fallback for events that lack ``count_revision``."""

    revision = ma.fields.Integer(load_default=None, allow_none=True)
    count_revision = ma.fields.Integer(load_default=None, allow_none=True)

    @ma.validates_schema
    def _has_an_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("count_revision") is None and data.get("revision") is None:
            raise ma.ValidationError("count_revision (or revision) is required to order the counter")


def count_revision(data: dict[str, Any]) -> int:
    return data["count_revision"] if data["count_revision"] is not None else data["revision"]


class WatchEvent(CounterOrdering):
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    watchers_count = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))


def on_watch_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    counters.record_followers(uow, data["owner"], data["repo"], data["package"], data["watchers_count"],
                              count_revision(data), event_time(event))


class ReviewEvent(CounterOrdering):
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    version = ma.fields.String(load_default=None, allow_none=True)
    rating_count = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    average_rating = ma.fields.Float(load_default=None, allow_none=True, allow_nan=False,
                                     validate=ma.validate.Range(min=0, max=5))
    version_rating_count = ma.fields.Integer(load_default=None, allow_none=True, validate=ma.validate.Range(min=0))


def on_review_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    counters.record_ratings(uow, data["owner"], data["repo"], data["package"], data["rating_count"],
                            data["average_rating"], count_revision(data), event_time(event),
                            version=data["version"], version_rating_count=data["version_rating_count"])


class WebhookDeliveryEvent(ma.Schema):
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    url = ma.fields.String(required=True)
    failure_count = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))


def on_webhook_delivery(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    # Reports carry no revision: the one the notifier recorded last wins (an older one arriving late is ignored).
    webhooks.record_delivery(uow, data["owner"], data["repo"], data["package"], data["url"], data["failure_count"],
                             event_time(event))


class GpgKeyEvent(ma.Schema):
    """signing.key.uploaded / signing.key.cleared (catalog's own reading)."""

    class Meta:
        unknown = ma.EXCLUDE

    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    fingerprint = ma.fields.String(required=True, validate=ma.validate.Length(max=64))
    has_private_key = ma.fields.Boolean(load_default=False)
    passphrase_protected = ma.fields.Boolean(load_default=True)


def on_gpg_key_uploaded(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    signatures.record_key(uow, data, event_time(event), cleared=False)


def on_gpg_key_cleared(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    signatures.record_key(uow, data, event_time(event), cleared=True)


QUEUES = [
    ConsumerQueue("catalog.identity", (
        Handler("identity.user.registered", on_user_registered, UserRegisteredData),
        Handler("identity.user.deleted", on_user_deleted, UserDeleted),
        Handler("identity.org.created", on_org_changed, OrgEvent),
        Handler("identity.org.updated", on_org_changed, OrgEvent),
        Handler("identity.org.deleted", on_org_deleted, OrgEvent),
        Handler("identity.member.added", on_member_changed, MemberEvent),
        Handler("identity.member.role_changed", on_member_changed, MemberEvent),
        Handler("identity.member.removed", on_member_changed, MemberEvent),
        Handler("identity.team.created", on_team_changed, TeamEvent),
        Handler("identity.team.updated", on_team_changed, TeamEvent),
        Handler("identity.team.deleted", on_team_changed, TeamEvent),
    )),
    ConsumerQueue("catalog.social", (
        Handler("social.watch.started", on_watch_changed, WatchEvent),
        Handler("social.watch.stopped", on_watch_changed, WatchEvent),
        Handler("social.review.posted", on_review_changed, ReviewEvent),
        Handler("social.review.updated", on_review_changed, ReviewEvent),
        Handler("social.review.deleted", on_review_changed, ReviewEvent),
    )),
    ConsumerQueue("catalog.notifier", (
        Handler("notifier.webhook_delivery.succeeded", on_webhook_delivery, WebhookDeliveryEvent),
        Handler("notifier.webhook_delivery.failed", on_webhook_delivery, WebhookDeliveryEvent),
        Handler("notifier.webhook_delivery.deactivated", on_webhook_delivery, WebhookDeliveryEvent),
    )),
    ConsumerQueue("catalog.signing", (
        Handler("signing.key.uploaded", on_gpg_key_uploaded, GpgKeyEvent),
        Handler("signing.key.cleared", on_gpg_key_cleared, GpgKeyEvent),
    )),
]
