"""Replicas of who follows and watches what (social), and who runs which organization (identity).

Each relationship keeps the highest ``revision`` seen; an event with a revision at most that is
older news and changes nothing, so events arriving late or twice cannot undo a newer change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from notifier import kinds
from notifier.models import Follow, OrgAdmin, Recipient, Watch
from notifier.notify import Notice, tell
from packyard.db import UnitOfWork


def apply_watch(uow: UnitOfWork, *, username: str, owner: str, repo: str, package: str, active: bool,
                private: bool, filter_kind: str | None, filter_pattern: str | None, revision: int) -> bool:
    session = uow.session
    watch = session.get(Watch, (username, owner, repo, package), with_for_update=True)
    kind = filter_kind if filter_kind in kinds.FILTER_KINDS else "all"
    pattern = filter_pattern if kind == "regex" else None
    if watch is None:
        session.add(Watch(username=username, owner=owner, repo=repo, package=package, active=active,
                          private=private, filter_kind=kind, filter_pattern=pattern, revision=revision))
        session.flush()
        return True
    if revision <= watch.revision:
        return False
    watch.active, watch.private, watch.revision = active, private, revision
    if active or filter_kind is not None:
        watch.filter_kind, watch.filter_pattern = kind, pattern
    return True


def apply_follow(uow: UnitOfWork, *, follower: str, followee: str, followee_type: str, active: bool,
                 revision: int, event_id: str, base: str, now: datetime) -> None:
    session = uow.session
    follow = session.get(Follow, (follower, followee), with_for_update=True)
    was_active = follow is not None and follow.active
    if follow is None:
        session.add(Follow(follower=follower, followee=followee, active=active, revision=revision))
        session.flush()
    elif revision <= follow.revision:
        return
    else:
        follow.active, follow.revision = active, revision
    if active and not was_active and followee_type == "user":
        tell(uow, Notice(kind=kinds.FOLLOWER, event_id=event_id, title=f"{follower} now follows you",
                         body=f"{follower} will hear about your new releases.",
                         link=f"{base}/ui/users/{follower}", context={"follower": follower}), [followee], now=now)


def apply_membership(uow: UnitOfWork, *, org: str, username: str, role: str | None, revision: int) -> None:
    """Owners and admins of an organization hear about its packages; members do not."""
    session = uow.session
    row = session.get(OrgAdmin, (org, username), with_for_update=True)
    admin = role in ("owner", "admin")
    if row is None:
        session.add(OrgAdmin(org=org, username=username, revision=revision, active=admin))
    elif revision >= row.revision:
        row.active, row.revision = admin, revision


def forget_org(uow: UnitOfWork, org: str) -> None:
    uow.session.execute(sa.update(OrgAdmin).where(OrgAdmin.org == org).values(active=False))


def owners_of(session: object, subject: str) -> list[str]:
    """Who speaks for ``subject``: the user of that name, or the organization's owners and admins."""
    admins = list(session.scalars(sa.select(OrgAdmin.username).where(  # type: ignore[attr-defined]
        OrgAdmin.org == subject, OrgAdmin.active.is_(True))))
    if admins:
        return admins
    return [subject] if session.scalar(sa.select(Recipient.user_id).where(  # type: ignore[attr-defined]
        Recipient.username == subject)) else []


def forget_user(uow: UnitOfWork, username: str | None) -> None:
    if not username:
        return
    session = uow.session
    session.execute(sa.update(Watch).where(Watch.username == username).values(active=False))
    session.execute(sa.update(Follow).where(Follow.follower == username).values(active=False))


def usernames(values: Iterable[str | None]) -> list[str]:
    return sorted({v for v in values if v})
