"""The fan-out of a release: who is told, split into batches that any worker can take.

When ``catalog.version.released`` arrives, :func:`release` works out the recipients in one
query — the package's watchers whose filter lets the version through, and (for a public
package) the followers of its owner and of the user who published it — each once, sorted.
It tells the first batch at once (so the first watchers see the release quickly) and publishes
every other batch as a ``notifier.fanout.batch`` event through the outbox, in the same
transaction: either the whole plan is recorded or nothing is, and the broker's redelivery of
the release finds the inbox row and does nothing. Each batch is handled by whichever worker
takes it from ``notifier.fanout``, idempotently (the inbox, and unique keys per user, kind and
event), so a worker killed mid-batch leaves it to be redone without a second notification.

A watcher's filter decides for them even when they also follow the publisher: a stable-only
watcher of a package hears of no pre-release of it. Followers of a publisher hear of a private
package's releases only when they watch it (social keeps watches of private packages to those
who can read them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa

from notifier import events, kinds, webhooks
from notifier.models import Follow, Recipient, Watch
from notifier.notify import Notice, tell_many
from packyard.db import UnitOfWork
from packyard.events import format_time


@dataclass(frozen=True)
class Release:
    event_id: str
    owner: str
    repo: str
    package: str
    version: str
    publisher: str
    released: str  # as on the wire
    release_notes: str | None = None
    private: bool = False

    def wire(self) -> dict[str, Any]:
        return asdict(self)


def package_link(base: str, owner: str, repo: str, package: str) -> str:
    """The package's page in the web app (the links people follow, from emails and the inbox)."""
    return f"{base}/ui/packages/{quote(owner)}/{quote(repo)}/{quote(package)}"


def version_link(base: str, release: Release) -> str:
    return f"{package_link(base, release.owner, release.repo, release.package)}/versions/{quote(release.version)}"


def share_link(base: str, release: Release) -> str:
    """X/Twitter's web intent with the announcement prefilled."""
    text = f"{release.package} {release.version} is out"
    return "https://twitter.com/intent/tweet?" + urlencode({"text": text, "url": version_link(base, release)})


def recipients(session: Any, release: Release) -> list[str]:
    """User ids to tell about ``release``, sorted, each once."""
    watching = session.execute(
        sa.select(Recipient.user_id, Watch.filter_kind, Watch.filter_pattern)
        .join(Recipient, sa.and_(Recipient.username == Watch.username, Recipient.deleted_at.is_(None)))
        .where(Watch.owner == release.owner, Watch.repo == release.repo, Watch.package == release.package,
               Watch.active.is_(True), Watch.username != release.publisher)).all()
    chosen = {user_id for user_id, kind, pattern in watching if kinds.matches(kind, pattern, release.version)}
    if not release.private:
        decided = {user_id for user_id, _k, _p in watching}  # watchers' filters decide for them
        followers = session.scalars(
            sa.select(Recipient.user_id)
            .join(Follow, sa.and_(Follow.follower == Recipient.username, Recipient.deleted_at.is_(None)))
            .where(Follow.followee.in_(sorted({release.owner, release.publisher})), Follow.active.is_(True),
                   Follow.follower != release.publisher)).all()
        chosen.update(u for u in followers if u not in decided)
    return sorted(chosen)


def notice(release: Release, base: str) -> Notice:
    link = version_link(base, release)
    title = f"{release.owner}/{release.repo}/{release.package} {release.version} was released"
    body = f"{release.publisher} released version {release.version} of {release.package}."
    if release.release_notes:
        body += "\n\n" + release.release_notes[:2000]
    share = share_link(base, release)
    return Notice(kind=kinds.RELEASE, event_id=release.event_id, title=title, body=body, link=link,
                  data={"owner": release.owner, "repo": release.repo, "package": release.package,
                        "version": release.version, "released": release.released, "share_url": share},
                  context={"owner": release.owner, "repo": release.repo, "package": release.package,
                           "version": release.version, "publisher": release.publisher,
                           "release_notes": release.release_notes, "share_url": share})


def release(uow: UnitOfWork, rel: Release, *, base: str, batch_size: int, now: datetime,
            max_attempts: int) -> int:
    """Plan and start the fan-out of ``rel``; returns how many recipients it has."""
    everyone = recipients(uow.session, rel)
    batches = [everyone[i:i + batch_size] for i in range(0, len(everyone), batch_size)]
    if batches:
        tell_many(uow, notice(rel, base), batches[0], now=now)
    for number, batch in enumerate(batches[1:], start=2):
        uow.publish(events.FANOUT_BATCH, {"release": rel.wire(), "batch": number, "batches": len(batches),
                                          "recipients": batch},
                    subject=f"{rel.owner}/{rel.repo}/{rel.package}/{rel.version}")
    webhooks.queue_release_calls(uow, rel, now=now, max_attempts=max_attempts, base=base)
    return len(everyone)


def batch(uow: UnitOfWork, rel: Release, user_ids: list[str], *, base: str, now: datetime) -> int:
    return tell_many(uow, notice(rel, base), user_ids, now=now)


def released_time(value: Any) -> str:
    return value if isinstance(value, str) else format_time(value)
