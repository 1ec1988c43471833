"""Storage used per owner (Bintray's ``quota_used_bytes``), the per-owner storage quota and the upload rate limit.

An owner's usage is the size of every file of their repositories, published or not (signatures
included), counted per file as the owner sees it (two files with the same content count twice,
although the blob store keeps one copy). Every change is announced with ``catalog.usage.changed``
``{owner, used_bytes, revision}``, ``revision`` growing with each (identity keeps
``quota_used_bytes`` from it). Use cases that add, replace, move or delete files call
:func:`settle` for each owner concerned, in the same transaction; it measures the owner's files
again, so it is exact whatever changed.

As a safety net for any change made without :func:`settle` (a signature stored beside a file, say),
the worker's :func:`reconcile` pass compares every owner's recorded usage with their files every
``USAGE_RECONCILE_INTERVAL`` seconds and settles those that differ.

``OWNER_QUOTA_BYTES`` (0: none) bounds an owner's usage: an upload that would go beyond it
answers 413 before a byte is read when its size is announced, and in any case before it is
recorded. The owner's usage row is locked from that check to the commit, so concurrent uploads of
one owner cannot both squeeze under the quota.

``UPLOAD_RATE_LIMIT`` uploads per ``UPLOAD_RATE_WINDOW`` seconds (0: no limit) per user, counted
when an upload starts (refused ones and failed ones included), in the database so that every API
replica shares the count: beyond it, 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from catalog import events
from catalog.models import File, OwnerUsage, Repo, UploadWindow
from packyard.db import UnitOfWork, is_postgres, utcnow
from packyard.errors import TooLarge, TooManyRequests


@dataclass(frozen=True)
class Limits:
    quota_bytes: int = 0  # per owner; 0: no quota
    uploads: int = 0  # per user and window; 0: no limit
    window_seconds: int = 60


def _insert(session: sa.orm.Session) -> Callable[[type[Any]], postgresql.Insert | sqlite.Insert]:
    return postgresql.insert if is_postgres(session.connection()) else sqlite.insert


def lock(uow: UnitOfWork, owner: str) -> OwnerUsage:
    """The owner's usage row, created when missing, locked until the transaction ends."""
    session = uow.session
    session.execute(_insert(session)(OwnerUsage).values(owner=owner, used_bytes=0, revision=0, updated_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["owner"]))
    row = session.get(OwnerUsage, owner, with_for_update=True, populate_existing=True)
    assert row is not None  # inserted above when missing
    return row


def measure(session: sa.orm.Session, owner: str) -> int:
    """Bytes of every file of the owner's repositories, as this transaction sees them."""
    session.flush()
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(File.size), 0))
                              .join(Repo, Repo.id == File.repo_id).where(Repo.owner == owner)) or 0)


def settle(uow: UnitOfWork, *owners: str) -> None:
    """Measure the owners' usage again; announce each that changed."""
    for owner in sorted(set(owners)):
        row = lock(uow, owner)
        used = measure(uow.session, owner)
        if used == row.used_bytes and row.revision > 0:
            continue
        row.used_bytes, row.revision, row.updated_at = used, row.revision + 1, utcnow()
        uow.publish(events.USAGE_CHANGED, {"owner": owner, "used_bytes": used, "revision": row.revision},
                    subject=owner)


def _human(n: int) -> str:
    size: float = n
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def check_quota(used: int, adding: int, owner: str, limits: Limits) -> None:
    """413 when ``adding`` more bytes would take ``owner`` beyond the quota."""
    if limits.quota_bytes and adding > 0 and used + adding > limits.quota_bytes:
        raise TooLarge(f"Storage quota exceeded: '{owner}' uses {_human(used)} of {_human(limits.quota_bytes)}, "
                       f"and this upload needs {_human(adding)} more; delete files or versions to make room")


def count_upload(uow: UnitOfWork, user_id: str, limits: Limits, now: datetime | None = None) -> None:
    """Count an upload the user starts; 429 beyond the limit (the refused attempt is not counted)."""
    if not limits.uploads:
        return
    now = now or utcnow()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    epoch = int(now.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % limits.window_seconds, tz=UTC)
    session = uow.session
    session.execute(_insert(session)(UploadWindow).values(user_id=user_id, window_start=start, uploads=0)
                    .on_conflict_do_nothing(index_elements=["user_id", "window_start"]))
    row = session.get(UploadWindow, (user_id, start), with_for_update=True, populate_existing=True)
    assert row is not None  # inserted above when missing
    if row.uploads >= limits.uploads:
        wait = max(1, math.ceil((start + timedelta(seconds=limits.window_seconds) - now).total_seconds()))
        raise TooManyRequests(f"Upload rate limit reached: at most {limits.uploads} uploads every "
                              f"{limits.window_seconds} seconds; try again in {wait} seconds",
                              headers={"Retry-After": str(wait)})
    row.uploads += 1
    # Windows of the past are of no further use.
    session.execute(sa.delete(UploadWindow).where(UploadWindow.user_id == user_id, UploadWindow.window_start < start)
                    .execution_options(synchronize_session=False))


def reconcile(uow_factory: Callable[[], UnitOfWork]) -> int:
    """Settle every owner whose recorded usage differs from their files; the number of owners settled."""
    with uow_factory() as uow:
        measured = dict(uow.session.execute(
            sa.select(Repo.owner, sa.func.sum(File.size)).join(File, File.repo_id == Repo.id)
            .group_by(Repo.owner)).all())
        recorded = dict(uow.session.execute(sa.select(OwnerUsage.owner, OwnerUsage.used_bytes)).all())
    stale = sorted(owner for owner in {*measured, *recorded}
                   if int(measured.get(owner) or 0) != int(recorded.get(owner, -1)))
    for owner in stale:
        with uow_factory() as uow:  # one owner per transaction: short locks
            settle(uow, owner)
            uow.commit()
    return len(stale)
