"""Read models of social: the JSON shapes of its HTTP API, built straight from the tables."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from packyard.auth import Principal
from packyard.db import is_postgres
from packyard.errors import Invalid, NotFound
from packyard.events import format_time
from packyard.paging import PAGE_SIZE, Page, page_of
from social.models import (
    ActivityEntry,
    Block,
    Comment,
    ConversationState,
    Counter,
    Follow,
    Message,
    Org,
    Repo,
    Review,
    User,
    Watch,
)
from social.use_cases.common import (
    DELETED_USER,
    READ,
    find_subject,
    level_on,
    live_org,
    live_user,
    me,
    readable_package,
    readable_version,
)
from social.use_cases.messages import pair
from social.use_cases.reviews import average, reviews_key
from social.use_cases.watches import watch_json

FEED_MAX_START_POS = 1000


def get_live_user(session: Session, username: str) -> User:
    return live_user(session, username)


# -- people -----------------------------------------------------------------------------------

def person_json(user: User) -> dict[str, Any]:
    """What a profile page needs to draw a list of people: name, full name, gravatar and avatar."""
    return {"name": user.username, "full_name": user.full_name, "gravatar_id": user.gravatar_id,
            "avatar_url": f"/users/{user.username}/avatar"}


def _subject_of(session: Session, name: str, kind: str | None) -> Any:
    if kind == "org":
        org = live_org(session, name)
        return org.id
    if kind == "user":
        return live_user(session, name).id
    found = find_subject(session, name)
    if found is None:
        raise NotFound(f"Subject '{name}' was not found")
    return found.id


def followers(session: Session, name: str, kind: str, start_pos: int) -> Page[dict[str, Any]]:
    subject_id = _subject_of(session, name, kind)
    query = (sa.select(User).join(Follow, Follow.follower_id == User.id)
             .where(Follow.followee_id == subject_id, Follow.active.is_(True), User.username.is_not(None))
             .order_by(Follow.created_at.desc(), User.username))
    page = page_of(session, query, start_pos)
    return Page([person_json(u) for u in page.items], page.total, start_pos)


def following(session: Session, username: str, start_pos: int) -> Page[dict[str, Any]]:
    user = live_user(session, username)
    followee_user, followee_org = aliased(User), aliased(Org)
    query = (sa.select(Follow, followee_user, followee_org)
             .outerjoin(followee_user, sa.and_(Follow.followee_type == "user", followee_user.id == Follow.followee_id))
             .outerjoin(followee_org, sa.and_(Follow.followee_type == "org", followee_org.id == Follow.followee_id))
             .where(Follow.follower_id == user.id, Follow.active.is_(True),
                    sa.or_(followee_user.username.is_not(None), followee_org.name.is_not(None)))
             .order_by(Follow.created_at.desc()))
    page = page_of(session, query, start_pos, scalars=False)
    items = []
    for _follow, person, org in page.items:
        if person is not None:
            items.append({**person_json(person), "type": "user"})
        else:
            items.append({"name": org.name, "full_name": org.full_name, "gravatar_id": None,
                          "avatar_url": f"/orgs/{org.name}/avatar", "type": "org"})
    return Page(items, page.total, start_pos)


def counter_value(session: Session, key: str) -> Counter | None:
    return session.get(Counter, key)


# -- watches ----------------------------------------------------------------------------------

def my_watches(session: Session, principal: Principal, start_pos: int) -> Page[dict[str, Any]]:
    user = me(session, principal)
    query = (sa.select(Watch).where(Watch.user_id == user.id, Watch.active.is_(True))
             .order_by(Watch.created_at.desc(), Watch.owner, Watch.repo, Watch.package))
    page = page_of(session, query, start_pos)
    return Page([watch_json(w) for w in page.items], page.total, start_pos)


def watchers(session: Session, principal: Principal | None, owner: str, repo: str, package: str,
             start_pos: int) -> Page[dict[str, Any]]:
    readable_package(session, principal, owner, repo, package)
    query = (sa.select(User).join(Watch, Watch.user_id == User.id)
             .where(Watch.owner == owner, Watch.repo == repo, Watch.package == package, Watch.active.is_(True),
                    User.username.is_not(None))
             .order_by(Watch.created_at.desc(), User.username))
    page = page_of(session, query, start_pos)
    return Page([person_json(u) for u in page.items], page.total, start_pos)


# -- reviews ----------------------------------------------------------------------------------

def review_json(session: Session, review: Review) -> dict[str, Any]:
    author = session.get(User, review.user_id) if review.user_id else None
    body: dict[str, Any] = {
        "id": review.id, "username": (author.username if author else None) or DELETED_USER,
        "rating": review.rating, "title": review.title, "body": review.body,
        "created": format_time(review.created_at), "updated": format_time(review.updated_at), "reply": None,
    }
    if review.reply is not None:
        replier = session.get(User, review.reply_by_id) if review.reply_by_id else None
        body["reply"] = {"username": (replier.username if replier else None) or DELETED_USER, "body": review.reply,
                         "created": format_time(review.replied_at) if review.replied_at else None}
    return body


def reviews(session: Session, principal: Principal | None, owner: str, repo: str, package: str,
            start_pos: int) -> tuple[dict[str, Any], Page[Review]]:
    readable_package(session, principal, owner, repo, package)
    query = (sa.select(Review).where(Review.owner == owner, Review.repo == repo, Review.package == package,
                                     Review.hidden.is_(False))
             .order_by(Review.created_at.desc(), Review.id.desc()))
    page = page_of(session, query, start_pos)
    row = session.get(Counter, reviews_key(owner, repo, package))
    count, total = (row.count, row.total) if row is not None else (0, 0)
    distribution = dict(session.execute(
        sa.select(Review.rating, sa.func.count()).where(Review.owner == owner, Review.repo == repo,
                                                        Review.package == package, Review.hidden.is_(False))
        .group_by(Review.rating)).all())
    summary = {"rating": average(count, total), "rating_count": count,
               "distribution": {str(n): distribution.get(n, 0) for n in range(1, 6)},
               "reviews": [review_json(session, r) for r in page.items]}
    return summary, page


def my_reviews(session: Session, principal: Principal, start_pos: int) -> Page[dict[str, Any]]:
    user = me(session, principal)
    query = sa.select(Review).where(Review.user_id == user.id).order_by(Review.created_at.desc(), Review.id.desc())
    page = page_of(session, query, start_pos)
    return Page([{**review_json(session, r), "owner": r.owner, "repo": r.repo, "package": r.package,
                  "hidden": r.hidden} for r in page.items], page.total, start_pos)


def reports(session: Session, principal: Principal, start_pos: int, include_resolved: bool) -> Page[dict[str, Any]]:
    from packyard.errors import Forbidden
    from social.models import ReviewReport
    if not principal.admin:
        raise Forbidden("Only platform administrators may list reports")
    query = sa.select(ReviewReport, Review).join(Review, Review.id == ReviewReport.review_id)
    if not include_resolved:
        query = query.where(ReviewReport.resolved.is_(False))
    page = page_of(session, query.order_by(ReviewReport.created_at.desc(), ReviewReport.id.desc()), start_pos,
                   scalars=False)
    items = []
    for report, review in page.items:
        reporter = session.get(User, report.reporter_id) if report.reporter_id else None
        items.append({"id": report.id, "reason": report.reason, "created": format_time(report.created_at),
                      "resolved": report.resolved,
                      "reporter": (reporter.username if reporter else None) or DELETED_USER,
                      "review": {**review_json(session, review), "owner": review.owner, "repo": review.repo,
                                 "package": review.package, "hidden": review.hidden}})
    return Page(items, page.total, start_pos)


# -- messages ---------------------------------------------------------------------------------

def _name(session: Session, user_id: str | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return (user.username if user else None) or DELETED_USER


def message_json(session: Session, message: Message) -> dict[str, Any]:
    return {"id": message.id, "from": _name(session, message.sender_id), "to": _name(session, message.recipient_id),
            "subject": message.subject, "body": message.body, "sent": format_time(message.sent_at)}


def conversations(session: Session, principal: Principal, start_pos: int) -> Page[dict[str, Any]]:
    """The caller's conversations, the most recent first: the other party, the latest message, unread count."""
    user = me(session, principal)
    other = sa.case((Message.sender_id == user.id, Message.recipient_id), else_=Message.sender_id).label("other")
    mine = (sa.select(other, Message.id.label("id"), Message.recipient_id.label("recipient"))
            .where(sa.or_(Message.sender_id == user.id, Message.recipient_id == user.id)).subquery())
    st = aliased(ConversationState)
    visible = (sa.select(mine.c.other, sa.func.max(mine.c.id).label("last_id"),
                         sa.func.sum(sa.case((sa.and_(mine.c.recipient == user.id,
                                                      mine.c.id > sa.func.coalesce(st.read_through, 0)), 1),
                                             else_=0)).label("unread"))
               .select_from(mine)
               .outerjoin(st, sa.and_(st.user_id == user.id, st.other_id == mine.c.other))
               .where(mine.c.id > sa.func.coalesce(st.cleared_through, 0))
               .group_by(mine.c.other)
               .order_by(sa.func.max(mine.c.id).desc()))
    page = page_of(session, visible, start_pos, scalars=False)
    items = []
    for other_id, last_id, unread in page.items:
        last = session.get(Message, last_id)
        items.append({"with": _name(session, other_id), "unread": int(unread or 0),
                      "latest": message_json(session, last) if last else None})
    return Page(items, page.total, start_pos)


