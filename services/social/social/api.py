"""Social's HTTP API. Views parse, call one query or use case, and shape the answer; they never commit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import flask
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from packyard import transactions
from packyard.db import UnitOfWork
from packyard.paging import RANGE_HEADERS, PageArgs
from packyard.web import current_principal, require_principal
from social import queries, schemas
from social.use_cases import comments, follows, messages, reviews, watches

T = TypeVar("T")
NO_CONTENT = {"204": {"description": "done (doing it again changes nothing)"}}


def _social() -> Any:
    return flask.current_app.extensions["social"]


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 401 to anonymous callers before the request body is even parsed."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_principal()
        return view(*args, **kwargs)
    return wrapper


def change(action: Callable[[UnitOfWork], T]) -> T:
    """Run a changing use case in one unit of work and commit it (state and events together).

    Two identical requests at the same instant (a double click) may both try to create the same
    row; the loser's transaction fails on the unique key and is run once more, when it finds the
    winner's row and does what an idempotent repeat does."""
    return transactions.change(_social().uow, action, retry_on=(IntegrityError,))


def read(query: Callable[[Any], T]) -> T:
    """Run a query on a session that is never committed."""
    return transactions.read(_social().uow, query)


# -- activity and feed ------------------------------------------------------------------------

users = Blueprint("users", __name__, url_prefix="/users", description="Users' followers, follows and activity")
orgs = Blueprint("orgs", __name__, url_prefix="/orgs", description="Organizations' followers and activity")
me = Blueprint("me", __name__, url_prefix="/me",
               description="The caller's follows, watches, messages, blocks, reviews and feed")
packages = Blueprint("packages", __name__, url_prefix="/packages",
                     description="Watchers, reviews and comments of packages")
review_bp = Blueprint("reviews", __name__, url_prefix="/reviews", description="Replying to, reporting and "
                                                                              "moderating reviews")


@users.route("/<string:username>/activity")
class UserActivity(MethodView):
    @users.arguments(PageArgs, location="query")
    @users.response(200, schemas.ActivitySchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any], username: str) -> Any:
        """A user's activity log, newest first (``?start_pos``, 50 a page); private entries only for readers."""
        viewer = current_principal()
        return read(lambda s: queries.list_activity(s, username, args["start_pos"], viewer)).response()


@orgs.route("/<string:org>/activity")
class OrgActivity(MethodView):
    @orgs.arguments(PageArgs, location="query")
    @orgs.response(200, schemas.ActivitySchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any], org: str) -> Any:
        """An organization's activity log, newest first; private entries only for readers."""
        viewer = current_principal()
        return read(lambda s: queries.list_activity(s, org, args["start_pos"], viewer, kind="org")).response()


