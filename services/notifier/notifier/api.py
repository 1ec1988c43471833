"""The notifier's HTTP API. Views parse, call one use case or query, and shape the answer; they never commit."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, TypeVar

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from notifier import digests, kinds, queries, schemas, use_cases, webhooks
from notifier.mail.unsubscribe import BadToken
from packyard import transactions
from packyard.db import UnitOfWork
from packyard.errors import Invalid, NotFound
from packyard.paging import RANGE_HEADERS
from packyard.web import require_principal, success

T = TypeVar("T")


def _notifier() -> Any:
    return flask.current_app.extensions["notifier"]


def change(action: Callable[[UnitOfWork], T]) -> T:
    """Run a changing use case in one unit of work and commit it (state and events together)."""
    return transactions.change(_notifier().uow, action)


def read(query: Callable[[Any], T]) -> T:
    """Run a query on a session that is never committed."""
    return transactions.read(_notifier().uow, query)


notifications = Blueprint("notifications", __name__, url_prefix="/me/notifications",
                          description="The caller's in-app notifications")


@notifications.route("")
class MyNotifications(MethodView):
    @notifications.arguments(schemas.NotificationFilterArgs, location="query")
    @notifications.response(200, schemas.NotificationSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """My notifications, newest first (``?start_pos``, 50 a page; ``?unread=true``; ``?kind=release,message``)."""
        caller = require_principal()
        wanted = None
        if args["kind"]:
            wanted = [k.strip() for k in args["kind"].split(",") if k.strip()]
            unknown = [k for k in wanted if k not in kinds.KINDS and k not in use_cases.ACCOUNT_KINDS]
            if unknown:
                raise Invalid(f"kind: unknown kind '{unknown[0]}'; known kinds: "
                              f"{', '.join([*kinds.KINDS, *use_cases.ACCOUNT_KINDS])}")
        return read(lambda session: queries.list_notifications(
            session, caller.user_id, unread_only=args["unread"], start_pos=args["start_pos"], kinds=wanted)).response()


@notifications.route("/unread_count")
class UnreadCount(MethodView):
    @notifications.response(200, schemas.UnreadCountSchema)
    def get(self) -> Any:
        """How many of my notifications are unread."""
        caller = require_principal()
        return {"unread_count": read(lambda session: use_cases.unread_count(session, caller.user_id))}


@notifications.route("/read_all")
class ReadAll(MethodView):
    @notifications.response(200, schemas.MessageSchema)
    def post(self) -> Any:
        """Mark all my notifications read."""
        caller = require_principal()
        notifier = _notifier()
        change(lambda uow: use_cases.mark_all_read(uow, user_id=caller.user_id, now=notifier.clock()))
        return success()


@notifications.route("/<string:notification_id>/read")
class ReadOne(MethodView):
    @notifications.response(200, schemas.NotificationSchema)
    def post(self, notification_id: str) -> Any:
        """Mark one of my notifications read."""
        caller = require_principal()
        notifier = _notifier()
        return change(lambda uow: queries.notification_json(use_cases.mark_read(
            uow, user_id=caller.user_id, notification_id=notification_id, now=notifier.clock())))


@notifications.route("/<string:notification_id>")
class OneNotification(MethodView):
    @notifications.response(200, schemas.MessageSchema)
    def delete(self, notification_id: str) -> Any:
        """Delete one of my notifications."""
        caller = require_principal()
        change(lambda uow: use_cases.delete_notification(uow, user_id=caller.user_id,
                                                         notification_id=notification_id))
        return success()


settings = Blueprint("notification_settings", __name__, url_prefix="/me/notification_settings",
                     description="What the caller hears about, in the app and by email")


@settings.route("")
class MySettings(MethodView):
    @settings.response(200, schemas.SettingsSchema)
    def get(self) -> Any:
        """My choice per kind of notification: in the app, and email (off, immediate or a digest)."""
        caller = require_principal()
        return _settings_of(caller)

    @settings.arguments(schemas.SettingsSchema)
    @settings.response(200, schemas.SettingsSchema)
    def put(self, args: dict[str, Any]) -> Any:
        """Change some of my choices (kinds left out keep theirs); ``time_zone`` times the digests."""
        caller = require_principal()
        extra = {"time_zone": args["time_zone"]} if "time_zone" in args else {}
        change(lambda uow: use_cases.change_settings(uow, user_id=caller.user_id, username=caller.username,
                                                     changes=args.get("kinds") or {}, **extra))
        return _settings_of(caller)


def _settings_of(caller: Any) -> Any:
    with _notifier().uow() as uow:  # read only: never committed
        return use_cases.settings_of(uow, user_id=caller.user_id, username=caller.username)


deliveries = Blueprint("deliveries", __name__, url_prefix="/me/deliveries",
                       description="Calls made for the caller: webhooks, test calls, Mastodon posts")


@deliveries.route("")
class MyDeliveries(MethodView):
    @deliveries.arguments(schemas.DeliveryListArgs, location="query")
    @deliveries.response(200, schemas.DeliverySchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """My deliveries, newest first: request, response status and first bytes, duration, attempts, error."""
        caller = require_principal()
        return read(lambda session: queries.list_deliveries(session, caller.username, args["start_pos"])).response()


def _own_delivery(session: Any, username: str, delivery_id: str) -> Any:
    from notifier.models import Delivery
    found = session.get(Delivery, delivery_id) if len(delivery_id) <= 36 else None
    if found is None or found.username != username:
        raise NotFound(f"Delivery '{delivery_id}' was not found")
    return found


@deliveries.route("/<string:delivery_id>")
class OneDelivery(MethodView):
    @deliveries.response(200, schemas.DeliverySchema)
    def get(self, delivery_id: str) -> Any:
        """One of my deliveries."""
        caller = require_principal()
        return read(lambda session: queries.delivery_json(_own_delivery(session, caller.username, delivery_id)))


@deliveries.route("/<string:delivery_id>/redeliver")
class Redeliver(MethodView):
    @deliveries.response(202, schemas.DeliverySchema)
    def post(self, delivery_id: str) -> Any:
        """Make a finished call again: same body and delivery id, a fresh set of attempts."""
        caller = require_principal()
        notifier = _notifier()
        return change(lambda uow: queries.delivery_json(notifier.redeliver(uow, username=caller.username,
                                                                           delivery_id=delivery_id)))


mastodon = Blueprint("mastodon", __name__, url_prefix="/me/mastodon",
                     description="The caller's Mastodon account, where announced releases are posted")


@mastodon.route("")
class MyMastodon(MethodView):
    @mastodon.response(200, schemas.MastodonLinkSchema)
    def get(self) -> Any:
        """My linked Mastodon account (the access token is never shown)."""
        from notifier.models import MastodonAccount
        caller = require_principal()

        def linked(session: Any) -> dict[str, Any]:
            account = session.get(MastodonAccount, caller.user_id)
            if account is None:
                raise NotFound("No Mastodon account is linked")
            return {"instance_url": account.instance_url, "linked": queries._time(account.linked_at)}
        return read(linked)

    @mastodon.arguments(schemas.MastodonLinkSchema)
    @mastodon.response(200, schemas.MastodonLinkSchema)
    def put(self, args: dict[str, Any]) -> Any:
        """Link my Mastodon account: the instance's URL and an access token with the write:statuses scope."""
        caller = require_principal()
        notifier = _notifier()
        account = change(lambda uow: notifier.link_mastodon(
            uow, user_id=caller.user_id, username=caller.username, instance_url=args["instance_url"],
            access_token=args["access_token"]))
        return {"instance_url": account.instance_url, "linked": queries._time(account.linked_at)}

    @mastodon.response(200, schemas.MessageSchema)
    def delete(self) -> Any:
        """Unlink my Mastodon account."""
        caller = require_principal()
        change(lambda uow: webhooks.unlink_mastodon(uow, user_id=caller.user_id))
        return success()


