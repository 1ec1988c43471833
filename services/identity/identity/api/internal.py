"""For the gateway and the services only: request authentication and the token keys."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from identity import use_cases
from identity.api.web import ident
from packyard.errors import Unauthorized

internal = Blueprint("internal", __name__, description="For the gateway and the services only")


@internal.route("/internal/authn")
class Authenticate(MethodView):
    def get(self) -> Any:
        """nginx ``auth_request``: 200 with ``X-Packyard-Token`` for valid credentials, 401 otherwise."""
        header = flask.request.headers.get("Authorization", "")
        if not header:
            return flask.Response(status=200)
        i = ident()
        try:
            with i.uow() as uow:
                token = use_cases.authenticate(uow, i.vault, i.tokens, header, i.clock())
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
