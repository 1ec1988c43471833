"""Download statistics in Bintray's shapes, and the popularity ranking.

Counts are kept per file, day (UTC) and country; a range ``from``–``to`` covers the days from
the one ``from`` falls on to the one ``to`` falls on, both included. As on Bintray, a package's
statistics are shown to everyone who may read it only when its ``public_stats`` is set; otherwise
to those who may publish to it (401 to anonymous callers, 403 to other readers). Statistics of a
private package are never shown to those who cannot read it (404, as for the package itself).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from catalog.downloads.paths import AUTH_REQUIRED
from catalog.models import DownloadCount, Package, Repo, Version
from catalog.use_cases.access import PUBLISH
from catalog.use_cases.versions import Located, locate
from packyard.auth import Principal
from packyard.errors import Forbidden, Invalid, Unauthorized
from packyard.events import format_time

DEFAULT_DAYS = 30
MAX_TIME_RANGE_DAYS = 366


def stats_range(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The range asked for: ``to`` defaults to now, ``from`` to 30 days before ``to``."""
    end = end or now
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if start > end:
        raise Invalid("'from' must not be later than 'to'")
    return start, end


def _days(start: datetime, end: datetime) -> tuple[date, date]:
    return start.date(), end.date()


def _scope(session: Session, viewer: Principal | None, owner: str, repo: str, package: str, version: str | None,
           start: datetime, end: datetime) -> tuple[Located, list[sa.ColumnElement[bool]]]:
    """The package (or version) the caller may read, and the conditions selecting its counts in the range."""
    found = locate(session, viewer, owner, repo, package, version)
    if not found.package.public_stats and found.access.level < PUBLISH:
        if viewer is None:
            raise Unauthorized(AUTH_REQUIRED, headers={"WWW-Authenticate": 'Basic realm="Packyard"'})
        raise Forbidden(f"The statistics of package '{found.package.name}' are shown to its publishers only")
    first, last = _days(start, end)
    where = [DownloadCount.package_id == found.package.id, DownloadCount.day >= first, DownloadCount.day <= last]
    if found.version is not None:
        where.append(DownloadCount.version_id == found.version.id)
    return found, where


def _envelope(start: datetime, end: datetime, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"from": format_time(start), "to": format_time(end), "records": records}


def total_downloads(session: Session, viewer: Principal | None, owner: str, repo: str, package: str,
                    version: str | None, start: datetime, end: datetime) -> dict[str, Any]:
    """``{"from", "to", "records": [{"version", "count"}]}``, most downloaded first."""
    found, where = _scope(session, viewer, owner, repo, package, version, start, end)
    total = sa.func.sum(DownloadCount.count)
    rows = session.execute(sa.select(Version.name, total).join(Version, Version.id == DownloadCount.version_id)
                           .where(*where).group_by(Version.name).order_by(total.desc(), Version.name)).all()
    records = [{"version": name, "count": int(count)} for name, count in rows]
    if found.version is not None and not records:
        records = [{"version": found.version.name, "count": 0}]  # the version asked for, even when never downloaded
    return _envelope(start, end, records)


def time_range_downloads(session: Session, viewer: Principal | None, owner: str, repo: str, package: str,
                         version: str | None, start: datetime, end: datetime) -> dict[str, Any]:
    """``{"from", "to", "records": [{"date": "yyyy/MM/dd", "downloads": [{"version", "count"}]}]}``, every day
    of the range in order (``downloads`` empty on a day without any)."""
    first, last = _days(start, end)
    if (last - first).days >= MAX_TIME_RANGE_DAYS:
        raise Invalid(f"The time range may cover at most {MAX_TIME_RANGE_DAYS} days")
    _found, where = _scope(session, viewer, owner, repo, package, version, start, end)
    total = sa.func.sum(DownloadCount.count)
    per_day: dict[date, list[dict[str, Any]]] = {}
    for day, name, count in session.execute(
            sa.select(DownloadCount.day, Version.name, total).join(Version, Version.id == DownloadCount.version_id)
            .where(*where).group_by(DownloadCount.day, Version.name)
            .order_by(DownloadCount.day, total.desc(), Version.name)):
        per_day.setdefault(day, []).append({"version": name, "count": int(count)})
    records = []
    day = first
    while day <= last:
        records.append({"date": day.strftime("%Y/%m/%d"), "downloads": per_day.get(day, [])})
        day += timedelta(days=1)
    return _envelope(start, end, records)


def country_downloads(session: Session, viewer: Principal | None, owner: str, repo: str, package: str,
                      version: str | None, start: datetime, end: datetime) -> dict[str, Any]:
    """``{"from", "to", "records": [{"country", "count"}]}``, most downloads first (``unknown`` when the
    country header was missing)."""
    _found, where = _scope(session, viewer, owner, repo, package, version, start, end)
    total = sa.func.sum(DownloadCount.count)
    rows = session.execute(sa.select(DownloadCount.country, total).where(*where)
                           .group_by(DownloadCount.country).order_by(total.desc(), DownloadCount.country)).all()
    return _envelope(start, end, [{"country": country, "count": int(count)} for country, count in rows])


def popular(session: Session, *, days: int, limit: int, today: date) -> list[dict[str, Any]]:
    """Packages of public repositories by downloads over the last ``days`` days (today included)."""
    total = sa.func.sum(DownloadCount.count).label("downloads")
    ranked = (sa.select(DownloadCount.package_id, total)
              .where(DownloadCount.day > today - timedelta(days=days), DownloadCount.day <= today)
              .group_by(DownloadCount.package_id).subquery())
    rows = session.execute(
        sa.select(Repo.owner, Repo.name, Package.name, ranked.c.downloads)
        .join(Package, Package.id == ranked.c.package_id).join(Repo, Repo.id == Package.repo_id)
        .where(Repo.private.is_(False))
        .order_by(ranked.c.downloads.desc(), Repo.owner, Repo.name, Package.name).limit(limit)).all()
    return [{"owner": owner, "repo": repo, "package": package, "downloads": int(downloads)}
            for owner, repo, package, downloads in rows]
