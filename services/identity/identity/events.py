"""Events identity publishes on ``identity.events`` (routing key = type).

Consumers read them with their own tolerant schemas; these schemas validate what is
published. Adding an optional field is compatible; anything else is a new version.
"""

from __future__ import annotations

import marshmallow as ma

from packyard.events import EventType


class UserRegisteredData(ma.Schema):
    user_id = ma.fields.String(required=True)
    username = ma.fields.String(required=True)
    email = ma.fields.Email(required=True)
    full_name = ma.fields.String(required=True)
    registered = ma.fields.DateTime(required=True)


class ApiKeyData(ma.Schema):
    user_id = ma.fields.String(required=True)
    username = ma.fields.String(required=True)


USER_REGISTERED = EventType(
    "identity.user.registered", UserRegisteredData,
    description="A person created an account. Carries the address the welcome email goes to.")
API_KEY_ISSUED = EventType("identity.api_key.issued", ApiKeyData, description="A user generated an API key.")
API_KEY_REVOKED = EventType("identity.api_key.revoked", ApiKeyData,
                            description="A user revoked their API key; it is refused from now on.")

ALL = [USER_REGISTERED, API_KEY_ISSUED, API_KEY_REVOKED]