@me.route("/activity")
class MyActivity(MethodView):
    @authenticated
    @me.arguments(PageArgs, location="query")
    @me.response(200, schemas.ActivitySchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """The caller's own activity log."""
        principal = require_principal()
        return read(lambda s: queries.list_activity(s, principal.username, args["start_pos"], principal)).response()


@me.route("/feed")
class Feed(MethodView):
    @authenticated
    @me.arguments(schemas.FeedArgs, location="query")
    @me.response(200, schemas.ActivitySchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """What the subjects I follow and the packages I watch did, newest first. Page with ``before`` (the
        ``X-Next-Before`` header of the previous page) or ``start_pos`` (up to 1000)."""
        principal = require_principal()
        items, headers = read(lambda s: queries.feed(s, principal, args["start_pos"], args["before"]))
        return items, 200, headers


# -- follows ----------------------------------------------------------------------------------

@me.route("/following/<string:name>")
class Following(MethodView):
    @authenticated
    @me.doc(responses=NO_CONTENT)
    @me.response(204)
    def put(self, name: str) -> Any:
        """Follow a user or an organization (following again changes nothing)."""
        principal = require_principal()
        change(lambda uow: follows.follow(uow, principal, name))

    @authenticated
    @me.response(204)
    def delete(self, name: str) -> Any:
        """Stop following a user or an organization."""
        principal = require_principal()
        change(lambda uow: follows.unfollow(uow, principal, name))


@me.route("/following")
class MyFollowing(MethodView):
    @authenticated
    @me.arguments(PageArgs, location="query")
    @me.response(200, schemas.PersonSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """Whom the caller follows."""
        principal = require_principal()
        return read(lambda s: queries.following(s, principal.username, args["start_pos"])).response()


@users.route("/<string:username>/followers")
class UserFollowers(MethodView):
    @users.arguments(PageArgs, location="query")
    @users.response(200, schemas.PersonSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any], username: str) -> Any:
        """Who follows a user (Bintray: ``[{"name"}]``), newest first."""
        return read(lambda s: queries.followers(s, username, "user", args["start_pos"])).response()


@users.route("/<string:username>/following")
class UserFollowing(MethodView):
    @users.arguments(PageArgs, location="query")
    @users.response(200, schemas.PersonSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any], username: str) -> Any:
        """Whom a user follows (users and organizations; ``type`` tells which)."""
        return read(lambda s: queries.following(s, username, args["start_pos"])).response()


@orgs.route("/<string:org>/followers")
class OrgFollowers(MethodView):
    @orgs.arguments(PageArgs, location="query")
    @orgs.response(200, schemas.PersonSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any], org: str) -> Any:
        """Who follows an organization."""
        return read(lambda s: queries.followers(s, org, "org", args["start_pos"])).response()


# -- watches ----------------------------------------------------------------------------------

@me.route("/watches/<string:owner>/<string:repo>/<string:package>")
class MyWatch(MethodView):
    @authenticated
    @me.arguments(schemas.WatchArgs, location="json", required=False)
    @me.response(200, schemas.WatchSchema)
    def put(self, args: dict[str, Any], owner: str, repo: str, package: str) -> Any:
        """Watch a package, optionally with a filter ``{"filter": {"kind": "all"|"stable"|"major"|"regex",
        "pattern"}}``; a private package only when the caller can read it (404 otherwise)."""
        principal = require_principal()
        wanted = (args or {}).get("filter") or {"kind": "all", "pattern": None}
        return change(lambda uow: watches.watch(uow, principal, owner, repo, package, wanted["kind"],
                                                wanted.get("pattern")))

    @authenticated
    @me.response(204)
    def delete(self, owner: str, repo: str, package: str) -> Any:
        """Stop watching a package."""
        principal = require_principal()
        change(lambda uow: watches.unwatch(uow, principal, owner, repo, package))


@me.route("/watches")
class MyWatches(MethodView):
    @authenticated
    @me.arguments(PageArgs, location="query")
    @me.response(200, schemas.WatchSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """The packages the caller watches, with their filters."""
        principal = require_principal()
        return read(lambda s: queries.my_watches(s, principal, args["start_pos"])).response()


@packages.route("/<string:owner>/<string:repo>/<string:package>/watchers")
class Watchers(MethodView):
    @packages.arguments(PageArgs, location="query")
    @packages.response(200, schemas.PersonSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any], owner: str, repo: str, package: str) -> Any:
        """Who watches a package."""
        viewer = current_principal()
        return read(lambda s: queries.watchers(s, viewer, owner, repo, package, args["start_pos"])).response()


# -- reviews ----------------------------------------------------------------------------------

@packages.route("/<string:owner>/<string:repo>/<string:package>/reviews")
class Reviews(MethodView):
    @packages.arguments(PageArgs, location="query")
    @packages.response(200, schemas.ReviewListSchema, headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any], owner: str, repo: str, package: str) -> Any:
        """A package's reviews, newest first, with the rating summary (``reviews`` is the paged list)."""
        viewer = current_principal()
        summary, page = read(lambda s: queries.reviews(s, viewer, owner, repo, package, args["start_pos"]))
        return summary, 200, page.headers()