def thread(session: Session, principal: Principal, username: str, start_pos: int) -> Page[dict[str, Any]]:
    user = me(session, principal)
    other = live_user(session, username)
    if other.id == user.id:
        raise Invalid("A conversation is with somebody else")
    st = session.get(ConversationState, (user.id, other.id))
    query = (sa.select(Message).where(Message.pair == pair(user.id, other.id),
                                      Message.id > (st.cleared_through if st else 0)).order_by(Message.id))
    page = page_of(session, query, start_pos)
    read_through = st.read_through if st else 0
    return Page([{**message_json(session, m), "read": m.sender_id == user.id or m.id <= read_through}
                 for m in page.items], page.total, start_pos)


def blocked(session: Session, principal: Principal, start_pos: int) -> Page[dict[str, Any]]:
    user = me(session, principal)
    query = (sa.select(User).join(Block, Block.blocked_id == User.id)
             .where(Block.blocker_id == user.id, User.username.is_not(None)).order_by(User.username))
    page = page_of(session, query, start_pos)
    return Page([person_json(u) for u in page.items], page.total, start_pos)


# -- comments ---------------------------------------------------------------------------------

def comment_json(session: Session, comment: Comment) -> dict[str, Any]:
    return {"id": comment.id, "username": _name(session, comment.user_id), "body": comment.body,
            "html": comment.html, "created": format_time(comment.created_at),
            "updated": format_time(comment.updated_at)}


