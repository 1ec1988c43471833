"""The notifier's HTTP API. Views parse, call one use case or query, and shape the answer; they never commit."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from notifier import queries, schemas, use_cases
from packyard.paging import RANGE_HEADERS
from packyard.web import require_principal, success


def _notifier() -> Any:
    return flask.current_app.extensions["notifier"]


notifications = Blueprint("notifications", __name__, url_prefix="/me/notifications",
                          description="The caller's in-app notifications")


@notifications.route("")
class MyNotifications(MethodView):
    @notifications.arguments(schemas.NotificationListArgs, location="query")
    @notifications.response(200, schemas.NotificationSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """My notifications, newest first (``?start_pos``, 50 a page; ``?unread=true``)."""
        caller = require_principal()
        with _notifier().uow() as uow:
            return queries.list_notifications(uow.session, caller.user_id, unread_only=args["unread"],
                                                    start_pos=args["start_pos"]).response()


@notifications.route("/read_all")
class ReadAll(MethodView):
    @notifications.response(200, schemas.MessageSchema)
    def post(self) -> Any:
        """Mark all my notifications read."""
        caller = require_principal()
        notifier = _notifier()
        with notifier.uow() as uow:
            use_cases.mark_all_read(uow, user_id=caller.user_id, now=notifier.clock())
            uow.commit()
        return success()


@notifications.route("/<string:notification_id>/read")
class ReadOne(MethodView):
    @notifications.response(200, schemas.NotificationSchema)
    def post(self, notification_id: str) -> Any:
        """Mark one of my notifications read."""
        caller = require_principal()
        notifier = _notifier()
        with notifier.uow() as uow:
            notification = use_cases.mark_read(uow, user_id=caller.user_id, notification_id=notification_id,
                                               now=notifier.clock())
            body = queries.notification_json(notification)
            uow.commit()
        return body


@notifications.route("/<string:notification_id>")
class OneNotification(MethodView):
    @notifications.response(200, schemas.MessageSchema)
    def delete(self, notification_id: str) -> Any:
        """Delete one of my notifications."""
        caller = require_principal()
        with _notifier().uow() as uow:
            use_cases.delete_notification(uow, user_id=caller.user_id, notification_id=notification_id)
            uow.commit()
        return success()


BLUEPRINTS = [notifications]
