"""Daily download roll-ups for other services (``catalog.downloads.rolled_up``).

A day (UTC) is rolled up once it ended ``ROLLUP_DELAY`` seconds ago, leaving time for counts still
on their way (the API's in-memory counters, the gateway's log). Each (package, day) is announced
once: its ``download_rollups`` row is inserted in the same transaction as the outbox row, and only
the transaction whose insert took effect publishes, so worker replicas running this at the same
time never announce a day twice. Downloads counted after a day was rolled up stay in the
statistics endpoints but are not announced again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from catalog import events
from catalog.models import DownloadCount, DownloadRollup, Package, Repo, Version
from packyard.db import UnitOfWork, is_postgres

LOOKBACK_DAYS = 7  # days further back are never rolled up (e.g. on a first start with years of counts)
BATCH = 200


def last_complete_day(now: datetime, delay_seconds: float) -> date:
    return (now - timedelta(seconds=delay_seconds)).date() - timedelta(days=1)


def roll_up(uow_factory: Callable[[], UnitOfWork], now: datetime, *, delay_seconds: float,
            lookback_days: int = LOOKBACK_DAYS, batch: int = BATCH) -> int:
    """Announce every (package, day) not yet rolled up among the last complete days; how many were announced."""
    last = last_complete_day(now, delay_seconds)
    first = last - timedelta(days=lookback_days - 1)
    announced = 0
    while True:
        with uow_factory() as uow:
            found, won = _roll_up_batch(uow, first, last, now, batch)
            uow.commit()
        announced += won
        if found < batch:
            return announced


def _roll_up_batch(uow: UnitOfWork, first: date, last: date, now: datetime, batch: int) -> tuple[int, int]:
    session = uow.session
    done = sa.exists().where(DownloadRollup.package_id == DownloadCount.package_id,
                             DownloadRollup.day == DownloadCount.day)
    pending = session.execute(
        sa.select(DownloadCount.package_id, DownloadCount.day, sa.func.sum(DownloadCount.count))
        .where(DownloadCount.day >= first, DownloadCount.day <= last, ~done)
        .group_by(DownloadCount.package_id, DownloadCount.day)
        .order_by(DownloadCount.day, DownloadCount.package_id).limit(batch)).all()
    if not pending:
        return 0, 0
    table = DownloadRollup.__table__
    insert = (postgresql.insert if is_postgres(session.get_bind()) else sqlite.insert)(table).values(
        [{"package_id": package_id, "day": day, "downloads": int(total), "rolled_up_at": now}
         for package_id, day, total in pending])
    won = {(row.package_id, row.day): row.downloads for row in session.execute(
        insert.on_conflict_do_nothing(index_elements=[table.c.package_id, table.c.day])
        .returning(table.c.package_id, table.c.day, table.c.downloads))}
    if not won:
        return len(pending), 0
    package_ids = {package_id for package_id, _day in won}
    days = {day for _package_id, day in won}
    names = {row.id: row for row in session.execute(
        sa.select(Package.id, Package.name, Repo.owner, Repo.name.label("repo"), Repo.private)
        .join(Repo, Repo.id == Package.repo_id).where(Package.id.in_(package_ids)))}
    by_version: dict[tuple[int, date], list[dict[str, object]]] = {key: [] for key in won}
    for package_id, day, version, count in session.execute(
            sa.select(DownloadCount.package_id, DownloadCount.day, Version.name, sa.func.sum(DownloadCount.count))
            .join(Version, Version.id == DownloadCount.version_id)
            .where(DownloadCount.package_id.in_(package_ids), DownloadCount.day.in_(days))
            .group_by(DownloadCount.package_id, DownloadCount.day, Version.name)
            .order_by(DownloadCount.package_id, DownloadCount.day, Version.name)):
        if (package_id, day) in by_version:
            by_version[(package_id, day)].append({"version": version, "count": int(count)})
    for (package_id, day), downloads in sorted(won.items(), key=lambda item: (item[0][1], item[0][0])):
        package = names[package_id]
        uow.publish(events.DOWNLOADS_ROLLED_UP, {
            "owner": package.owner, "repo": package.repo, "private": package.private, "package": package.name,
            "day": day, "downloads": int(downloads), "versions": by_version[(package_id, day)]},
            subject=f"{package.owner}/{package.repo}/{package.name}")
    return len(pending), len(won)
