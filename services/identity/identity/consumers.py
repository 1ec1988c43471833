"""What identity listens to: only what keeps ``repos``, ``followers_count`` and ``quota_used_bytes``
of the Bintray user and organization JSON, and ``permitted_repos`` of the team JSON, current.

Schemas here are identity's own, tolerant readings of other services' events (unknown
fields excluded); identity never imports another service's code. Events may arrive late or
twice: each handler applies an event only when it is newer than what it already holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from identity.models import Org, SubjectRepo, TeamPermission, User
from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork, as_utc
from packyard.events import CloudEvent, event_time


class RepoEvent(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    owner = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    repo = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    private = ma.fields.Boolean(load_default=False)
    revision = ma.fields.Integer(load_default=None, allow_none=True)


class FollowEvent(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    followee = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    followers_count = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    revision = ma.fields.Integer(required=True)
    # Grows with every change of the followee's count, whoever the follower: the order of counts.
    count_revision = ma.fields.Integer(load_default=None, allow_none=True)


class PermissionEvent(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    owner = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    repo = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    team = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    permission = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["read", "publish", "admin"]))
    revision = ma.fields.Integer(required=True)


class UsageEvent(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    owner = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    used_bytes = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    revision = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))


def _is_newer(row: SubjectRepo, revision: int | None, moment: datetime) -> bool:
    """Catalog's revision orders events when both sides have one; the event time otherwise."""
    if revision is not None and row.revision is not None:
        return revision > row.revision
    return row.changed_at is None or moment >= as_utc(row.changed_at)


def _apply_repo(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any], *, deleted: bool) -> None:
    moment = event_time(event)
    row = uow.session.get(SubjectRepo, (data["owner"], data["repo"]))
    if row is None:
        uow.session.add(SubjectRepo(subject=data["owner"], repo=data["repo"], private=data["private"],
                                    deleted=deleted, revision=data["revision"], changed_at=moment))
        return
    if not _is_newer(row, data["revision"], moment):
        return
    row.deleted = deleted
    if not deleted:
        row.private = data["private"]
    row.revision = data["revision"] if data["revision"] is not None else row.revision
    row.changed_at = moment


def on_repo_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    _apply_repo(uow, event, data, deleted=False)


def on_repo_deleted(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    _apply_repo(uow, event, data, deleted=True)  # a tombstone: a late "created" cannot revive it


def on_follow_changed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    session = uow.session
    subject: User | Org | None = session.scalars(
        sa.select(User).where(User.username == data["followee"]).with_for_update()).first()
    if subject is None:
        subject = session.scalars(sa.select(Org).where(Org.name == data["followee"]).with_for_update()).first()
    if subject is not None:
        # count_revision orders the followee's count across followers (revision is one follower's own
        # relationship); events from before count_revision existed fall back to revision.
        order = data["count_revision"] if data["count_revision"] is not None else data["revision"]
        if order > subject.followers_revision:
            subject.followers_count = data["followers_count"]
            subject.followers_revision = order


def _apply_permission(uow: UnitOfWork, data: dict[str, Any], permission: str | None) -> None:
    key = (data["owner"], data["repo"], data["team"])
    row = uow.session.get(TeamPermission, key, with_for_update=True)
    if row is None:
        uow.session.add(TeamPermission(subject=key[0], repo=key[1], team=key[2], permission=permission,
                                       revision=data["revision"]))
    elif data["revision"] > row.revision:
        row.permission, row.revision = permission, data["revision"]


def on_permission_set(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    if data["permission"] is None:
        raise ma.ValidationError({"permission": ["required when a permission is set"]})
    _apply_permission(uow, data, data["permission"])


def on_permission_removed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    _apply_permission(uow, data, None)  # a tombstone: a late "set" cannot revive it


def on_usage_changed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    """``quota_used_bytes`` of the user or organization: the newest revision wins."""
    owner, revision = data["owner"], data["revision"]
    values = {"quota_used_bytes": data["used_bytes"], "usage_revision": revision}
    uow.session.execute(sa.update(User).where(User.username == owner, User.usage_revision < revision).values(values))
    uow.session.execute(sa.update(Org).where(Org.name == owner, Org.usage_revision < revision).values(values))


QUEUES = [
    ConsumerQueue("identity.subject-counters", (
        Handler("catalog.repo.created", on_repo_changed, RepoEvent),
        Handler("catalog.repo.updated", on_repo_changed, RepoEvent),
        Handler("catalog.repo.deleted", on_repo_deleted, RepoEvent),
        Handler("social.follow.started", on_follow_changed, FollowEvent),
        Handler("social.follow.stopped", on_follow_changed, FollowEvent),
        Handler("catalog.permission.set", on_permission_set, PermissionEvent),
        Handler("catalog.permission.removed", on_permission_removed, PermissionEvent),
        Handler("catalog.usage.changed", on_usage_changed, UsageEvent),
    )),
]
