"""Request and response schemas of identity's HTTP API (marshmallow, documented in OpenAPI)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import marshmallow as ma

from identity import password_policy
from identity.models import HIDEABLE_FIELDS

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,48}[A-Za-z0-9]$")
TEAM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RESERVED_NAMES = frozenset({
    "me", "admin", "administrator", "root", "api", "auth", "dl", "internal", "orgs", "users", "repos",
    "packages", "content", "search", "webhooks", "stats", "gpg", "licenses", "packyard", "bintray",
    "support", "system", "_latest", "static", "openapi",
})
# Each service's own rules for its usernames.
ACCOUNT_RULES = {
    "twitter": (re.compile(r"^[A-Za-z0-9_]{1,15}$"),
                "a Twitter username has 1 to 15 letters, digits or '_'"),
    "github": (re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$"),
               "a GitHub username has 1 to 39 letters, digits or single hyphens, not at either end"),
    "google": (re.compile(r"^(?=.{6,30}$)[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*$"),
               "a Google username has 6 to 30 letters, digits or single periods, not at either end"),
    "bitbucket": (re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,29}$"),
                  "a Bitbucket username has 1 to 30 letters, digits, '-' or '_', starting with a letter or digit"),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def validate_username(value: str) -> None:
    if not USERNAME_RE.match(value):
        raise ma.ValidationError(
            "must be 3 to 50 characters: letters, digits, '-' or '_', starting and ending with a letter or digit")
    if value.lower() in RESERVED_NAMES:
        raise ma.ValidationError(f"'{value}' is reserved")


def validate_password(value: str) -> None:
    if len(value) < password_policy.MIN_LENGTH:
        raise ma.ValidationError(f"must be at least {password_policy.MIN_LENGTH} characters long")
    if len(value) > password_policy.MAX_LENGTH:
        raise ma.ValidationError(f"must be at most {password_policy.MAX_LENGTH} characters long")


def validate_team_name(value: str) -> None:
    if not TEAM_RE.match(value):
        raise ma.ValidationError("must be 1 to 64 characters: letters, digits, '.', '-' or '_', "
                                 "starting with a letter or digit")


def single_line(value: str) -> None:
    if _CONTROL.search(value):
        raise ma.ValidationError("must not contain control characters or line breaks")


def multi_line(value: str) -> None:
    if _CONTROL_BUT_NEWLINES.search(value):
        raise ma.ValidationError("must not contain control characters")


_url = ma.validate.URL(schemes={"http", "https"}, require_tld=True,
                       error="must be an http or https address, such as https://example.com")


def validate_website(value: str) -> None:
    if value:
        _url(value)


def Text(max_length: int, *, lines: bool = False, url: bool = False, **kwargs: Any) -> ma.fields.String:  # noqa: N802
    """A free-text field: stripped, length-limited, without control characters; null means empty."""
    validators: list[Callable[[Any], Any]] = [ma.validate.Length(max=max_length), multi_line if lines else single_line]
    if url:
        validators.append(validate_website)
    return ma.fields.String(validate=validators, allow_none=True, **kwargs)


class Request(ma.Schema):
    """Requests ignore unknown fields (Bintray clients send extra ones), strip text and read null as empty."""

    class Meta:
        unknown = ma.EXCLUDE

    @ma.post_load
    def _clean(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        for name, field in self.fields.items():
            key = field.attribute or name
            if isinstance(field, ma.fields.String) and key in data and name not in self.keep_as_sent:
                data[key] = (data[key] or "").strip()
        return data

    keep_as_sent: tuple[str, ...] = ()


# --- accounts and credentials ----------------------------------------------------------------

class SignUpSchema(Request):
    keep_as_sent = ("password",)

    username = ma.fields.String(required=True, validate=validate_username)
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate_password)
    full_name = Text(200, load_default="")


class LoginSchema(Request):
    keep_as_sent = ("password",)

    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=256))


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})


class PasswordChangedSchema(TokenSchema):
    message = ma.fields.String(required=True)


class ApiKeySchema(ma.Schema):
    api_key = ma.fields.String(required=True)


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)


class PasswordChangeSchema(Request):
    keep_as_sent = ("old_password", "new_password", "retype_password")

    old_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=256))
    new_password = ma.fields.String(required=True, load_only=True, validate=validate_password)
    retype_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=256))


class PasswordResetRequestSchema(Request):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))


class PasswordResetConfirmSchema(Request):
    keep_as_sent = ("token", "new_password")

    token = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=200))
    new_password = ma.fields.String(required=True, load_only=True, validate=validate_password)
    revoke_api_key = ma.fields.Boolean(load_default=False, load_only=True, metadata={
        "description": "also revoke the API key (when the account may have been taken over)"})


class PasswordSchema(Request):
    keep_as_sent = ("password",)

    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=256))


# --- users and profiles ----------------------------------------------------------------------

class UserSchema(ma.Schema):
    """Bintray's user JSON (``GET /users/:user``), plus the profile fields the viewer may see."""

    name = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    gravatar_id = ma.fields.String(metadata={"description": "absent when the email address is hidden"})
    repos = ma.fields.List(ma.fields.String(), required=True)
    organizations = ma.fields.List(ma.fields.String(), required=True)
    followers_count = ma.fields.Integer(required=True)
    registered = ma.fields.String(required=True)
    quota_used_bytes = ma.fields.Integer(metadata={"description": "only to the user themself"})
    avatar_url = ma.fields.String()
    bio = ma.fields.String(metadata={"description": "absent when its owner hides it"})
    company = ma.fields.String(metadata={"description": "absent when its owner hides it"})
    location = ma.fields.String(metadata={"description": "absent when its owner hides it"})
    website = ma.fields.String(metadata={"description": "absent when its owner hides it"})
    accounts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                              metadata={"description": "linked accounts their owner shows"})
    email = ma.fields.String(metadata={"description": "only when its owner shows it, and to the owner"})


