"""Webhooks as Bintray listed them: ``[{"package", "url", "failure_count"}]``.

A webhook is its registrant's own (their API key signs its callbacks, its URL may carry their
secrets): a publisher lists the webhooks they registered, never another publisher's; platform
administrators see them all."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from catalog.models import Package, Repo, Webhook
from catalog.use_cases.access import PUBLISH, level_on, live_subject, repo_for
from packyard.auth import Principal
from packyard.errors import NotFound


def list_webhooks(session: Session, actor: Principal, owner: str, repo: str | None = None) -> list[dict[str, Any]]:
    """The caller's webhooks on a subject's repositories (or on one) that the caller may publish to."""
    if repo is not None:
        repos = [repo_for(session, actor, owner, repo, PUBLISH, action="see its webhooks").repo]
    else:
        everything = session.scalars(sa.select(Repo).where(Repo.owner == owner)).all()
        if not everything and live_subject(session, owner) is None:
            raise NotFound(f"Subject '{owner}' was not found")
        repos = [r for r in everything if level_on(session, actor, r) >= PUBLISH]
    if not repos:
        return []
    query = (sa.select(Package.name, Webhook.url, Webhook.failure_count)
             .join(Package, Package.id == Webhook.package_id)
             .where(Package.repo_id.in_([r.id for r in repos])))
    if not actor.admin:
        query = query.where(Webhook.username == actor.username, Webhook.user_id == actor.user_id)
    rows = session.execute(query.order_by(Package.name, Webhook.username)).all()
    return [{"package": name, "url": url, "failure_count": failures} for name, url, failures in rows]
