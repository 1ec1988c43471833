"""Social's HTTP API. Views parse, call one query or use case, and shape the answer; they never commit."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from social import queries, schemas

PAGE_HEADERS = {
    "X-RangeLimit-Total": {"description": "number of items in the whole list", "schema": {"type": "integer"}},
    "X-RangeLimit-StartPos": {"description": "index of the first item returned", "schema": {"type": "integer"}},
    "X-RangeLimit-EndPos": {"description": "index of the last item returned (inclusive)",
                            "schema": {"type": "integer"}},
}


def _social() -> Any:
    return flask.current_app.extensions["social"]


def paged(page: queries.Page) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    return page.items, 200, {
        "X-RangeLimit-Total": str(page.total),
        "X-RangeLimit-StartPos": str(page.start_pos),
        "X-RangeLimit-EndPos": str(page.end_pos),
    }


users = Blueprint("activity", __name__, url_prefix="/users", description="What users did")


@users.route("/<string:username>/activity")
class UserActivity(MethodView):
    @users.arguments(schemas.PageArgs, location="query")
    @users.response(200, schemas.ActivitySchema(many=True), headers=PAGE_HEADERS)
    def get(self, args: dict[str, Any], username: str) -> Any:
        """A user's activity log, newest first (``?start_pos``, 50 a page)."""
        with _social().uow() as uow:
            return paged(queries.list_activity(uow.session, username, args["start_pos"]))


BLUEPRINTS = [users]
