"""Comments on versions: Markdown in, sanitized HTML out (markdown-it-py renders CommonMark with raw
HTML disabled; nh3 — the Ammonia sanitizer — keeps only a safe subset of tags, attributes and URL
schemes). The Markdown as written is kept; the HTML is made again whenever it is edited."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Forbidden, NotFound
from social import events
from social.models import Comment
from social.use_cases import activity
from social.use_cases.common import ADMIN, me, readable_version

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")
TAGS = {"p", "br", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "img"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


def render(markdown: str) -> str:
    return nh3.clean(_markdown.render(markdown), tags=TAGS, attributes=ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow ugc noopener noreferrer")


def post(uow: UnitOfWork, principal: Principal, owner: str, repo: str, package: str, version: str,
         body: str) -> Comment:
    session = uow.session
    author = me(session, principal)
    ref = readable_version(session, principal, owner, repo, package, version)
    now = uow.clock()
    row = Comment(owner=owner, repo=repo, package=package, version=version, user_id=author.id, body=body,
                  html=render(body), created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    activity.record(session, log_id=author.id, kind=activity.COMMENTED, actor_id=author.id, actor=author.username,
                    at=now, details={"owner": owner, "repo": repo, "package": package, "version": version,
                                     "comment_id": row.id},
                    package=(owner, repo, package), private=ref.private)
    uow.publish(events.COMMENT_POSTED, {
        "comment_id": row.id, "username": author.username, "owner": owner, "repo": repo, "package": package,
        "version": version, "body": body, "private": ref.private}, subject=f"{owner}/{repo}/{package}")
    return row


def _comment(uow: UnitOfWork, principal: Principal, owner: str, repo: str, package: str, version: str,
             comment_id: int):
    ref = readable_version(uow.session, principal, owner, repo, package, version)
    row = uow.session.get(Comment, comment_id, with_for_update=True)
    if row is None or (row.owner, row.repo, row.package, row.version) != (owner, repo, package, version):
        raise NotFound(f"Comment {comment_id} was not found")
    return row, ref


def edit(uow: UnitOfWork, principal: Principal, owner: str, repo: str, package: str, version: str,
         comment_id: int, body: str) -> Comment:
    row, _ref = _comment(uow, principal, owner, repo, package, version, comment_id)
    if row.user_id != me(uow.session, principal).id:
        raise Forbidden("You may edit only your own comments")
    if row.body != body:
        row.body, row.html, row.updated_at = body, render(body), uow.clock()
    return row


def delete(uow: UnitOfWork, principal: Principal, owner: str, repo: str, package: str, version: str,
           comment_id: int) -> None:
    """The author, or an owner or admin of the package, deletes a comment."""
    row, ref = _comment(uow, principal, owner, repo, package, version, comment_id)
    if row.user_id != me(uow.session, principal).id and ref.level < ADMIN:
        raise Forbidden("You may delete only your own comments")
    uow.session.delete(row)
