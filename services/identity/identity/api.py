"""Identity's HTTP API. Views parse, call one use case, and shape the answer; they never commit."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from identity import queries, schemas, use_cases
from packyard.errors import Unauthorized
from packyard.web import require_principal, current_principal, success


def _identity() -> Any:
    return flask.current_app.extensions["identity"]


auth = Blueprint("auth", __name__, url_prefix="/auth", description="Sign up and log in")
me = Blueprint("me", __name__, url_prefix="/me", description="The caller's own account")
users = Blueprint("users", __name__, url_prefix="/users", description="Users (Bintray API)")
internal = Blueprint("internal", __name__, description="For the gateway and the services only")


@auth.route("/signup")
class SignUp(MethodView):
    @auth.arguments(schemas.SignUpSchema)
    @auth.response(201, schemas.UserSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create an account."""
        ident = _identity()
        with ident.uow() as uow:
            user = use_cases.register_user(uow, ident.passwords, use_cases.SignUp(**body), ident.clock())
            uow.commit()
        with ident.uow() as uow:
            return queries.get_user(uow.session, user.username, None)


@auth.route("/login")
class Login(MethodView):
    @auth.arguments(schemas.LoginSchema)
    @auth.response(200, schemas.TokenSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Exchange a username (or email) and password for a bearer token."""
        ident = _identity()
        with ident.uow() as uow:
            token, expires_in = use_cases.log_in(uow, ident.passwords, ident.tokens, body["username"],
                                                 body["password"], ident.clock())
            uow.commit()
        return {"token": token, "expires_in": expires_in}


@me.route("/apikey")
class MyApiKey(MethodView):
    @me.response(200, schemas.ApiKeySchema)
    def get(self) -> Any:
        """Show my API key."""
        caller = require_principal()
        ident = _identity()
        with ident.uow() as uow:
            return {"api_key": use_cases.show_api_key(uow, ident.vault, caller.user_id)}

    @me.response(201, schemas.ApiKeySchema)
    def post(self) -> Any:
        """Generate my API key (one at a time: 409 when one exists)."""
        caller = require_principal()
        ident = _identity()
        with ident.uow() as uow:
            api_key = use_cases.create_api_key(uow, ident.vault, caller.user_id, ident.clock())
            uow.commit()
        return {"api_key": api_key}

    def delete(self) -> Any:
        """Revoke my API key; it is refused at once."""
        caller = require_principal()
        ident = _identity()
        with ident.uow() as uow:
            use_cases.revoke_api_key(uow, caller.user_id)
            uow.commit()
        return success()


@users.route("/<string:username>")
class UserResource(MethodView):
    @users.response(200, schemas.UserSchema)
    def get(self, username: str) -> Any:
        """A user (Bintray ``GET /users/:user``)."""
        ident = _identity()
        with ident.uow() as uow:
            return queries.get_user(uow.session, username, current_principal())


@internal.route("/internal/authn")
class Authenticate(MethodView):
    def get(self) -> Any:
        """nginx ``auth_request``: 200 with ``X-Packyard-Token`` for valid credentials, 401 otherwise."""
        header = flask.request.headers.get("Authorization", "")
        if not header:
            return flask.Response(status=200)
        ident = _identity()
        try:
            with ident.uow() as uow:
                token = use_cases.authenticate(uow, ident.vault, ident.tokens, header, ident.clock())
        except Unauthorized as exc:
            response = flask.jsonify(message=exc.message)
            response.status_code = 401
            return response
        response = flask.Response(status=200)
        response.headers["X-Packyard-Token"] = token
        response.headers["Cache-Control"] = "no-store"
        return response


@internal.route("/.well-known/jwks.json")
class Jwks(MethodView):
    def get(self) -> Any:
        """The public keys that verify access tokens."""
        ident = _identity()
        with ident.uow() as uow:
            response = flask.jsonify(ident.keyring.jwks(uow.session))
        response.headers["Cache-Control"] = "public, max-age=60"
        return response


BLUEPRINTS = [auth, me, users, internal]
