"""For the gateway and the services only: request authentication and the token keys."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from identity.api.web import ident
from identity.authn import Authenticated, Authenticator
from identity.authn_epoch import EPOCH_HEADER
from packyard.errors import Unauthorized

internal = Blueprint("internal", __name__, description="For the gateway and the services only")


def authenticator() -> Authenticator:
    """This process's :class:`Authenticator` (it remembers the access tokens it minted)."""
    extensions = flask.current_app.extensions
    found = extensions.get("identity.authenticator")
    if found is None:
        i = ident()
        found = extensions.setdefault("identity.authenticator", Authenticator(
            i.platform.engine, i.vault, i.tokens, clock=lambda: i.clock().timestamp()))
    return found


def keepable_seconds(found: Authenticated) -> int:
    """How long the gateway may keep this answer (``X-Accel-Expires``): 0 without gateways to tell of
    revocations; never past ``AUTHN_CACHE_SECONDS``, nor so long that the token it hands out would be
    near its expiry, nor past the login token's expiry."""
    i = ident()
    if not i.epoch.announced or i.settings.authn_cache_seconds <= 0:
        return 0
    now = int(i.clock().timestamp())
    limit = min(i.settings.authn_cache_seconds, found.expires_at - now - i.tokens.access_ttl // 4)
    if found.login_expires_at is not None:
        limit = min(limit, found.login_expires_at - now)
    return max(0, limit)


@internal.route("/internal/authn")
class Authenticate(MethodView):
    @internal.doc(responses={
        "200": {"description": "valid credentials (the access token in X-Packyard-Token), or none at all; "
                               "X-Accel-Expires says how many seconds the gateway may keep the answer under "
                               "the current authentication epoch"},
        "401": {"description": "credentials that are malformed, unknown, revoked or expired",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}}}}})
    def get(self) -> Any:
        """nginx ``auth_request``: 200 with ``X-Packyard-Token`` for valid credentials, 401 otherwise."""
        header = flask.request.headers.get("Authorization", "")
        if not header:
            return flask.Response(status=200)
        try:
            found = authenticator().authenticate(header)
        except Unauthorized as exc:
            response = flask.jsonify(message=exc.message)
            response.status_code = 401
            response.headers["X-Accel-Expires"] = "0"
            return response
        response = flask.Response(status=200)
        response.headers["X-Packyard-Token"] = found.token
        response.headers["X-Accel-Expires"] = str(keepable_seconds(found))
        response.headers["Cache-Control"] = "no-store"
        return response


@internal.route("/internal/authn/epoch")
class Epoch(MethodView):
    @internal.doc(responses={
        "200": {"description": "the authentication epoch in X-Packyard-Epoch; X-Accel-Expires says how many "
                               "seconds the gateway may keep it before fetching it again"}})
    def get(self) -> Any:
        """The authentication epoch: the gateway keeps identity's answers under it (see identity.authn_epoch)."""
        i = ident()
        response = flask.Response(status=200)
        response.headers[EPOCH_HEADER] = str(i.epoch.current())
        response.headers["X-Accel-Expires"] = str(i.settings.authn_epoch_recheck_seconds)
        response.headers["Cache-Control"] = "no-store"
        return response


JWKS_RESPONSE = {"description": "The JSON Web Key Set (RFC 7517) of the keys that sign access tokens",
                 "content": {"application/json": {"schema": {
                     "type": "object", "required": ["keys"],
                     "properties": {"keys": {"type": "array", "items": {"type": "object"}}}}}}}


@internal.route("/.well-known/jwks.json")
class Jwks(MethodView):
    @internal.doc(responses={"200": JWKS_RESPONSE})
    def get(self) -> Any:
        """The public keys that verify access tokens."""
        i = ident()
        with i.uow() as uow:
            response = flask.jsonify(i.keyring.jwks(uow.session))
        response.headers["Cache-Control"] = "public, max-age=60"
        return response