def comments(session: Session, principal: Principal | None, owner: str, repo: str, package: str, version: str,
             start_pos: int) -> Page[dict[str, Any]]:
    readable_version(session, principal, owner, repo, package, version)
    query = (sa.select(Comment).where(Comment.owner == owner, Comment.repo == repo, Comment.package == package,
                                      Comment.version == version).order_by(Comment.id))
    page = page_of(session, query, start_pos)
    return Page([comment_json(session, c) for c in page.items], page.total, start_pos)


# -- activity ---------------------------------------------------------------------------------

def activity_json(entry: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": entry.type, "actor": entry.actor, "created": format_time(entry.created_at)}
    details = json.loads(entry.details) if isinstance(entry.details, str) else entry.details
    for key, value in (details or {}).items():
        body.setdefault(key, value)
    return body


def _readable_private(session: Session, principal: Principal | None, repos: list[tuple[str, str]]) -> set:
    """Of these repositories, the private ones the caller can read (public ones need no check)."""
    out = set()
    for owner, name in repos:
        repo = session.get(Repo, (owner, name))
        if repo is None or repo.deleted:
            continue
        if principal is not None and level_on(session, principal.user_id, principal.username, owner, repo,
                                              admin=principal.admin) >= READ:
            out.add((owner, name))
    return out


def _visible(session: Session, principal: Principal | None, log_filter: Any) -> Any:
    """Entries of a log the caller may see: public ones, and private ones about repositories they can read.

    Whether an entry is private follows the repository's current state (made public later: shown)."""
    repo = aliased(Repo)
    private_now = sa.or_(ActivityEntry.private.is_(True) & repo.owner.is_(None), repo.private.is_(True))
    candidates = session.execute(sa.select(ActivityEntry.repo_owner, ActivityEntry.repo_name).distinct()
                                 .outerjoin(repo, sa.and_(repo.owner == ActivityEntry.repo_owner,
                                                          repo.name == ActivityEntry.repo_name))
                                 .where(log_filter, ActivityEntry.repo_owner.is_not(None), private_now)).all()
    readable = _readable_private(session, principal, [(owner, name) for owner, name in candidates
                                                      if owner is not None and name is not None])
    condition = sa.or_(ActivityEntry.repo_owner.is_(None), sa.not_(private_now))
    if readable:
        condition = sa.or_(condition, sa.tuple_(ActivityEntry.repo_owner, ActivityEntry.repo_name).in_(
            [sa.tuple_(sa.literal(o), sa.literal(n)) for o, n in readable]))
    return (sa.select(ActivityEntry).outerjoin(repo, sa.and_(repo.owner == ActivityEntry.repo_owner,
                                                             repo.name == ActivityEntry.repo_name))
            .where(log_filter, condition))


def list_activity(session: Session, username: str, start_pos: int, principal: Principal | None = None,
                  *, kind: str = "user") -> Page[dict[str, Any]]:
    """A user's or an organization's activity log, newest first, private entries only for their readers."""
    log_id = live_org(session, username).id if kind == "org" else get_live_user(session, username).id
    query = _visible(session, principal, ActivityEntry.user_id == log_id).order_by(
        ActivityEntry.created_at.desc(), ActivityEntry.id.desc())
    page = page_of(session, query, start_pos)
    return Page([activity_json(e) for e in page.items], page.total, start_pos)


# -- feed -------------------------------------------------------------------------------------

def encode_cursor(entry_created: datetime, entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"{entry_created.isoformat()}|{entry_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, ident = raw.partition("|")
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, int(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("Invalid value for 'before': not a cursor this API returned") from exc


FEED_WINDOW = 20_000  # entries scanned per window, newest first
FEED_WINDOWS = 3  # windows scanned before the per-source reads take over

_COLUMNS = "a.id, a.created_at, a.type, a.actor, a.details, a.repo_owner, a.repo_name, a.private"

_WINDOW_SQL = sa.text(f"""
WITH recent AS (
    SELECT id, created_at, user_id, package_key FROM activity
    WHERE (created_at, id) < (:before_at, :before_id)
    ORDER BY created_at DESC, id DESC LIMIT :window),
picked AS (
    SELECT id FROM recent
    WHERE user_id IN (SELECT followee_id FROM follows WHERE follower_id = :me AND active)
       OR package_key IN (SELECT owner || '/' || repo || '/' || package FROM watches WHERE user_id = :me AND active)
    ORDER BY created_at DESC, id DESC LIMIT :per)
SELECT {_COLUMNS} FROM picked JOIN activity a ON a.id = picked.id ORDER BY a.created_at DESC, a.id DESC
""")

_WINDOW_END_SQL = sa.text("""
SELECT created_at, id FROM activity WHERE (created_at, id) < (:before_at, :before_id)
ORDER BY created_at DESC, id DESC OFFSET :skip LIMIT 1
""")

_SOURCES_SQL = sa.text(f"""
WITH followed AS (SELECT followee_id FROM follows WHERE follower_id = :me AND active),
     watched AS (SELECT owner || '/' || repo || '/' || package AS k FROM watches WHERE user_id = :me AND active)
SELECT a.* FROM (SELECT id, created_at FROM (
    SELECT e.id, e.created_at FROM followed CROSS JOIN LATERAL (
        SELECT a.id, a.created_at FROM activity a
        WHERE a.user_id = followed.followee_id AND (a.created_at, a.id) < (:before_at, :before_id)
        ORDER BY a.created_at DESC, a.id DESC LIMIT :per) e
    UNION
    SELECT e.id, e.created_at FROM watched CROSS JOIN LATERAL (
        SELECT a.id, a.created_at FROM activity a
        WHERE a.package_key = watched.k AND (a.created_at, a.id) < (:before_at, :before_id)
        ORDER BY a.created_at DESC, a.id DESC LIMIT :per) e
) u ORDER BY created_at DESC, id DESC LIMIT :per) candidates,
LATERAL (SELECT {_COLUMNS} FROM activity a WHERE a.id = candidates.id) a
ORDER BY a.created_at DESC, a.id DESC
""")

_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def _feed_rows(session: Session, user_id: str, before: tuple[datetime, int] | None, limit: int) -> list[Any]:
    """The next ``limit`` feed entries older than ``before``, newest first (rows of ``_COLUMNS``).

    PostgreSQL, two bounded steps: (1) scan the newest :data:`FEED_WINDOW` entries of the whole log
    (an index-only scan of ``ix_activity_recent``) keeping those of followed logs and watched packages
    — enough for anyone whose sources are active — and up to :data:`FEED_WINDOWS` such windows;
    (2) only when they hold fewer than ``limit`` of them, read each followed log and watched package
    through its own index (LATERAL, at most ``limit`` each) from the window's end, and merge. Both
    are exact, so the page is the same either way.
    """
    before_at, before_id = before or (_FAR_FUTURE, 2**62)
    if is_postgres(session.get_bind()):
        params = {"me": user_id, "before_at": before_at, "before_id": before_id, "per": limit, "window": FEED_WINDOW}
        found: list[Any] = []
        for _ in range(FEED_WINDOWS):
            found += session.execute(_WINDOW_SQL, {**params, "per": limit - len(found)})
            if len(found) == limit:
                return found
            end = session.execute(_WINDOW_END_SQL, {**params, "skip": FEED_WINDOW - 1}).first()
            if end is None:  # the window reached the oldest entry: nothing more anywhere
                return found
            params.update(before_at=end.created_at, before_id=end.id)
        return found + list(session.execute(_SOURCES_SQL, {**params, "per": limit - len(found)}))
    followed = sa.select(Follow.followee_id).where(Follow.follower_id == user_id, Follow.active.is_(True))
    watched = sa.select(Watch.owner + "/" + Watch.repo + "/" + Watch.package).where(
        Watch.user_id == user_id, Watch.active.is_(True))
    a = ActivityEntry
    query = (sa.select(a.id, a.created_at, a.type, a.actor, a.details, a.repo_owner, a.repo_name, a.private)
             .where(sa.or_(a.user_id.in_(followed), a.package_key.in_(watched)),
                    sa.or_(a.created_at < before_at, sa.and_(a.created_at == before_at, a.id < before_id)))
             .order_by(a.created_at.desc(), a.id.desc()).limit(limit))
    return list(session.execute(query))


def _readable_repos(session: Session, principal: Principal, entries: list[Any]) -> set[tuple[str, str]]:
    """Of the repositories these entries are about, those the caller may read (one query, plus a
    permission check for each private one)."""
    keys = {(e.repo_owner, e.repo_name or "") for e in entries if e.repo_owner is not None}
    if not keys:
        return set()
    repos = {(r.owner, r.name): r for r in session.scalars(sa.select(Repo).where(
        Repo.owner.in_(sorted({o for o, _n in keys})), Repo.name.in_(sorted({n for _o, n in keys}))))}
    private_entry = {(e.repo_owner, e.repo_name or ""): e.private for e in entries if e.repo_owner is not None}
    readable, private = set(), []
    for key in keys:
        repo = repos.get(key)
        if repo is None:
            if not private_entry[key]:
                readable.add(key)
        elif not repo.deleted:
            if not repo.private or principal.admin or key[0] == principal.username:
                readable.add(key)
            else:
                private.append((key, repo))
    if private:
        # A private repository of another user is never readable; only organizations grant more.
        orgs = set(session.scalars(sa.select(Org.name).where(Org.name.in_(sorted({k[0] for k, _r in private})),
                                                             Org.deleted.is_(False))))
        for key, repo in private:
            if key[0] in orgs and level_on(session, principal.user_id, principal.username, key[0], repo) >= READ:
                readable.add(key)
    return readable


def feed(session: Session, principal: Principal, start_pos: int, before: str | None,
         size: int = PAGE_SIZE) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The activity of the subjects the caller follows and the packages they watch, newest first.

    Each followed log and each watched package is read newest first through its own index with a
    bounded limit (PostgreSQL: LATERAL per followee and per package, merged), so a page costs the
    same however large the platform's whole log is. Deep pages go by keyset (``before``, the
    ``X-Next-Before`` header of the previous page); ``start_pos`` works up to
    :data:`FEED_MAX_START_POS`. Entries about private repositories the caller cannot read are left out.
    """
    user_id = principal.user_id or me(session, principal).id
    if start_pos > FEED_MAX_START_POS:
        raise Invalid(f"Invalid value for 'start_pos': at most {FEED_MAX_START_POS} in the feed; "
                      "page further with 'before' (the X-Next-Before header)")
    cursor = decode_cursor(before) if before else None
    has_sources = session.scalar(sa.select(sa.literal(1)).where(sa.or_(
        sa.exists().where(Follow.follower_id == user_id, Follow.active.is_(True)),
        sa.exists().where(Watch.user_id == user_id, Watch.active.is_(True)))))
    if not has_sources:
        return [], {"X-RangeLimit-StartPos": str(start_pos), "X-RangeLimit-EndPos": str(start_pos - 1)}
    want, skip = size, start_pos
    out: list[Any] = []
    while True:
        batch = skip + want - len(out) + 10
        page = _feed_rows(session, user_id, cursor, batch)
        if not page:
            break
        readable = _readable_repos(session, principal, page)
        for entry in page:
            cursor = (entry.created_at, entry.id)
            if entry.repo_owner is not None and (entry.repo_owner, entry.repo_name or "") not in readable:
                continue
            if skip:
                skip -= 1
                continue
            out.append(entry)
            if len(out) == want:
                break
        if len(out) == want or len(page) < batch:
            break
    headers = {"X-RangeLimit-StartPos": str(start_pos), "X-RangeLimit-EndPos": str(start_pos + len(out) - 1)}
    if len(out) == want:
        headers["X-Next-Before"] = encode_cursor(out[-1].created_at, out[-1].id)
    return [activity_json(e) for e in out], headers
