"""Sign-up, login and forgotten passwords: ``/auth/...``."""

from __future__ import annotations

from typing import Any

import flask
import jwt
from flask.views import MethodView
from flask_smorest import Blueprint

from identity import queries, schemas, use_cases
from identity.api.web import change, client_address, ident, read
from packyard.auth import Principal
from packyard.web import ErrorSchema, require_principal, success

auth = Blueprint("auth", __name__, url_prefix="/auth", description="Sign up, log in, reset a forgotten password")

DEVICE_COOKIE = "packyard_device"
DEVICE_COOKIE_AGE = 400 * 24 * 3600
RESET_SENT = "If an account uses this address, a link to reset its password has been sent to it"


@auth.route("/signup")
class SignUp(MethodView):
    @auth.arguments(schemas.SignUpSchema)
    @auth.response(201, schemas.UserSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create an account."""
        user = change(lambda uow: ident().register_user(uow, use_cases.SignUp(**body), client_address()))
        # the account's creator sees it as its owner does
        owner = Principal(username=user.username, user_id=user.id, method="password")
        return read(lambda session: queries.get_user(session, user.username, owner))


@auth.route("/login")
class Login(MethodView):
    @auth.arguments(schemas.LoginSchema)
    @auth.response(200, schemas.TokenSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Exchange a username (or email) and password for a bearer token.

        Repeated failures for a username or from an address answer 429 with ``Retry-After``.
        """
        cmd = use_cases.LogIn(username=body["username"], password=body["password"], address=client_address(),
                              device_token=flask.request.cookies.get(DEVICE_COOKIE))
        done = change(lambda uow: ident().log_in(uow, cmd))
        response = flask.make_response({"token": done.token, "expires_in": done.expires_in})
        # The device cookie: a client that logged in before is never kept out by failures elsewhere.
        response.set_cookie(DEVICE_COOKIE, done.device, max_age=DEVICE_COOKIE_AGE, path="/auth/login",
                            httponly=True, samesite="Strict",
                            secure=flask.request.headers.get("X-Forwarded-Proto", flask.request.scheme) == "https")
        return response


@auth.route("/logout")
class Logout(MethodView):
    @auth.response(200, schemas.MessageSchema)
    @auth.alt_response(400, schema=ErrorSchema, description="The credentials are an API key, not a login token")
    @auth.alt_response(401, schema=ErrorSchema, description="Not logged in")
    def post(self) -> Any:
        """Log out: the bearer token from ``/auth/login`` behind this request is refused from now on, everywhere.

        Other login tokens of the same account (other devices) stay valid; changing the password ends them all.
        """
        require_principal()  # a verified access token; its sid claims name the login token behind it
        claims = jwt.decode(flask.request.headers["Authorization"].partition(" ")[2].strip(),
                            options={"verify_signature": False})
        sid, sid_exp = claims.get("sid"), claims.get("sid_exp")
        change(lambda uow: ident().log_out(uow, str(sid) if sid else None,
                                           int(sid_exp) if isinstance(sid_exp, int) else None))
        return success()


@auth.route("/password-reset")
class PasswordReset(MethodView):
    @auth.arguments(schemas.PasswordResetRequestSchema)
    @auth.response(202, schemas.MessageSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Ask for a password-reset link by email. Answers the same whether or not the address is known."""
        change(lambda uow: ident().request_password_reset(uow, body["email"]))
        return {"message": RESET_SENT}


@auth.route("/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    @auth.arguments(schemas.PasswordResetConfirmSchema)
    @auth.response(200, schemas.MessageSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Set a new password with the token of a reset link; every earlier login token stops working."""
        cmd = use_cases.ConfirmPasswordReset(token=body["token"], new_password=body["new_password"],
                                             revoke_api_key=body["revoke_api_key"])
        change(lambda uow: ident().confirm_password_reset(uow, cmd))
        return success()
