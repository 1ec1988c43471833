"""What the notifier listens to. So far: identity's account events, on ``notifier.accounts``.

Schemas here are the notifier's own, tolerant readings of identity's events (unknown fields
excluded); the notifier never imports another service's code. Handlers queue emails, they never
send them (see ``notifier.mail``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import marshmallow as ma

from notifier import use_cases
from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork
from packyard.events import CloudEvent

ACCOUNTS_QUEUE = "notifier.accounts"  # the KEDA scaler of the notifier's workers watches this name


def _Id() -> ma.fields.Field:  # noqa: N802 - a field factory, read like a type
    return ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))


def _Username() -> ma.fields.Field:  # noqa: N802
    return ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))


def _Time() -> ma.fields.Field:  # noqa: N802
    return ma.fields.AwareDateTime(load_default=None, default_timezone=timezone.utc)


class _Tolerant(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


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


class PasswordResetRequested(_Tolerant):
    user_id = _Id()
    username = _Username()
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    token_ciphertext = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4000))
    expires_at = _Time()


class UserDeleted(_Tolerant):
    user_id = _Id()


def _event_time(event: CloudEvent, fallback: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(event.time)
    except (TypeError, ValueError):
        return fallback
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def on_user_registered(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    now = uow.clock()
    use_cases.welcome(uow, event_id=event.id, user_id=data["user_id"], username=data["username"],
                      email=data["email"], registered=data["registered"] or now, now=now)


def on_email_changed(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    now = uow.clock()
    use_cases.change_email(uow, event_id=event.id, user_id=data["user_id"], username=data["username"],
                           email=data["email"], previous_email=data["previous_email"],
                           changed_at=_event_time(event, now), now=now)


def on_preferences_changed(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.change_preferences(uow, user_id=data["user_id"], username=data["username"],
                                 preferences=use_cases.Preferences(
                                     show_email=data["show_email"],
                                     release_alerts_email=data["release_alerts_email"],
                                     news_email=data["news_email"], revision=data["revision"]))


def on_password_reset_requested(uow: UnitOfWork, event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.send_password_reset(uow, event_id=event.id, user_id=data["user_id"], username=data["username"],
                                  email=data["email"], token_ciphertext=data["token_ciphertext"],
                                  expires_at=data["expires_at"], now=uow.clock())


def on_user_deleted(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    use_cases.forget_recipient(uow, user_id=data["user_id"], now=uow.clock())


QUEUES = [
    ConsumerQueue(ACCOUNTS_QUEUE, (
        Handler("identity.user.registered", on_user_registered, UserRegistered),
        Handler("identity.user.email_changed", on_email_changed, EmailChanged),
        Handler("identity.user.preferences_changed", on_preferences_changed, PreferencesChanged),
        Handler("identity.user.password_reset_requested", on_password_reset_requested, PasswordResetRequested),
        Handler("identity.user.deleted", on_user_deleted, UserDeleted),
    )),
]
