"""Watching packages, with a filter on which releases matter.

A watch of a private package exists only while the watcher can read it: every change that can take
read access away (repository made private or deleted, team permission removed, membership or team
change, package deleted) re-checks the watches it touches and stops those that lost it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from packyard.auth import Principal
from packyard.db import UnitOfWork
from social import events
from social.models import Package, Repo, User, Watch
from social.use_cases import activity
from social.use_cases.common import bump, counter, live_repo, may_read, me, readable_package


def watchers_key(owner: str, repo: str, package: str) -> str:
    return f"watchers:{owner}/{repo}/{package}"


def filter_json(row: Watch) -> dict[str, Any]:
    return {"kind": row.filter_kind, "pattern": row.pattern}


def _publish(uow: UnitOfWork, event_type, username: str, row: Watch, private: bool, count: int,
             count_revision: int, reason: str | None = None) -> None:
    data = {"username": username, "owner": row.owner, "repo": row.repo, "package": row.package,
            "private": private, "filter": filter_json(row), "watchers_count": count, "revision": row.revision,
            "count_revision": count_revision}
    if reason is not None:
        data["reason"] = reason
    uow.publish(event_type, data, subject=f"{row.owner}/{row.repo}/{row.package}")


def watch(uow: UnitOfWork, principal: Principal, owner: str, repo: str, package: str, kind: str,
          pattern: str | None) -> dict[str, Any]:
    """Watch a package (or change the filter of the watch); the same watch again changes nothing."""
    session = uow.session
    watcher = me(session, principal)
    ref = readable_package(session, principal, owner, repo, package)
    pattern = pattern if kind == "regex" else None
    row = session.get(Watch, (watcher.id, owner, repo, package), with_for_update=True)
    now = uow.clock()
    key = watchers_key(owner, repo, package)
    if row is not None and row.active:
        if (row.filter_kind, row.pattern) != (kind, pattern):
            row.filter_kind, row.pattern, row.revision = kind, pattern, row.revision + 1
            current = counter(session, key)
            _publish(uow, events.WATCH_STARTED, watcher.username or "", row, ref.private, current.count,
                     current.revision)
        return watch_json(row)
    if row is None:
        row = Watch(user_id=watcher.id, owner=owner, repo=repo, package=package, filter_kind=kind, pattern=pattern,
                    active=True, revision=1, created_at=now)
        session.add(row)
    else:
        row.active, row.filter_kind, row.pattern = True, kind, pattern
        row.revision, row.created_at = row.revision + 1, now
    count = bump(session, key, count=+1)
    activity.record(session, log_id=watcher.id, kind=activity.WATCHED, actor_id=watcher.id, actor=watcher.username,
                    at=now, details={"owner": owner, "repo": repo, "package": package},
                    package=(owner, repo, package), private=ref.private)
    _publish(uow, events.WATCH_STARTED, watcher.username or "", row, ref.private, count.count, count.revision)
    return watch_json(row)


def stop_watch(uow: UnitOfWork, row: Watch, username: str, reason: str) -> None:
    if not row.active:
        return
    repo = uow.session.get(Repo, (row.owner, row.repo))
    row.active, row.revision = False, row.revision + 1
    count = bump(uow.session, watchers_key(row.owner, row.repo, row.package), count=-1)
    _publish(uow, events.WATCH_STOPPED, username, row, bool(repo and repo.private), count.count, count.revision,
             reason=reason)


def unwatch(uow: UnitOfWork, principal: Principal, owner: str, repo: str, package: str) -> None:
    """Stop watching; not watching already changes nothing (an unreadable package answers 404)."""
    session = uow.session
    watcher = me(session, principal)
    readable_package(session, principal, owner, repo, package)
    row = session.get(Watch, (watcher.id, owner, repo, package), with_for_update=True)
    if row is not None:
        stop_watch(uow, row, watcher.username or "", "unwatched")


def watch_json(row: Watch) -> dict[str, Any]:
    from packyard.events import format_time
    return {"owner": row.owner, "repo": row.repo, "package": row.package, "filter": filter_json(row),
            "created": format_time(row.created_at)}


def revalidate(uow: UnitOfWork, owner: str, repo: str | None = None, package: str | None = None) -> None:
    """Stop the watches (of ``owner``'s packages, or of one repository or package) whose watcher can no
    longer read the package, or whose package is gone."""
    session = uow.session
    query = (sa.select(Watch, User.username).join(User, User.id == Watch.user_id)
             .where(Watch.owner == owner, Watch.active.is_(True)).with_for_update(of=Watch))
    if repo is not None:
        query = query.where(Watch.repo == repo)
    if package is not None:
        query = query.where(Watch.package == package)
    for row, username in session.execute(query).all():
        found = live_repo(session, row.owner, row.repo)
        pkg = session.get(Package, (row.owner, row.repo, row.package)) if found is not None else None
        if found is None or pkg is None or pkg.deleted:
            stop_watch(uow, row, username or "", "package_deleted")
        elif found.private and not may_read(session, row.user_id, username, row.owner, row.repo):
            stop_watch(uow, row, username or "", "access_lost")


def revalidate_user(uow: UnitOfWork, username: str) -> None:
    """Re-check every private watch of one user (their memberships or teams changed)."""
    session = uow.session
    user = session.scalars(sa.select(User).where(User.username == username)).first()
    if user is None:
        return
    rows = session.scalars(sa.select(Watch).where(Watch.user_id == user.id, Watch.active.is_(True))
                           .with_for_update()).all()
    for row in rows:
        found = live_repo(session, row.owner, row.repo)
        if found is not None and found.private and not may_read(session, user.id, username, row.owner, row.repo):
            stop_watch(uow, row, username, "access_lost")
