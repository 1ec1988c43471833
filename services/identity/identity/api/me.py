"""The caller's own account: ``/me`` and ``/me/...`` (Bintray's profile forms, as JSON)."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from identity import queries, schemas, use_cases
from identity.api.web import authenticated, change, client_address, ident, read
from packyard.errors import TooLarge
from packyard.web import require_principal, success

me = Blueprint("me", __name__, url_prefix="/me", description="The caller's own account")


@me.route("")
class Me(MethodView):
    @me.response(200, schemas.UserSchema)
    def get(self) -> Any:
        """My user JSON, with every field."""
        caller = require_principal()
        return read(lambda session: queries.get_user(session, caller.username, caller))

    @authenticated
    @me.arguments(schemas.PasswordSchema)
    @me.response(200, schemas.MessageSchema)
    def delete(self, body: dict[str, Any]) -> Any:
        """Delete my account (needs my password). Every service forgets me; my name is never reused."""
        caller = require_principal()
        cmd = use_cases.DeleteAccount(user_id=caller.user_id, password=body["password"], address=client_address())
        change(lambda uow: ident().delete_account(uow, cmd))
        return success()


@me.route("/profile")
class MyProfile(MethodView):
    @me.response(200, schemas.ProfileSchema)
    def get(self) -> Any:
        """My profile, preferences and which fields I hide."""
        caller = require_principal()
        return read(lambda session: queries.get_profile(session, caller.user_id))

    @authenticated
    @me.arguments(schemas.ProfileUpdateSchema)
    @me.response(200, schemas.ProfileSchema)
    def patch(self, body: dict[str, Any]) -> Any:
        """Change any of my profile fields; a new email address needs my current ``password``."""
        caller = require_principal()
        cmd = use_cases.UpdateProfile(user_id=caller.user_id, changes=body, address=client_address())
        change(lambda uow: ident().update_profile(uow, cmd))
        return read(lambda session: queries.get_profile(session, caller.user_id))


def _uploaded_image(limit: int) -> bytes:
    request = flask.request
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise TooLarge(f"The avatar must be at most {limit // 1024} KiB")
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("avatar") or request.files.get("file")
        return upload.stream.read(limit + 1) if upload else b""
    return request.stream.read(limit + 1)


@me.route("/avatar")
class MyAvatar(MethodView):
    @me.doc(requestBody={"description": "a PNG, JPEG or GIF image, as the body or as the form field 'avatar'",
                         "content": {"image/png": {}, "image/jpeg": {}, "image/gif": {},
                                     "multipart/form-data": {}}})
    @me.response(200, schemas.ProfileSchema)
    def put(self) -> Any:
        """Upload my avatar: it is decoded, cropped square, resized and re-encoded."""
        caller = require_principal()
        data = _uploaded_image(ident().settings.avatar_max_bytes)
        change(lambda uow: ident().set_avatar(uow, caller.user_id, data))
        return read(lambda session: queries.get_profile(session, caller.user_id))

    @me.response(200, schemas.MessageSchema)
    def delete(self) -> Any:
        """Remove my avatar; the generated one is shown again."""
        caller = require_principal()
        change(lambda uow: use_cases.remove_avatar(uow, caller.user_id))
        return success()


@me.route("/accounts")
class MyLinkedAccounts(MethodView):
    @me.response(200, schemas.LinkedAccountsSchema)
    def get(self) -> Any:
        """My usernames on Twitter, GitHub, Google and Bitbucket."""
        caller = require_principal()
        return read(lambda session: queries.get_linked_accounts(session, caller.user_id))

    @authenticated
    @me.arguments(schemas.LinkedAccountsSchema)
    @me.response(200, schemas.LinkedAccountsSchema)
    def put(self, body: dict[str, str]) -> Any:
        """Replace my linked accounts; a service left out is unlinked."""
        caller = require_principal()
        change(lambda uow: use_cases.update_linked_accounts(uow, caller.user_id, body))
        return read(lambda session: queries.get_linked_accounts(session, caller.user_id))


@me.route("/password")
class MyPassword(MethodView):
    @authenticated
    @me.arguments(schemas.PasswordChangeSchema)
    @me.response(200, schemas.PasswordChangedSchema)
    def put(self, body: dict[str, Any]) -> Any:
        """Change my password. Bearer tokens issued before stop working; a new one is returned."""
        caller = require_principal()
        cmd = use_cases.ChangePassword(user_id=caller.user_id, old_password=body["old_password"],
                                       new_password=body["new_password"], retype_password=body["retype_password"],
                                       address=client_address())
        token, expires_in = change(lambda uow: ident().change_password(uow, cmd))
        return {"message": "success", "token": token, "expires_in": expires_in}


@me.route("/apikey")
class MyApiKey(MethodView):
    @me.response(200, schemas.ApiKeySchema)
    def get(self) -> Any:
        """Show my API key (needs a password login from the last 15 minutes)."""
        caller = require_principal()
        i = ident()
        with i.uow() as uow:  # nothing to commit: showing changes nothing
            return {"api_key": i.show_api_key(uow, caller)}

    @me.response(201, schemas.ApiKeySchema)
    def post(self) -> Any:
        """Generate my API key (one at a time: 409 when one exists; needs a recent password login)."""
        caller = require_principal()
        return {"api_key": change(lambda uow: ident().create_api_key(uow, caller))}

    @me.response(200, schemas.ApiKeySchema)
    def put(self) -> Any:
        """Regenerate my API key (a forgotten or leaked one): the old key is refused at once; needs a recent
        password login."""
        caller = require_principal()
        return {"api_key": change(lambda uow: ident().regenerate_api_key(uow, caller))}

    @me.response(200, schemas.MessageSchema)
    def delete(self) -> Any:
        """Revoke my API key; it is refused at once."""
        caller = require_principal()
        change(lambda uow: use_cases.revoke_api_key(uow, caller))
        return success()


@me.route("/orgs")
class MyOrgs(MethodView):
    @me.response(200, schemas.MyOrgSchema(many=True))
    def get(self) -> Any:
        """The organizations I belong to, with my role in each."""
        caller = require_principal()
        return read(lambda session: queries.list_my_orgs(session, caller.user_id))


@me.route("/teams")
class MyTeams(MethodView):
    @me.response(200, schemas.MyTeamSchema(many=True))
    def get(self) -> Any:
        """The teams I am in."""
        caller = require_principal()
        return read(lambda session: queries.list_my_teams(session, caller.user_id))
