"""Social's HTTP API. Views parse, call one query or use case, and shape the answer; they never commit."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from packyard.paging import RANGE_HEADERS, PageArgs
from social import queries, schemas


def _social() -> Any:
    return flask.current_app.extensions["social"]


users = Blueprint("activity", __name__, url_prefix="/users", description="What users did")


@users.route("/<string:username>/activity")
class UserActivity(MethodView):
    @users.arguments(PageArgs, location="query")
    @users.response(200, schemas.ActivitySchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any], username: str) -> Any:
        """A user's activity log, newest first (``?start_pos``, 50 a page)."""
        with _social().uow() as uow:
            return queries.list_activity(uow.session, username, args["start_pos"]).response()


BLUEPRINTS = [users]
