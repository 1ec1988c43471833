"""Identity's HTTP API. Views parse, call one use case through ``web.change`` (which commits), and shape the answer."""

from identity.api.accounts import auth
from identity.api.internal import internal
from identity.api.me import me
from identity.api.orgs import orgs
from identity.api.users import search, users

BLUEPRINTS = [auth, me, users, search, orgs, internal]

__all__ = ["BLUEPRINTS"]
