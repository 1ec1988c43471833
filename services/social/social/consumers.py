"""What social listens to: identity's accounts, organizations, memberships and teams; catalog's
repositories, packages, versions and team permissions; signing's signed versions. From them social
keeps its replicas (who exists, who may read a private package), writes activity entries, and ends
watches whose watcher lost access.

Schemas here are social's own, tolerant readings of other services' events (unknown fields
excluded); social never imports another service's code.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import marshmallow as ma

from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork
from packyard.events import CloudEvent, event_time
from social.use_cases import activity, replica

NAME = ma.validate.Length(min=1, max=50)
LONG_NAME = ma.validate.Length(min=1, max=100)


class _Tolerant(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


class UserRegistered(_Tolerant):
    user_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))
    username = ma.fields.String(required=True, validate=NAME)
    full_name = ma.fields.String(load_default=None, allow_none=True)
    email = ma.fields.String(load_default=None, allow_none=True)
    registered = ma.fields.AwareDateTime(load_default=None, default_timezone=UTC)


class UserProfile(_Tolerant):
    user_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))
    full_name = ma.fields.String(load_default=None, allow_none=True)
    email = ma.fields.String(load_default=None, allow_none=True)


class UserDeleted(_Tolerant):
    user_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))


class OrgEvent(_Tolerant):
    org_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))
    name = ma.fields.String(required=True, validate=NAME)
    full_name = ma.fields.String(load_default=None, allow_none=True)
    owner = ma.fields.String(load_default=None, allow_none=True)
    owner_id = ma.fields.String(load_default=None, allow_none=True)
    revision = ma.fields.Integer(required=True)


class MemberEvent(_Tolerant):
    org_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))
    org = ma.fields.String(required=True, validate=NAME)
    user_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))
    username = ma.fields.String(required=True, validate=NAME)
    role = ma.fields.String(load_default=None, allow_none=True)
    revision = ma.fields.Integer(required=True)


class TeamEvent(_Tolerant):
    subject = ma.fields.String(required=True, validate=NAME)
    subject_type = ma.fields.String(load_default="org")
    team = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    members = ma.fields.List(ma.fields.String(), load_default=None)
    revision = ma.fields.Integer(required=True)


class RepoEvent(_Tolerant):
    owner = ma.fields.String(required=True, validate=NAME)
    repo = ma.fields.String(required=True, validate=LONG_NAME)
    private = ma.fields.Boolean(load_default=False)
    revision = ma.fields.Integer(load_default=None, allow_none=True)


class PackageEvent(RepoEvent):
    package = ma.fields.String(required=True, validate=LONG_NAME)


class VersionEvent(PackageEvent):
    version = ma.fields.String(required=True, validate=LONG_NAME)
    publisher = ma.fields.String(load_default=None, allow_none=True)
    released = ma.fields.AwareDateTime(load_default=None, default_timezone=UTC)


class PermissionEvent(_Tolerant):
    owner = ma.fields.String(required=True, validate=NAME)
    repo = ma.fields.String(required=True, validate=LONG_NAME)
    team = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    permission = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["read", "publish", "admin"]))
    revision = ma.fields.Integer(required=True)


class VersionSigned(PackageEvent):
    version = ma.fields.String(required=True, validate=LONG_NAME)
    fingerprint = ma.fields.String(load_default=None, allow_none=True)
    signed_by = ma.fields.String(load_default=None, allow_none=True)
    signed = ma.fields.AwareDateTime(load_default=None, default_timezone=UTC)


# -- identity ---------------------------------------------------------------------------------

def on_user_registered(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    replica.record_registration(uow, user_id=data["user_id"], username=data["username"],
                                registered=data["registered"] or uow.clock(), event_id=event.id,
                                full_name=data["full_name"], email=data["email"])


def on_user_profile(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    replica.record_profile(uow, user_id=data["user_id"], full_name=data["full_name"], email=data["email"])


def on_user_deleted(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    replica.forget_user(uow, user_id=data["user_id"], now=uow.clock())


def on_org_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    replica.record_org(uow, org_id=data["org_id"], name=data["name"], full_name=data["full_name"],
                       owner=data["owner"], owner_id=data["owner_id"], revision=data["revision"],
                       created=event.type == "identity.org.created", at=event_time(event), event_id=event.id)


def on_org_deleted(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    replica.delete_org(uow, org_id=data["org_id"], name=data["name"], revision=data["revision"])


def on_member_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    removed = event.type == "identity.member.removed"
    if not removed and data["role"] is None:
        raise ma.ValidationError({"role": ["required when a member is added or changes role"]})
    replica.record_member(uow, org_id=data["org_id"], org=data["org"], user_id=data["user_id"],
                          username=data["username"], role=None if removed else data["role"],
                          revision=data["revision"], at=event_time(event), event_id=event.id,
                          added=event.type == "identity.member.added")


def on_team_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    replica.record_team(uow, subject=data["subject"], subject_type=data["subject_type"], team=data["team"],
                        members=data["members"], revision=data["revision"],
                        deleted=event.type == "identity.team.deleted")


# -- catalog ----------------------------------------------------------------------------------

def on_repo_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    replica.record_repo(uow, owner=data["owner"], repo=data["repo"], private=data["private"],
                        revision=data["revision"], deleted=event.type == "catalog.repo.deleted",
                        at=event_time(event), event_id=event.id, created=event.type == "catalog.repo.created")


def on_package_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    replica.record_package(uow, owner=data["owner"], repo=data["repo"], package=data["package"],
                           private=data["private"], deleted=event.type == "catalog.package.deleted",
                           at=event_time(event), event_id=event.id, created=event.type == "catalog.package.created")


def on_version_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    replica.record_version(uow, owner=data["owner"], repo=data["repo"], package=data["package"],
                           version=data["version"], private=data["private"],
                           deleted=event.type == "catalog.version.deleted", at=event_time(event))


def on_version_released(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    replica.record_release(uow, owner=data["owner"], repo=data["repo"], package=data["package"],
                           version=data["version"], private=data["private"], publisher=data["publisher"],
                           at=data["released"] or event_time(event), event_id=event.id)


def on_permission_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    removed = event.type == "catalog.permission.removed"
    if not removed and data["permission"] is None:
        raise ma.ValidationError({"permission": ["required when a permission is set"]})
    replica.record_permission(uow, owner=data["owner"], repo=data["repo"], team=data["team"],
                              permission=None if removed else data["permission"], revision=data["revision"])


def on_version_signed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    replica.record_release(uow, owner=data["owner"], repo=data["repo"], package=data["package"],
                           version=data["version"], private=data["private"], publisher=data["signed_by"],
                           at=data["signed"] or event_time(event), event_id=event.id,
                           kind=activity.VERSION_SIGNED, extra={"fingerprint": data["fingerprint"]})


QUEUES = [
    ConsumerQueue("social.accounts", (
        Handler("identity.user.registered", on_user_registered, UserRegistered),
        Handler("identity.user.profile_updated", on_user_profile, UserProfile),
        Handler("identity.user.email_changed", on_user_profile, UserProfile),
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
    ConsumerQueue("social.catalog", (
        Handler("catalog.repo.created", on_repo_changed, RepoEvent),
        Handler("catalog.repo.updated", on_repo_changed, RepoEvent),
        Handler("catalog.repo.deleted", on_repo_changed, RepoEvent),
        Handler("catalog.package.created", on_package_changed, PackageEvent),
        Handler("catalog.package.updated", on_package_changed, PackageEvent),
        Handler("catalog.package.deleted", on_package_changed, PackageEvent),
        Handler("catalog.version.created", on_version_changed, VersionEvent),
        Handler("catalog.version.released", on_version_released, VersionEvent),
        Handler("catalog.version.deleted", on_version_changed, VersionEvent),
        Handler("catalog.permission.set", on_permission_changed, PermissionEvent),
        Handler("catalog.permission.removed", on_permission_changed, PermissionEvent),
    )),
    ConsumerQueue("social.signing", (
        Handler("signing.version.signed", on_version_signed, VersionSigned),
    )),
]
