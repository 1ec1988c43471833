"""For the gateway and the services only: request authentication and the token keys."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from identity.api.web import ident
from identity.authn import Authenticator
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


@internal.route("/internal/authn")
class Authenticate(MethodView):
    @internal.doc(responses={
        "200": {"description": "valid credentials (the access token in X-Packyard-Token), or none at all"},
        "401": {"description": "credentials that are malformed, unknown, revoked or expired",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}}}}})
    def get(self) -> Any:
        """nginx ``auth_request``: 200 with ``X-Packyard-Token`` for valid credentials, 401 otherwise."""
        header = flask.request.headers.get("Authorization", "")
        if not header:
            return flask.Response(status=200)
        try:
            token = authenticator().authenticate(header)
        except Unauthorized as exc:
            response = flask.jsonify(message=exc.message)
            response.status_code = 401
            return response
        response = flask.Response(status=200)
        response.headers["X-Packyard-Token"] = token
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