announcements = Blueprint("announcements", __name__, url_prefix="/me/announcements",
                          description="Packages whose releases the caller announces on Mastodon")


@announcements.route("")
class MyAnnouncements(MethodView):
    @announcements.response(200, schemas.AnnouncementSchema(many=True))
    def get(self) -> Any:
        """The packages I announce."""
        caller = require_principal()
        return read(lambda session: queries.announcements_of(session, caller.user_id))


@announcements.route("/<string:owner>/<string:repo>/<string:package>")
class PackageAnnouncements(MethodView):
    @announcements.arguments(schemas.AnnouncementArgs)
    @announcements.response(200, schemas.AnnouncementSchema)
    def put(self, args: dict[str, Any], owner: str, repo: str, package: str) -> Any:
        """Turn Mastodon announcements of a package I own on or off."""
        caller = require_principal()
        notifier = _notifier()
        enabled = change(lambda uow: webhooks.set_announcements(
            uow, principal=caller, owner=owner, repo=repo, package=package, enabled=args["mastodon"],
            now=notifier.clock()))
        return {"owner": owner, "repo": repo, "package": package, "mastodon": enabled}


news = Blueprint("news", __name__, url_prefix="/admin/news", description="Packyard news, posted by administrators")


@news.route("")
class AllNews(MethodView):
    @news.response(200, schemas.NewsSchema(many=True))
    def get(self) -> Any:
        """News posted so far, and how far each got (administrators only)."""
        caller = require_principal()
        if not caller.admin:
            from packyard.errors import Forbidden
            raise Forbidden("Only platform administrators may read the news queue")
        return read(queries.list_news)

    @news.arguments(schemas.NewsArgs)
    @news.response(202, schemas.NewsSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Send news to everyone who wants it (by email at a bounded rate, and in the app)."""
        caller = require_principal()
        notifier = _notifier()
        return change(lambda uow: queries.news_json(digests.post_news(
            uow, principal=caller, subject=args["subject"], body=args["body"], now=notifier.clock())))


unsubscribe = Blueprint("unsubscribe", __name__, url_prefix="/notifications/unsubscribe",
                        description="One-click unsubscribe links of emails (RFC 8058), no login needed")

_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 560px; margin: 40px auto;">
<h2>{title}</h2><p>{text}</p>{form}</body></html>"""


def _read_token(token: str) -> tuple[str, str]:
    try:
        return _notifier().unsubscribe_signer().read(token)
    except BadToken:
        raise NotFound("This unsubscribe link is not valid") from None


def _kind_label(kind: str) -> str:
    if kind.startswith("digest:"):
        return f"the {kind.split(':', 1)[1]} digest"
    known = kinds.KINDS.get(kind)
    return f"emails about {known.description}" if known else "these emails"


HTML_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}


