"""What identity listens to: only what keeps ``repos``, ``followers_count`` and ``quota_used_bytes``
of the Bintray user and organization JSON, and ``permitted_repos`` of the team JSON, current.

Schemas here are identity's own, tolerant readings of other services' events (unknown
fields excluded); identity never imports another service's code. Each handler parses its event
and calls one use case of :mod:`identity.use_cases.replicas`, which applies only what is newer.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from identity.use_cases import replicas
from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork
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


def on_repo_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    replicas.record_repo(uow, replicas.RecordRepo(owner=data["owner"], repo=data["repo"], private=data["private"],
                                                  revision=data["revision"]), event_time(event))


def on_repo_deleted(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    replicas.record_repo(uow, replicas.RecordRepo(owner=data["owner"], repo=data["repo"], private=data["private"],
                                                  revision=data["revision"], deleted=True), event_time(event))


def on_follow_changed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    # count_revision orders the followee's count across followers (revision is one follower's own
    # relationship); events from before count_revision existed fall back to revision.
    order = data["count_revision"] if data["count_revision"] is not None else data["revision"]
    replicas.record_followers(uow, data["followee"], data["followers_count"], order)


def _team_permission(data: dict[str, Any], permission: str | None) -> replicas.RecordTeamPermission:
    return replicas.RecordTeamPermission(owner=data["owner"], repo=data["repo"], team=data["team"],
                                         permission=permission, revision=data["revision"])


def on_permission_set(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    if data["permission"] is None:
        raise ma.ValidationError({"permission": ["required when a permission is set"]})
    replicas.record_team_permission(uow, _team_permission(data, data["permission"]))


def on_permission_removed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    replicas.record_team_permission(uow, _team_permission(data, None))


def on_usage_changed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    replicas.record_usage(uow, data["owner"], data["used_bytes"], data["revision"])


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