@packages.route("/<string:owner>/<string:repo>/<string:package>/reviews/mine")
class MyReview(MethodView):
    @authenticated
    @packages.arguments(schemas.ReviewArgs)
    @packages.response(200, schemas.ReviewSchema)
    @packages.alt_response(201, schema=schemas.ReviewSchema, description="the review was posted")
    def put(self, args: dict[str, Any], owner: str, repo: str, package: str) -> Any:
        """Post or edit the caller's review ``{"rating": 1..5, "title", "body"}``; one per user and package."""
        principal = require_principal()

        def act(uow: UnitOfWork) -> Any:
            review, new = reviews.put_review(uow, principal, owner, repo, package, args["rating"], args["title"],
                                             args["body"])
            return queries.review_json(uow.session, review), new
        body, new = change(act)
        return body, 201 if new else 200

    @authenticated
    @packages.response(204)
    def delete(self, owner: str, repo: str, package: str) -> Any:
        """Delete the caller's review."""
        principal = require_principal()
        change(lambda uow: reviews.delete_review(uow, principal, owner, repo, package))


@review_bp.route("/<int(max=9223372036854775807):review_id>/reply")
class ReviewReply(MethodView):
    @authenticated
    @review_bp.arguments(schemas.ReplyArgs)
    @review_bp.response(201, schemas.ReviewSchema)
    def post(self, args: dict[str, Any], review_id: int) -> Any:
        """The package's owner replies to a review, once."""
        principal = require_principal()
        return change(lambda uow: queries.review_json(uow.session, reviews.reply(uow, principal, review_id,
                                                                                 args["body"])))


@review_bp.route("/<int(max=9223372036854775807):review_id>/report")
class ReviewReport(MethodView):
    @authenticated
    @review_bp.arguments(schemas.ReportArgs)
    @review_bp.response(202, schemas.ReportSchema)
    def post(self, args: dict[str, Any], review_id: int) -> Any:
        """Report a review to the platform's administrators."""
        principal = require_principal()
        change(lambda uow: reviews.report(uow, principal, review_id, args["reason"]))
        return {"message": "reported"}