@unsubscribe.route("/<string:token>")
class Unsubscribe(MethodView):
    @unsubscribe.doc(responses={"200": {"description": "a page asking to confirm", **HTML_PAGE}})
    def get(self, token: str) -> Any:
        """A page that asks to confirm (a GET never unsubscribes: mail scanners follow links)."""
        _user_id, kind = _read_token(token)
        label = html.escape(_kind_label(kind))
        form = ('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
                '<button type="submit">Unsubscribe</button></form>')
        return flask.Response(_PAGE.format(title="Unsubscribe", text=f"Stop {label}?", form=form),
                              mimetype="text/html")

    @unsubscribe.response(200, schemas.MessageSchema)
    @unsubscribe.doc(responses={"200": {"content": {  # a form posted from a browser gets a page
        "application/json": {"schema": schemas.MessageSchema}, **HTML_PAGE["content"]}}})
    def post(self, token: str) -> Any:
        """Turn off exactly the kind of email the link came with (``List-Unsubscribe=One-Click``)."""
        user_id, kind = _read_token(token)
        change(lambda uow: use_cases.unsubscribe(uow, user_id=user_id, kind=kind))
        if flask.request.mimetype == "application/x-www-form-urlencoded" and "text/html" in (
                flask.request.headers.get("Accept") or ""):
            return flask.Response(_PAGE.format(title="Unsubscribed", text=f"You will get no more "
                                               f"{html.escape(_kind_label(kind))}.", form=""), mimetype="text/html")
        return {"message": f"Unsubscribed from {_kind_label(kind)}"}


BLUEPRINTS = [notifications, settings, deliveries, mastodon, announcements, news, unsubscribe]
