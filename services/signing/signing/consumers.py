"""What signing listens to: identity's user, organization and member events (the subject replica and
who administers each organization), and catalog's released versions (automatic signing).

Schemas here are signing's own, tolerant readings of identity's events (unknown fields
excluded); signing never imports another service's code.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork
from packyard.events import CloudEvent
from signing import signatures, use_cases
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


class MemberChanged(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    org_id = _Id
    username = _Name
    role = ma.fields.String(load_default=None)
    revision = ma.fields.Integer(load_default=0)


class VersionReleased(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    owner = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    repo = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    package = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    version = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    publisher = ma.fields.String(load_default=None)
    gpg_sign_files = ma.fields.Boolean(load_default=False)
    gpg_use_owner_key = ma.fields.Boolean(load_default=False)


class RepoChanged(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    owner = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    repo = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    gpg_sign_files = ma.fields.Boolean(load_default=False)
    gpg_use_owner_key = ma.fields.Boolean(load_default=False)
    revision = ma.fields.Integer(load_default=0)


class FilePublished(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    owner = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    repo = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    package = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    version = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    path = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1024))
    publisher = ma.fields.String(load_default=None)


def on_repo_changed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    signatures.record_repo(uow, owner=data["owner"], repo=data["repo"], sign_files=data["gpg_sign_files"],
                           use_owner_key=data["gpg_use_owner_key"], revision=data["revision"], deleted=False)


def on_repo_deleted(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    signatures.record_repo(uow, owner=data["owner"], repo=data["repo"], sign_files=False, use_owner_key=False,
                           revision=data["revision"], deleted=True)


def on_file_published(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    """A file published into an already released version of a repository asking for signatures."""
    signatures.schedule_file(uow, owner=data["owner"], repo=data["repo"], package=data["package"],
                             version=data["version"], path=data["path"], publisher=data["publisher"], now=uow.clock())


def on_member_changed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.record_membership(uow, org_id=data["org_id"], username=data["username"], role=data["role"],
                                revision=data["revision"])


def on_member_removed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.record_membership(uow, org_id=data["org_id"], username=data["username"], role=None,
                                revision=data["revision"])


def on_version_released(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    """A repository with ``gpg_sign_files`` or ``gpg_use_owner_key``: sign the release (the worker's loop)."""
    if not (data["gpg_sign_files"] or data["gpg_use_owner_key"]):
        return
    signatures.schedule(uow, owner=data["owner"], repo=data["repo"], package=data["package"],
                        version=data["version"], use_owner_key=data["gpg_use_owner_key"],
                        publisher=data["publisher"], now=uow.clock())


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
        Handler("identity.member.added", on_member_changed, MemberChanged),
        Handler("identity.member.role_changed", on_member_changed, MemberChanged),
        Handler("identity.member.removed", on_member_removed, MemberChanged),
    )),
    ConsumerQueue("signing.releases", (
        Handler("catalog.version.released", on_version_released, VersionReleased),
        Handler("catalog.file.published", on_file_published, FilePublished),
        Handler("catalog.repo.created", on_repo_changed, RepoChanged),
        Handler("catalog.repo.updated", on_repo_changed, RepoChanged),
        Handler("catalog.repo.deleted", on_repo_deleted, RepoChanged),
    )),
]
