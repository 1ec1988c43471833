"""What the notifier listens to, on five queues (the KEDA scaler of the workers watches each):

* ``notifier.accounts`` — identity: users, addresses, preferences, API keys, organizations' admins;
* ``notifier.releases`` — catalog: releases (the fan-out starts here), webhooks, test calls,
  ownership claims, inclusion requests;
* ``notifier.social`` — social: watches and follows (the subscriptions), messages, reviews,
  replies, comments;
* ``notifier.signing`` — signing: keys (expiry warnings), signing failures;
* ``notifier.fanout`` — the notifier's own batches of a release's recipients.

Schemas here are the notifier's own, tolerant readings of other services' events (unknown fields
excluded); the notifier never imports another service's code. Handlers queue emails and calls,
they never send them (see ``notifier.mail`` and ``notifier.webhooks``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import marshmallow as ma

from notifier import activity, fanout, subscriptions, use_cases, webhooks
from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork
from packyard.events import CloudEvent, event_time

ACCOUNTS_QUEUE = "notifier.accounts"
RELEASES_QUEUE = "notifier.releases"
SOCIAL_QUEUE = "notifier.social"
SIGNING_QUEUE = "notifier.signing"
FANOUT_QUEUE = "notifier.fanout"


@dataclass(frozen=True)
class Options:
    """What the handlers need of the settings."""

    base_url: str = "http://127.0.0.1:8080"
    batch_size: int = 500
    webhook_max_attempts: int = 5


def _Id() -> ma.fields.Field:  # noqa: N802 - a field factory, read like a type
    return ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))


def _Username() -> ma.fields.Field:  # noqa: N802
    return ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))


def _Name(required: bool = True) -> ma.fields.Field:  # noqa: N802
    if required:
        return ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    return ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))


def _Time() -> ma.fields.Field:  # noqa: N802
    return ma.fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)


def _Text() -> ma.fields.Field:  # noqa: N802
    return ma.fields.String(load_default=None, allow_none=True)


def _Names() -> ma.fields.Field:  # noqa: N802
    return ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=100)), load_default=list)


class _Tolerant(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


# -- identity -----------------------------------------------------------------------------------

class UserRegistered(_Tolerant):
    user_id = _Id()
    username = _Username()
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    registered = _Time()


class EmailChanged(_Tolerant):
    user_id = _Id()
    username = _Username()
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    previous_email = ma.fields.Email(load_default=None, allow_none=True, validate=ma.validate.Length(max=254))


class PreferencesChanged(_Tolerant):
    user_id = _Id()
    username = _Username()
    show_email = ma.fields.Boolean(required=True)
    release_alerts_email = ma.fields.Boolean(required=True)
    news_email = ma.fields.Boolean(required=True)
    revision = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))


class ProfileUpdated(_Tolerant):
    user_id = _Id()
    username = _Username()
    time_zone = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=64))


class PasswordResetRequested(_Tolerant):
    user_id = _Id()
    username = _Username()
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    token_ciphertext = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4000))
    expires_at = _Time()


class PasswordChanged(_Tolerant):
    user_id = _Id()
    username = _Username()
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    reset = ma.fields.Boolean(load_default=False)
    api_key_revoked = ma.fields.Boolean(load_default=False)


class UserDeleted(_Tolerant):
    user_id = _Id()
    username = ma.fields.String(load_default=None)


class ApiKeyChanged(_Tolerant):
    user_id = ma.fields.String(load_default=None)
    username = _Username()
    api_key_ciphertext = ma.fields.String(load_default=None, allow_none=True,
                                          validate=ma.validate.Length(max=4000))


class OrgEvent(_Tolerant):
    name = _Name()
    owner = ma.fields.String(load_default=None, allow_none=True)
    revision = ma.fields.Integer(load_default=0)


class MemberEvent(_Tolerant):
    org = _Name()
    username = _Username()
    role = ma.fields.String(load_default=None, allow_none=True)
    revision = ma.fields.Integer(load_default=0)


# -- catalog --------------------------------------------------------------------------------------

class VersionReleased(_Tolerant):
    owner = _Name()
    repo = _Name()
    package = _Name()
    version = _Name()
    private = ma.fields.Boolean(load_default=False)
    publisher = _Username()
    released = ma.fields.Raw(load_default=None)
    release_notes = _Text()


class WebhookRegistered(_Tolerant):
    owner = _Name()
    repo = _Name()
    package = _Name()
    username = _Username()
    url = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1000))
    method = ma.fields.String(load_default="post", validate=ma.validate.OneOf(("post", "put", "get")))
    registered = _Time()
    webhook_id = ma.fields.Raw(load_default=None, allow_none=True)
    secret_ciphertext = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=4000))


class WebhookDeleted(_Tolerant):
    owner = _Name()
    repo = _Name()
    package = _Name()
    username = _Username()


class WebhookTestRequested(_Tolerant):
    owner = _Name()
    repo = _Name()
    package = _Name()
    version = _Name()
    username = _Username()
    url = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1000))
    method = ma.fields.String(load_default="post", validate=ma.validate.OneOf(("post", "put", "get")))
    released = ma.fields.Raw(load_default=None)
    release_notes = _Text()


class CatalogNotice(_Tolerant):
    """Claims and inclusion requests: catalog names who is told in ``recipients``."""

    owner = _Name()
    repo = _Name()
    package = _Name()
    recipients = _Names()
    claimant = _Name(required=False)
    requester = _Name(required=False)
    target_owner = _Name(required=False)
    target_repo = _Name(required=False)
    by = _Name(required=False)
    decision = _Name(required=False)
    reason = _Text()
    message = _Text()
    claim_id = ma.fields.Raw(load_default=None)
    request_id = ma.fields.Raw(load_default=None)


# -- social ---------------------------------------------------------------------------------------

class WatchFilter(_Tolerant):
    kind = ma.fields.String(load_default="all")
    pattern = ma.fields.String(load_default=None, allow_none=True)


class WatchEvent(_Tolerant):
    username = _Username()
    owner = _Name()
    repo = _Name()
    package = _Name()
    private = ma.fields.Boolean(load_default=False)
    filter = ma.fields.Nested(WatchFilter, load_default=None, allow_none=True)
    revision = ma.fields.Integer(required=True)


class FollowEvent(_Tolerant):
    follower = _Username()
    followee = _Name()
    followee_type = ma.fields.String(load_default="user")
    revision = ma.fields.Integer(required=True)


class MessageSent(_Tolerant):
    message_id = ma.fields.Raw(required=True)
    sender = _Username()
    recipient = _Username()
    conversation_with = ma.fields.String(load_default=None)
    subject = _Text()
    body = ma.fields.String(load_default="")


class ReviewEvent(_Tolerant):
    review_id = ma.fields.Raw(load_default=None)
    username = _Username()
    owner = _Name()
    repo = _Name()
    package = _Name()
    rating = ma.fields.Integer(load_default=None, allow_none=True)
    title = _Text()


class ReviewReplied(_Tolerant):
    review_id = ma.fields.Raw(load_default=None)
    owner = _Name()
    repo = _Name()
    package = _Name()
    reviewer = _Username()
    replier = _Username()
    body = ma.fields.String(load_default="")


class CommentPosted(_Tolerant):
    comment_id = ma.fields.Raw(load_default=None)
    username = _Username()
    owner = _Name()
    repo = _Name()
    package = _Name()
    version = _Name()
    body = ma.fields.String(load_default="")


# -- signing --------------------------------------------------------------------------------------

class KeyUploaded(_Tolerant):
    subject = _Name()
    subject_type = ma.fields.String(load_default="user")
    fingerprint = _Name()
    expires = _Time()


class KeyCleared(_Tolerant):
    subject = _Name()
    fingerprint = _Name(required=False)


class SigningFailed(_Tolerant):
    owner = _Name()
    repo = _Name()
    package = _Name()
    version = _Name()
    reason = ma.fields.String(load_default="")
    recipients = _Names()


# -- the notifier's own ---------------------------------------------------------------------------

def _user_ids(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(i, str) and 0 < len(i) <= 36 for i in value):
        raise ma.ValidationError("must be a list of user ids")


class ReleaseRef(_Tolerant):
    event_id = ma.fields.String(required=True)
    owner = _Name()
    repo = _Name()
    package = _Name()
    version = _Name()
    publisher = _Username()
    released = ma.fields.String(required=True)
    release_notes = _Text()
    private = ma.fields.Boolean(load_default=False)


class FanoutBatch(_Tolerant):
    release = ma.fields.Nested(ReleaseRef, required=True)
    batch = ma.fields.Integer(required=True)
    batches = ma.fields.Integer(required=True)
    recipients = ma.fields.Raw(required=True, validate=_user_ids)  # user ids, from the notifier itself


HandlerFunc = Callable[[UnitOfWork, CloudEvent, dict[str, Any]], None]


def queues(options: Options) -> list[ConsumerQueue]:
    base = options.base_url.rstrip("/")

    def on_user_registered(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        now = uow.clock()
        use_cases.welcome(uow, event_id=event.id, user_id=data["user_id"], username=data["username"],
                          email=data["email"], registered=data["registered"] or now, now=now)

    def on_email_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        now = uow.clock()
        use_cases.change_email(uow, event_id=event.id, user_id=data["user_id"], username=data["username"],
                               email=data["email"], previous_email=data["previous_email"],
                               changed_at=event_time(event, now), now=now)

    def on_preferences_changed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
        use_cases.change_preferences(uow, user_id=data["user_id"], username=data["username"],
                                     preferences=use_cases.Preferences(
                                         show_email=data["show_email"],
                                         release_alerts_email=data["release_alerts_email"],
                                         news_email=data["news_email"], revision=data["revision"]))

    def on_profile_updated(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
        if data["time_zone"] is not None:
            use_cases.set_time_zone(uow, user_id=data["user_id"], time_zone=data["time_zone"], strict=False)

    def on_password_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        use_cases.tell_password_changed(uow, event_id=event.id, user_id=data["user_id"], username=data["username"],
                                        email=data["email"], reset=data["reset"],
                                        api_key_revoked=data["api_key_revoked"], now=uow.clock())

    def on_password_reset_requested(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        use_cases.send_password_reset(uow, event_id=event.id, user_id=data["user_id"], username=data["username"],
                                      email=data["email"], token_ciphertext=data["token_ciphertext"],
                                      expires_at=data["expires_at"], now=uow.clock())

    def on_user_deleted(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
        username = use_cases.forget_recipient(uow, user_id=data["user_id"], now=uow.clock())
        subscriptions.forget_user(uow, username or data["username"])

    def on_api_key_issued(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        webhooks.set_api_key(uow, username=data["username"], key_ciphertext=data["api_key_ciphertext"],
                             at=event_time(event, uow.clock()))

    def on_api_key_revoked(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        webhooks.set_api_key(uow, username=data["username"], key_ciphertext=None, at=event_time(event, uow.clock()))

    def on_org_created(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
        if data["owner"]:
            subscriptions.apply_membership(uow, org=data["name"], username=data["owner"], role="owner", revision=0)

    def on_org_deleted(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
        subscriptions.forget_org(uow, data["name"])

    def on_member_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        role = None if event.type.endswith(".removed") else data["role"]
        subscriptions.apply_membership(uow, org=data["org"], username=data["username"], role=role,
                                       revision=data["revision"])

    def on_version_released(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        rel = fanout.Release(event_id=event.id, owner=data["owner"], repo=data["repo"], package=data["package"],
                             version=data["version"], publisher=data["publisher"],
                             released=fanout.released_time(data["released"] or event.time),
                             release_notes=data["release_notes"], private=data["private"])
        fanout.release(uow, rel, base=base, batch_size=options.batch_size, now=uow.clock(),
                       max_attempts=options.webhook_max_attempts)

    def on_fanout_batch(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
        rel = fanout.Release(**data["release"])
        fanout.batch(uow, rel, data["recipients"], base=base, now=uow.clock())

    def on_webhook_registered(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        webhooks.register(uow, owner=data["owner"], repo=data["repo"], package=data["package"],
                          username=data["username"], url=data["url"], method=data["method"],
                          registered=data["registered"] or event_time(event, uow.clock()),
                          secret_ciphertext=data["secret_ciphertext"],
                          webhook_id=str(data["webhook_id"]) if data["webhook_id"] is not None else None)

    def on_webhook_deleted(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        webhooks.unregister(uow, owner=data["owner"], repo=data["repo"], package=data["package"],
                            username=data["username"], at=event_time(event, uow.clock()))

    def on_webhook_test_requested(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        released = data["released"]
        webhooks.queue_test_call(uow, event_id=event.id, owner=data["owner"], repo=data["repo"],
                                 package=data["package"], version=data["version"], username=data["username"],
                                 url=data["url"], method=data["method"],
                                 released=fanout.released_time(released) if released else None,
                                 release_notes=data["release_notes"], now=uow.clock())

    def on_catalog_notice(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        activity.catalog_notice(uow, event.type, event.id, data, base=base, now=uow.clock())

    def on_watch(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        chosen = data["filter"] or {}
        subscriptions.apply_watch(uow, username=data["username"], owner=data["owner"], repo=data["repo"],
                                  package=data["package"], active=event.type.endswith(".started"),
                                  private=data["private"], filter_kind=chosen.get("kind"),
                                  filter_pattern=chosen.get("pattern"), revision=data["revision"])

    def on_follow(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        subscriptions.apply_follow(uow, follower=data["follower"], followee=data["followee"],
                                   followee_type=data["followee_type"], active=event.type.endswith(".started"),
                                   revision=data["revision"], event_id=event.id, base=base, now=uow.clock())

    def on_social(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        activity.social_notice(uow, event.type, event.id, data, base=base, now=uow.clock())

    def on_key_uploaded(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
        activity.key_uploaded(uow, subject=data["subject"], subject_type=data["subject_type"],
                              fingerprint=data["fingerprint"], expires=data["expires"])

    def on_key_cleared(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
        activity.key_cleared(uow, subject=data["subject"], fingerprint=data["fingerprint"])

    def on_signing_failed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
        activity.signing_failed(uow, event.id, data, base=base, now=uow.clock())

    catalog_notices = ("catalog.claim.filed", "catalog.claim.consented", "catalog.claim.objected",
                       "catalog.claim.withdrawn", "catalog.claim.decided", "catalog.inclusion.requested",
                       "catalog.inclusion.approved", "catalog.inclusion.rejected")
    return [
        ConsumerQueue(ACCOUNTS_QUEUE, (
            Handler("identity.user.registered", on_user_registered, UserRegistered),
            Handler("identity.user.email_changed", on_email_changed, EmailChanged),
            Handler("identity.user.preferences_changed", on_preferences_changed, PreferencesChanged),
            Handler("identity.user.profile_updated", on_profile_updated, ProfileUpdated),
            Handler("identity.user.password_reset_requested", on_password_reset_requested, PasswordResetRequested),
            Handler("identity.user.password_changed", on_password_changed, PasswordChanged),
            Handler("identity.user.deleted", on_user_deleted, UserDeleted),
            Handler("identity.api_key.issued", on_api_key_issued, ApiKeyChanged),
            Handler("identity.api_key.revoked", on_api_key_revoked, ApiKeyChanged),
            Handler("identity.org.created", on_org_created, OrgEvent),
            Handler("identity.org.deleted", on_org_deleted, OrgEvent),
            Handler("identity.member.added", on_member_changed, MemberEvent),
            Handler("identity.member.role_changed", on_member_changed, MemberEvent),
            Handler("identity.member.removed", on_member_changed, MemberEvent),
        )),
        ConsumerQueue(RELEASES_QUEUE, (
            Handler("catalog.version.released", on_version_released, VersionReleased),
            Handler("catalog.webhook.registered", on_webhook_registered, WebhookRegistered),
            Handler("catalog.webhook.deleted", on_webhook_deleted, WebhookDeleted),
            Handler("catalog.webhook.test_requested", on_webhook_test_requested, WebhookTestRequested),
            *(Handler(t, on_catalog_notice, CatalogNotice) for t in catalog_notices),
        )),
        ConsumerQueue(SOCIAL_QUEUE, (
            Handler("social.watch.started", on_watch, WatchEvent),
            Handler("social.watch.stopped", on_watch, WatchEvent),
            Handler("social.follow.started", on_follow, FollowEvent),
            Handler("social.follow.stopped", on_follow, FollowEvent),
            Handler("social.message.sent", on_social, MessageSent),
            Handler("social.review.posted", on_social, ReviewEvent),
            Handler("social.review.replied", on_social, ReviewReplied),
            Handler("social.comment.posted", on_social, CommentPosted),
        )),
        ConsumerQueue(SIGNING_QUEUE, (
            Handler("signing.key.uploaded", on_key_uploaded, KeyUploaded),
            Handler("signing.key.cleared", on_key_cleared, KeyCleared),
            Handler("signing.version.signing_failed", on_signing_failed, SigningFailed),
        )),
        ConsumerQueue(FANOUT_QUEUE, (
            Handler("notifier.fanout.batch_planned", on_fanout_batch, FanoutBatch),
        )),
    ]


QUEUES = queues(Options())
