"""Users as others see them (Bintray ``/users/:user``, ``/search/users``) and their avatars."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from identity import queries, schemas
from identity.api.web import ident, read
from packyard.paging import RANGE_HEADERS, Page
from packyard.web import current_principal

users = Blueprint("users", __name__, url_prefix="/users", description="Users (Bintray API)")
search = Blueprint("search", __name__, url_prefix="/search", description="Finding users (Bintray API)")


@users.route("/<string:username>")
class UserResource(MethodView):
    @users.response(200, schemas.UserSchema)
    def get(self, username: str) -> Any:
        """A user (Bintray ``GET /users/:user``): others see only the fields the owner shows."""
        viewer = current_principal()
        return read(lambda session: queries.get_user(session, username, viewer))


@users.route("/<string:username>/avatar")
class UserAvatar(MethodView):
    @users.doc(responses={"200": {"description": "the avatar (PNG or JPEG); a generated identicon when none "
                                                 "was uploaded", "content": {"image/png": {}, "image/jpeg": {}}},
                          "304": {"description": "not modified: the avatar still has the ETag sent in If-None-Match"}})
    def get(self, username: str) -> Any:
        """A user's avatar."""
        image = read(lambda session: queries.get_avatar(session, username)) or ident().avatars.identicon(username)
        response = flask.Response(image.content, content_type=image.content_type)
        response.set_etag(image.etag)
        response.headers["Cache-Control"] = "public, max-age=300"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response.make_conditional(flask.request)


@search.route("/users")
class SearchUsers(MethodView):
    @search.arguments(schemas.SearchUsersArgs, location="query")
    @search.response(200, schemas.UserSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """Users whose username or full name contains ``name`` (Bintray, ``start_pos`` pagination)."""
        viewer = current_principal()
        found, total = read(lambda session: queries.search_users(session, args["name"], args["start_pos"], viewer))
        return Page(found, total, args["start_pos"]).response()
