"""Events identity publishes on ``identity.events`` (routing key = type).

Consumers read them with their own tolerant schemas; these schemas validate what is
published. Adding an optional field is compatible; anything else is a new version.
``docs/events.md`` explains the conventions (``revision``, state-carrying team events,
``token_ciphertext``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma

from packyard.events import EventType, format_time

ROLES = ("owner", "admin", "member")


class Timestamp(ma.fields.DateTime):
    """ISO 8601 UTC with milliseconds and ``Z``, as every Packyard timestamp."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_time(value)


class UserRegisteredData(ma.Schema):
    user_id = ma.fields.String(required=True)
    username = ma.fields.String(required=True)
    email = ma.fields.Email(required=True)
    full_name = ma.fields.String(required=True)
    registered = Timestamp(required=True)


class UserData(ma.Schema):
    user_id = ma.fields.String(required=True)
    username = ma.fields.String(required=True)


class ProfileUpdatedData(UserData):
    full_name = ma.fields.String(required=True)
    changed = ma.fields.List(ma.fields.String(), required=True,
                             metadata={"description": "names of the profile fields that changed"})


class EmailChangedData(UserData):
    email = ma.fields.Email(required=True)
    previous_email = ma.fields.Email(required=True)


class PreferencesChangedData(UserData):
    show_email = ma.fields.Boolean(required=True)
    release_alerts_email = ma.fields.Boolean(required=True)
    news_email = ma.fields.Boolean(required=True)
    revision = ma.fields.Integer(required=True)


class PasswordResetRequestedData(UserData):
    email = ma.fields.Email(required=True)
    token_ciphertext = ma.fields.String(
        required=True, metadata={"description": "the reset token, Fernet-encrypted with MAIL_TOKEN_KEY"})
    expires_at = Timestamp(required=True)


class ApiKeyIssuedData(UserData):
    api_key_ciphertext = ma.fields.String(
        required=True, metadata={"description": "the API key, Fernet-encrypted with MAIL_TOKEN_KEY (the notifier "
                                                "signs webhook calls with it)"})


class PasswordChangedData(UserData):
    email = ma.fields.Email(required=True, metadata={"description": "where to tell the account's owner"})
    reset = ma.fields.Boolean(required=True, metadata={"description": "set through a reset link, not changed "
                                                                        "with the old password"})
    api_key_revoked = ma.fields.Boolean(required=True)
    changed = Timestamp(required=True)


class OrgCreatedData(ma.Schema):
    org_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    owner = ma.fields.String(required=True)
    owner_id = ma.fields.String(required=True)
    revision = ma.fields.Integer(required=True)


class OrgUpdatedData(ma.Schema):
    org_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    revision = ma.fields.Integer(required=True)


class OrgDeletedData(ma.Schema):
    org_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    revision = ma.fields.Integer(required=True)


class MemberRemovedData(ma.Schema):
    org_id = ma.fields.String(required=True)
    org = ma.fields.String(required=True)
    user_id = ma.fields.String(required=True)
    username = ma.fields.String(required=True)
    revision = ma.fields.Integer(required=True)


class MemberData(MemberRemovedData):
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))


class TeamDeletedData(ma.Schema):
    subject = ma.fields.String(required=True)
    subject_type = ma.fields.String(required=True, validate=ma.validate.OneOf(("org", "user")))
    team = ma.fields.String(required=True)
    revision = ma.fields.Integer(required=True)


class TeamData(TeamDeletedData):
    members = ma.fields.List(ma.fields.String(), required=True,
                             metadata={"description": "usernames: the whole membership after the change"})
    allow_repo_creation = ma.fields.Boolean(required=True)


USER_REGISTERED = EventType(
    "identity.user.registered", UserRegisteredData,
    description="A person created an account. Carries the address the welcome email goes to.")
USER_PROFILE_UPDATED = EventType(
    "identity.user.profile_updated", ProfileUpdatedData,
    description="A user changed profile fields (names, bio, company, location, website, linked accounts, "
                "privacy of those fields, avatar); `changed` names them.")
USER_EMAIL_CHANGED = EventType(
    "identity.user.email_changed", EmailChangedData,
    description="A user changed their email address; the notifier tells the new address.")
USER_PREFERENCES_CHANGED = EventType(
    "identity.user.preferences_changed", PreferencesChangedData,
    description="A user changed whether their email is shown and which emails they want. Carries all of them.")
USER_PASSWORD_RESET_REQUESTED = EventType(
    "identity.user.password_reset_requested", PasswordResetRequestedData,
    description="Somebody asked for a password-reset link for this account; the notifier mails it.")
USER_PASSWORD_CHANGED = EventType(
    "identity.user.password_changed", PasswordChangedData,
    description="A user's password was changed or reset: every login token issued before is refused; the "
                "notifier tells the owner by email.")
USER_DELETED = EventType(
    "identity.user.deleted", UserData,
    description="A user deleted their account: every service forgets or anonymizes them.")
API_KEY_ISSUED = EventType("identity.api_key.issued", ApiKeyIssuedData,
                           description="A user generated (or regenerated) an API key; it travels sealed.")
API_KEY_REVOKED = EventType("identity.api_key.revoked", UserData,
                            description="A user revoked their API key; it is refused from now on.")
ORG_CREATED = EventType("identity.org.created", OrgCreatedData,
                        description="An organization was created; its creator is its first owner.")
ORG_UPDATED = EventType("identity.org.updated", OrgUpdatedData, description="An organization's details changed.")
ORG_DELETED = EventType("identity.org.deleted", OrgDeletedData, description="An organization was deleted.")
MEMBER_ADDED = EventType("identity.member.added", MemberData,
                         description="A user became a member of an organization, with a role.")
MEMBER_ROLE_CHANGED = EventType("identity.member.role_changed", MemberData,
                                description="A member's role in an organization changed.")
MEMBER_REMOVED = EventType("identity.member.removed", MemberRemovedData,
                           description="A user left, or was removed from, an organization.")
TEAM_CREATED = EventType("identity.team.created", TeamData,
                         description="A team of an organization or user was created.")
TEAM_UPDATED = EventType("identity.team.updated", TeamData,
                         description="A team's members or repository-creation right changed (full member list).")
TEAM_DELETED = EventType("identity.team.deleted", TeamDeletedData, description="A team was deleted.")

ALL = [
    USER_REGISTERED, USER_PROFILE_UPDATED, USER_EMAIL_CHANGED, USER_PREFERENCES_CHANGED,
    USER_PASSWORD_RESET_REQUESTED, USER_PASSWORD_CHANGED, USER_DELETED, API_KEY_ISSUED, API_KEY_REVOKED,
    ORG_CREATED, ORG_UPDATED, ORG_DELETED, MEMBER_ADDED, MEMBER_ROLE_CHANGED, MEMBER_REMOVED,
    TEAM_CREATED, TEAM_UPDATED, TEAM_DELETED,
]