class SearchUsersArgs(Request):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    start_pos = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=1_000_000))


class ProfileSchema(ma.Schema):
    username = ma.fields.String(required=True)
    first_name = ma.fields.String(required=True)
    last_name = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    bio = ma.fields.String(required=True)
    company = ma.fields.String(required=True)
    location = ma.fields.String(required=True)
    website = ma.fields.String(required=True)
    show_email = ma.fields.Boolean(required=True)
    release_alerts_email = ma.fields.Boolean(required=True)
    news_email = ma.fields.Boolean(required=True)
    hidden_fields = ma.fields.List(ma.fields.String(), required=True)
    gravatar_id = ma.fields.String(required=True)
    avatar_url = ma.fields.String(required=True)
    has_avatar = ma.fields.Boolean(required=True)
    registered = ma.fields.String(required=True)


class ProfileUpdateSchema(Request):
    """Any subset of the profile; changing ``email`` needs the current ``password``."""

    keep_as_sent = ("password",)

    first_name = Text(100)
    last_name = Text(100)
    email = ma.fields.Email(validate=ma.validate.Length(max=254))
    password = ma.fields.String(load_only=True, validate=ma.validate.Length(min=1, max=256),
                                metadata={"description": "the current password; needed to change the email"})
    bio = Text(1000, lines=True)
    company = Text(100)
    location = Text(100)
    website = Text(500, url=True)
    show_email = ma.fields.Boolean()
    release_alerts_email = ma.fields.Boolean()
    news_email = ma.fields.Boolean()
    hidden_fields = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(HIDEABLE_FIELDS,
                                                    error="must be one of: " + ", ".join(HIDEABLE_FIELDS))),
        validate=ma.validate.Length(max=len(HIDEABLE_FIELDS) * 2),
        metadata={"description": "personal fields others may not see; email has show_email instead"})


class LinkedAccountsSchema(Request):
    """Usernames on other services; a service left out or empty is unlinked."""

    twitter = ma.fields.String(allow_none=True, load_default="")
    github = ma.fields.String(allow_none=True, load_default="")
    google = ma.fields.String(allow_none=True, load_default="")
    bitbucket = ma.fields.String(allow_none=True, load_default="")

    @ma.post_load
    def _check(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        for name, (pattern, rule) in ACCOUNT_RULES.items():
            value = (data.get(name) or "").strip()
            if name == "twitter":
                value = value.removeprefix("@")
            if value and not pattern.match(value):
                errors[name] = [rule]
            data[name] = value
        if errors:
            raise ma.ValidationError(errors)
        return data


# --- organizations and teams -----------------------------------------------------------------

class OrgCreateSchema(Request):
    name = ma.fields.String(required=True, validate=validate_username)
    full_name = Text(200, load_default="")
    desc = Text(1000, lines=True, load_default="")
    website = Text(500, url=True, load_default="")


class OrgUpdateSchema(Request):
    full_name = Text(200)
    desc = Text(1000, lines=True)
    website = Text(500, url=True)


class OrgMemberSchema(ma.Schema):
    name = ma.fields.String(required=True)
    type = ma.fields.String(metadata={"description": "owner, admin or member; only to the org's admins"})


class OrgSchema(ma.Schema):
    """Bintray's organization JSON (``GET /orgs/:org``), plus ``desc`` and ``website``."""

    name = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    owner = ma.fields.String(allow_none=True)
    repos = ma.fields.List(ma.fields.String(), required=True)
    followers_count = ma.fields.Integer(required=True)
    registered = ma.fields.String(required=True)
    members = ma.fields.List(ma.fields.Nested(OrgMemberSchema), required=True)
    teams = ma.fields.List(ma.fields.String(), metadata={"description": "only to the org's admins"})
    quota_used_bytes = ma.fields.Integer(metadata={"description": "only to the org's admins"})
    desc = ma.fields.String()
    website = ma.fields.String()


class MemberAddSchema(Request):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    role = ma.fields.String(load_default="member", validate=ma.validate.OneOf(
        ("admin", "member"), error="must be admin or member (owners are made by changing a member's role)"))


class MemberRoleSchema(Request):
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(
        ("owner", "admin", "member"), error="must be owner, admin or member"))


class MyOrgSchema(ma.Schema):
    name = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)



class TeamCreateSchema(Request):
    name = ma.fields.String(required=True, validate=validate_team_name)
    members = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=50)),
                             validate=ma.validate.Length(max=1000), load_default=list,
                             metadata={"description": "usernames"})
    allow_repo_creation = ma.fields.Boolean(load_default=False)


class TeamUpdateSchema(Request):
    members = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=50)),
                             validate=ma.validate.Length(max=1000), metadata={"description": "usernames"})
    allow_repo_creation = ma.fields.Boolean()


class TeamSchema(ma.Schema):
    name = ma.fields.String(required=True)
    members = ma.fields.List(ma.fields.String(), required=True)
    permitted_repos = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True,
                                     metadata={"description": "repository → read, publish or admin (from catalog)"})
    allow_repo_creation = ma.fields.Boolean(required=True)


class TeamListSchema(ma.Schema):
    teams = ma.fields.List(ma.fields.String(), required=True)


class MyTeamSchema(TeamSchema):
    subject = ma.fields.String(required=True)
    subject_type = ma.fields.String(required=True)