@review_bp.route("/reports")
class ReviewReports(MethodView):
    @authenticated
    @review_bp.arguments(schemas.ReportListArgs, location="query")
    @review_bp.response(200, schemas.ReportSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """Reports waiting for a platform administrator (``include_resolved=true`` for all)."""
        principal = require_principal()
        return read(lambda s: queries.reports(s, principal, args["start_pos"], args["include_resolved"])).response()


@review_bp.route("/<int(max=9223372036854775807):review_id>/hidden")
class ReviewHidden(MethodView):
    @authenticated
    @review_bp.response(200, schemas.ReviewSchema)
    def put(self, review_id: int) -> Any:
        """A platform administrator hides a review (out of lists and the average)."""
        principal = require_principal()
        return change(lambda uow: queries.review_json(uow.session, reviews.set_hidden(uow, principal, review_id,
                                                                                      True)))

    @authenticated
    @review_bp.response(200, schemas.ReviewSchema)
    def delete(self, review_id: int) -> Any:
        """A platform administrator restores a hidden review."""
        principal = require_principal()
        return change(lambda uow: queries.review_json(uow.session, reviews.set_hidden(uow, principal, review_id,
                                                                                      False)))


@me.route("/reviews")
class MyReviews(MethodView):
    @authenticated
    @me.arguments(PageArgs, location="query")
    @me.response(200, schemas.ReviewSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """The caller's reviews."""
        principal = require_principal()
        return read(lambda s: queries.my_reviews(s, principal, args["start_pos"])).response()


# -- messages and blocking --------------------------------------------------------------------

@me.route("/messages")
class Messages(MethodView):
    @authenticated
    @me.arguments(schemas.MessageArgs)
    @me.response(201, schemas.MessageSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Send a direct message ``{"to", "body", "subject"?}``. 403 when the recipient blocked you, 413 when
        too long, 429 with ``Retry-After`` past the hourly limits."""
        principal = require_principal()
        social = _social()
        return change(lambda uow: queries.message_json(uow.session, social.send_message(
            uow, principal, args["to"], args["subject"], args["body"])))


@me.route("/conversations")
class Conversations(MethodView):
    @authenticated
    @me.arguments(PageArgs, location="query")
    @me.response(200, schemas.ConversationSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """The caller's conversations, most recent first, with the latest message and the unread count."""
        principal = require_principal()
        return read(lambda s: queries.conversations(s, principal, args["start_pos"])).response()


@me.route("/conversations/<string:username>")
class Conversation(MethodView):
    @authenticated
    @me.arguments(PageArgs, location="query")
    @me.response(200, schemas.MessageSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any], username: str) -> Any:
        """The thread with one user, oldest first."""
        principal = require_principal()
        return read(lambda s: queries.thread(s, principal, username, args["start_pos"])).response()

    @authenticated
    @me.response(204)
    def delete(self, username: str) -> Any:
        """Delete the conversation for the caller only (the other side keeps it)."""
        principal = require_principal()
        change(lambda uow: messages.delete_conversation(uow, principal, username))


@me.route("/conversations/<string:username>/read")
class ConversationRead(MethodView):
    @authenticated
    @me.response(204)
    def post(self, username: str) -> Any:
        """Mark the whole thread read."""
        principal = require_principal()
        change(lambda uow: messages.mark_read(uow, principal, username))


@me.route("/blocked/<string:username>")
class Blocked(MethodView):
    @authenticated
    @me.response(204)
    def put(self, username: str) -> Any:
        """Block a user: their messages are refused (they are not told who blocked them)."""
        principal = require_principal()
        change(lambda uow: messages.block(uow, principal, username))

    @authenticated
    @me.response(204)
    def delete(self, username: str) -> Any:
        """Unblock a user."""
        principal = require_principal()
        change(lambda uow: messages.unblock(uow, principal, username))


@me.route("/blocked")
class BlockedList(MethodView):
    @authenticated
    @me.arguments(PageArgs, location="query")
    @me.response(200, schemas.PersonSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any]) -> Any:
        """The users the caller blocked."""
        principal = require_principal()
        return read(lambda s: queries.blocked(s, principal, args["start_pos"])).response()


# -- comments ---------------------------------------------------------------------------------

VERSION_PATH = "/<string:owner>/<string:repo>/<string:package>/versions/<string:version>/comments"


@packages.route(VERSION_PATH)
class Comments(MethodView):
    @packages.arguments(PageArgs, location="query")
    @packages.response(200, schemas.CommentSchema(many=True), headers=RANGE_HEADERS)
    def get(self, args: dict[str, Any], owner: str, repo: str, package: str, version: str) -> Any:
        """Comments on a version, oldest first: the Markdown as written and sanitized HTML."""
        viewer = current_principal()
        return read(lambda s: queries.comments(s, viewer, owner, repo, package, version,
                                               args["start_pos"])).response()

    @authenticated
    @packages.arguments(schemas.CommentArgs)
    @packages.response(201, schemas.CommentSchema)
    def post(self, args: dict[str, Any], owner: str, repo: str, package: str, version: str) -> Any:
        """Comment on a version (Markdown)."""
        principal = require_principal()
        return change(lambda uow: queries.comment_json(uow.session, comments.post(
            uow, principal, owner, repo, package, version, args["body"])))


@packages.route(VERSION_PATH + "/<int(max=9223372036854775807):comment_id>")
class CommentResource(MethodView):
    @authenticated
    @packages.arguments(schemas.CommentArgs)
    @packages.response(200, schemas.CommentSchema)
    def put(self, args: dict[str, Any], owner: str, repo: str, package: str, version: str, comment_id: int) -> Any:
        """Edit your own comment."""
        principal = require_principal()
        return change(lambda uow: queries.comment_json(uow.session, comments.edit(
            uow, principal, owner, repo, package, version, comment_id, args["body"])))

    @authenticated
    @packages.response(204)
    def delete(self, owner: str, repo: str, package: str, version: str, comment_id: int) -> Any:
        """Delete your own comment; the package's owners and admins may delete any."""
        principal = require_principal()
        change(lambda uow: comments.delete(uow, principal, owner, repo, package, version, comment_id))


BLUEPRINTS = [users, orgs, me, packages, review_bp]
