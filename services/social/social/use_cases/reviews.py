"""Ratings and reviews of packages, the owner's reply, reports, and administrators hiding reviews.

The package's counter (``reviews:<owner>/<repo>/<package>``) holds the number and the sum of the
ratings of visible reviews; its revision is the events' ``count_revision``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Forbidden, NotFound
from social import events
from social.models import Review, ReviewReport, User
from social.use_cases import activity
from social.use_cases.common import (
    ADMIN,
    DELETED_USER,
    PUBLISH,
    bump,
    counter,
    level_on,
    live_repo,
    me,
    readable_package,
)


def reviews_key(owner: str, repo: str, package: str) -> str:
    return f"reviews:{owner}/{repo}/{package}"


def average(count: int, total: int) -> float | None:
    return round(total / count, 2) if count else None


def _publish(uow: UnitOfWork, event_type, review: Review, username: str, count: int, total: int,
             count_revision: int) -> None:
    uow.publish(event_type, {
        "review_id": review.id, "username": username, "owner": review.owner, "repo": review.repo,
        "package": review.package, "rating": review.rating, "title": review.title, "rating_count": count,
        "average_rating": average(count, total), "revision": review.revision, "count_revision": count_revision,
    }, subject=f"{review.owner}/{review.repo}/{review.package}")


def put_review(uow: UnitOfWork, principal: Principal, owner: str, repo: str, package: str, rating: int,
               title: str | None, body: str | None) -> tuple[Review, bool]:
    """Post or edit the caller's review; returns it and whether it is new."""
    session = uow.session
    reviewer = me(session, principal)
    ref = readable_package(session, principal, owner, repo, package)
    repo_row = live_repo(session, owner, repo)
    if repo_row is None or level_on(session, reviewer.id, reviewer.username, owner, repo_row) >= PUBLISH:
        raise Forbidden("The owners and publishers of a package cannot review it")
    row = session.scalars(sa.select(Review).where(Review.owner == owner, Review.repo == repo,
                                                  Review.package == package, Review.user_id == reviewer.id)
                          .with_for_update()).first()
    now = uow.clock()
    key = reviews_key(owner, repo, package)
    if row is None:
        row = Review(owner=owner, repo=repo, package=package, user_id=reviewer.id, rating=rating, title=title,
                     body=body, created_at=now, updated_at=now, revision=1, hidden=False)
        session.add(row)
        session.flush()
        count = bump(session, key, count=+1, total=rating)
        activity.record(session, log_id=reviewer.id, kind=activity.REVIEWED, actor_id=reviewer.id,
                        actor=reviewer.username, at=now,
                        details={"owner": owner, "repo": repo, "package": package, "rating": rating},
                        package=(owner, repo, package), private=ref.private)
        _publish(uow, events.REVIEW_POSTED, row, reviewer.username or "", count.count, count.total, count.revision)
        return row, True
    if (row.rating, row.title, row.body) == (rating, title, body):
        return row, False
    delta = 0 if row.hidden else rating - row.rating
    row.rating, row.title, row.body, row.updated_at, row.revision = rating, title, body, now, row.revision + 1
    count = bump(session, key, total=delta)
    _publish(uow, events.REVIEW_UPDATED, row, reviewer.username or "", count.count, count.total, count.revision)
    return row, False


def delete_review(uow: UnitOfWork, principal: Principal, owner: str, repo: str, package: str) -> None:
    session = uow.session
    reviewer = me(session, principal)
    readable_package(session, principal, owner, repo, package)
    row = session.scalars(sa.select(Review).where(Review.owner == owner, Review.repo == repo,
                                                  Review.package == package, Review.user_id == reviewer.id)
                          .with_for_update()).first()
    if row is None:
        return
    count = bump(session, reviews_key(owner, repo, package),
                 count=0 if row.hidden else -1, total=0 if row.hidden else -row.rating)
    row.revision += 1
    _publish(uow, events.REVIEW_DELETED, row, reviewer.username or "", count.count, count.total, count.revision)
    session.delete(row)


def _review(uow: UnitOfWork, principal: Principal | None, review_id: int, *, with_hidden: bool = False):
    row = uow.session.get(Review, review_id, with_for_update=True)
    if row is None or (row.hidden and not with_hidden):
        raise NotFound(f"Review {review_id} was not found")
    ref = readable_package(uow.session, principal, row.owner, row.repo, row.package)
    return row, ref


def reply(uow: UnitOfWork, principal: Principal, review_id: int, body: str) -> Review:
    """The package's owner answers a review, once."""
    row, ref = _review(uow, principal, review_id)
    replier = me(uow.session, principal)
    if ref.level < ADMIN:
        raise Forbidden("Only the package's owner may reply to its reviews")
    if row.reply is not None:
        raise Conflict("This review already has a reply")
    row.reply, row.reply_by_id, row.replied_at = body, replier.id, uow.clock()
    reviewer = uow.session.get(User, row.user_id) if row.user_id else None
    uow.publish(events.REVIEW_REPLIED, {
        "review_id": row.id, "owner": row.owner, "repo": row.repo, "package": row.package,
        "reviewer": (reviewer.username if reviewer else None) or DELETED_USER, "replier": replier.username,
        "body": body}, subject=f"{row.owner}/{row.repo}/{row.package}")
    return row


def report(uow: UnitOfWork, principal: Principal, review_id: int, reason: str) -> None:
    """Report a review to the administrators (reporting it again changes nothing)."""
    row, _ref = _review(uow, principal, review_id)
    reporter = me(uow.session, principal)
    exists = uow.session.scalars(sa.select(ReviewReport).where(ReviewReport.review_id == row.id,
                                                               ReviewReport.reporter_id == reporter.id)).first()
    if exists is None:
        uow.session.add(ReviewReport(review_id=row.id, reporter_id=reporter.id, reason=reason,
                                     created_at=uow.clock(), resolved=False))


def set_hidden(uow: UnitOfWork, principal: Principal, review_id: int, hidden: bool) -> Review:
    """A platform administrator hides a review (it leaves lists and the average) or restores it."""
    if not principal.admin:
        raise Forbidden("Only platform administrators may hide or restore reviews")
    row = uow.session.get(Review, review_id, with_for_update=True)
    if row is None:
        raise NotFound(f"Review {review_id} was not found")
    uow.session.execute(sa.update(ReviewReport).where(ReviewReport.review_id == row.id).values(resolved=True))
    if row.hidden == hidden:
        return row
    row.hidden, row.revision = hidden, row.revision + 1
    sign = -1 if hidden else +1
    count = bump(uow.session, reviews_key(row.owner, row.repo, row.package), count=sign, total=sign * row.rating)
    reviewer = uow.session.get(User, row.user_id) if row.user_id else None
    _publish(uow, events.REVIEW_UPDATED, row, (reviewer.username if reviewer else None) or DELETED_USER,
             count.count, count.total, count.revision)
    return row


def summary(uow: UnitOfWork, owner: str, repo: str, package: str) -> dict[str, Any]:
    row = counter(uow.session, reviews_key(owner, repo, package))
    return {"rating": average(row.count, row.total), "rating_count": row.count}
