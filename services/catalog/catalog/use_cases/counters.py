"""Counters on package and version JSON kept from social's state-carrying events.

Each event carries the resulting count (``watchers_count``, ``rating_count``). The revision it
also carries orders the changes of one user's watch or review, not those of a package's count,
so the count of the most recent event (by the time social recorded it) wins: an older event
arriving late is ignored.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from catalog.models import Package, Repo, Version
from packyard.db import UnitOfWork


def _package(uow: UnitOfWork, owner: str, repo: str, package: str) -> Package | None:
    return uow.session.scalars(sa.select(Package).join(Repo, Repo.id == Package.repo_id)
                               .where(Repo.owner == owner, Repo.name == repo, Package.name == package)
                               .with_for_update(of=Package)).first()


def _newer(as_of: datetime | None, at: datetime) -> bool:
    return as_of is None or at >= as_of


def record_followers(uow: UnitOfWork, owner: str, repo: str, package: str, count: int, at: datetime) -> None:
    found = _package(uow, owner, repo, package)
    if found is not None and _newer(found.followers_as_of, at):
        found.followers_count, found.followers_as_of = count, at


def record_ratings(uow: UnitOfWork, owner: str, repo: str, package: str, count: int, at: datetime, *,
                   version: str | None = None, version_rating_count: int | None = None) -> None:
    found = _package(uow, owner, repo, package)
    if found is None:
        return
    if _newer(found.ratings_as_of, at):
        found.rating_count, found.ratings_as_of = count, at
    if version is None or version_rating_count is None:
        return
    target = uow.session.scalars(sa.select(Version).where(Version.package_id == found.id,
                                                          Version.name == version)).first()
    if target is not None and _newer(target.ratings_as_of, at):
        target.rating_count, target.ratings_as_of = version_rating_count, at
