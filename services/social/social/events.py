"""Events social publishes on ``social.events`` (routing key = type).

Consumers read them with their own tolerant schemas; these schemas validate what is published.
Adding an optional field is compatible; anything else is a new version. Ordering (see
docs/events.md): ``revision`` orders the changes of ONE relationship (this follower→followee,
this user's watch of this package, this user's review of this package); ``count_revision``
grows with every change of the counter the event carries (per followee, per package), whoever
made it — keep the counter of the highest ``count_revision``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma

from packyard.events import EventType, format_time

FILTER_KINDS = ("all", "stable", "major", "regex")
STOP_REASONS = ("unwatched", "access_lost", "account_deleted", "package_deleted")


class Timestamp(ma.fields.DateTime):
    """ISO 8601 UTC with milliseconds and ``Z``, as every Packyard timestamp."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_time(value)


def _ordering() -> dict[str, ma.fields.Field]:
    return {
        "revision": ma.fields.Integer(required=True, metadata={
            "description": "grows with every change of this one relationship (follower→followee, "
                           "watcher→package, reviewer→package)"}),
        "count_revision": ma.fields.Integer(required=True, metadata={
            "description": "grows with every change of the counter carried here (per followee / per package), "
                           "whoever made it: keep the counter of the highest"}),
    }


class FollowData(ma.Schema):
    follower = ma.fields.String(required=True)
    followee = ma.fields.String(required=True)
    followee_type = ma.fields.String(required=True, validate=ma.validate.OneOf(("user", "org")))
    followers_count = ma.fields.Integer(required=True, metadata={"description": "followers of the followee now"})
    revision = _ordering()["revision"]
    count_revision = _ordering()["count_revision"]


class WatchFilter(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(FILTER_KINDS), metadata={
        "description": "all releases; stable (no pre-release); major (x.0.0); regex (pattern on the version name)"})
    pattern = ma.fields.String(required=True, allow_none=True,
                               metadata={"description": "the regular expression when kind is regex"})


class WatchData(ma.Schema):
    username = ma.fields.String(required=True)
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    private = ma.fields.Boolean(required=True, metadata={"description": "the package's repository is private"})
    filter = ma.fields.Nested(WatchFilter, required=True, allow_none=True)
    watchers_count = ma.fields.Integer(required=True)
    revision = _ordering()["revision"]
    count_revision = _ordering()["count_revision"]


class WatchStoppedData(WatchData):
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(STOP_REASONS))


class MessageSentData(ma.Schema):
    message_id = ma.fields.Integer(required=True)
    conversation_with = ma.fields.String(required=True,
                                         metadata={"description": "the sender, as the recipient sees the thread"})
    sender = ma.fields.String(required=True)
    recipient = ma.fields.String(required=True)
    subject = ma.fields.String(required=True, allow_none=True)
    body = ma.fields.String(required=True, metadata={"description": "plain text, for the email copy"})
    sent = Timestamp(required=True)


class ReviewData(ma.Schema):
    review_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    rating = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=5))
    title = ma.fields.String(required=True, allow_none=True)
    rating_count = ma.fields.Integer(required=True, metadata={"description": "visible ratings of the package now"})
    average_rating = ma.fields.Float(required=True, allow_none=True,
                                     metadata={"description": "null when rating_count is 0"})
    revision = _ordering()["revision"]
    count_revision = _ordering()["count_revision"]


class ReviewRepliedData(ma.Schema):
    review_id = ma.fields.Integer(required=True)
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    reviewer = ma.fields.String(required=True)
    replier = ma.fields.String(required=True)
    body = ma.fields.String(required=True)


class CommentPostedData(ma.Schema):
    comment_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    body = ma.fields.String(required=True, metadata={"description": "the comment as written (Markdown, plain text)"})
    private = ma.fields.Boolean(load_default=False, metadata={"description": "the repository is private"})


FOLLOW_STARTED = EventType("social.follow.started", FollowData,
                           description="A user started following a user or an organization.")
FOLLOW_STOPPED = EventType("social.follow.stopped", FollowData,
                           description="A user stopped following a user or an organization.")
WATCH_STARTED = EventType(
    "social.watch.started", WatchData,
    description="A user started watching a package, or changed the filter of their watch (higher revision).")
WATCH_STOPPED = EventType(
    "social.watch.stopped", WatchStoppedData,
    description="A watch ended: unwatched, the watcher lost read access, deleted their account, "
                "or the package was deleted.")
MESSAGE_SENT = EventType("social.message.sent", MessageSentData,
                         description="A direct message was delivered to its recipient.")
REVIEW_POSTED = EventType("social.review.posted", ReviewData, description="A user reviewed and rated a package.")
REVIEW_UPDATED = EventType(
    "social.review.updated", ReviewData,
    description="A review changed: edited by its author, or hidden/restored by an administrator.")
REVIEW_DELETED = EventType("social.review.deleted", ReviewData, description="A review was deleted.")
REVIEW_REPLIED = EventType("social.review.replied", ReviewRepliedData,
                           description="The package's owner replied to a review.")
COMMENT_POSTED = EventType("social.comment.posted", CommentPostedData,
                           description="A user commented on a version of a package.")

ALL = [FOLLOW_STARTED, FOLLOW_STOPPED, WATCH_STARTED, WATCH_STOPPED, MESSAGE_SENT, REVIEW_POSTED,
       REVIEW_UPDATED, REVIEW_DELETED, REVIEW_REPLIED, COMMENT_POSTED]
