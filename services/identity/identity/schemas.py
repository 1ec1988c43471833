"""Request and response schemas of identity's HTTP API (marshmallow, documented in OpenAPI)."""

from __future__ import annotations

import re

import marshmallow as ma

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,48}[A-Za-z0-9]$")
RESERVED_NAMES = frozenset({
    "me", "admin", "administrator", "root", "api", "auth", "dl", "internal", "orgs", "users", "repos",
    "packages", "content", "search", "webhooks", "stats", "gpg", "licenses", "packyard", "bintray",
    "support", "system", "_latest", "static", "openapi",
})


def validate_username(value: str) -> None:
    if not USERNAME_RE.match(value):
        raise ma.ValidationError(
            "must be 3 to 50 characters: letters, digits, '-' or '_', starting and ending with a letter or digit")
    if value.lower() in RESERVED_NAMES:
        raise ma.ValidationError(f"'{value}' is reserved")


def validate_password(value: str) -> None:
    if len(value) < 8:
        raise ma.ValidationError("must be at least 8 characters long")
    if len(value) > 256:
        raise ma.ValidationError("must be at most 256 characters long")


class SignUpSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    username = ma.fields.String(required=True, validate=validate_username)
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate_password)
    full_name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))


class LoginSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=256))


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})


class ApiKeySchema(ma.Schema):
    api_key = ma.fields.String(required=True)


class UserSchema(ma.Schema):
    """Bintray's user JSON (``GET /users/:user``)."""

    name = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    gravatar_id = ma.fields.String(required=True)
    repos = ma.fields.List(ma.fields.String(), required=True)
    organizations = ma.fields.List(ma.fields.String(), required=True)
    followers_count = ma.fields.Integer(required=True)
    registered = ma.fields.String(required=True)
    quota_used_bytes = ma.fields.Integer(metadata={"description": "only to the user themself"})
