"""Counters on package and version JSON kept from social's state-carrying events.

Each event carries the resulting counter (``watchers_count``; ``rating_count`` with the average
``average_rating``) and its ``count_revision``: a per-package sequence that grows with every change
of that counter, whoever made it. Catalog keeps the highest ``count_revision`` it applied per package
and counter and replaces the counter only when an event's is higher, so an older count arriving
late — or a redelivery — changes nothing. (``revision`` orders ONE user's watch or review: two
users' revisions say nothing about which count is newer; it is only the fallback for events that
carry no ``count_revision``.)
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


def _higher(applied: int | None, count_revision: int) -> bool:
    return applied is None or count_revision > applied


def record_followers(uow: UnitOfWork, owner: str, repo: str, package: str, count: int, count_revision: int,
                     at: datetime) -> None:
    found = _package(uow, owner, repo, package)
    if found is not None and _higher(found.followers_count_revision, count_revision):
        found.followers_count, found.followers_count_revision, found.followers_as_of = count, count_revision, at


def record_ratings(uow: UnitOfWork, owner: str, repo: str, package: str, count: int, average: float | None,
                   count_revision: int, at: datetime, *, version: str | None = None,
                   version_rating_count: int | None = None) -> None:
    found = _package(uow, owner, repo, package)
    if found is None:
        return
    if _higher(found.ratings_count_revision, count_revision):
        found.rating_count, found.ratings_count_revision, found.ratings_as_of = count, count_revision, at
        found.rating = (average or 0.0) if count else 0.0
    if version is None or version_rating_count is None:
        return
    # Per-version counts (an optional field social may add) carry no sequence of their own: by event time.
    target = uow.session.scalars(sa.select(Version).where(Version.package_id == found.id,
                                                          Version.name == version)).first()
    if target is not None and _newer(target.ratings_as_of, at):
        target.rating_count, target.ratings_as_of = version_rating_count, at
