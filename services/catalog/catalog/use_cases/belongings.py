"""What a subject owns leaves with it, each with its own events: its repositories (and the team grants
on them), and the webhooks it registered on others' packages.

The replica of identity's subjects (``subjects``) removes belongings when an account or organization
is deleted or its name passes to a new identity; the use cases of repositories and webhooks remove one
at a time through the same functions, so every removal is announced the same way.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from catalog import events
from catalog.models import Package, Repo, RepoPermission, Webhook
from catalog.use_cases import usage
from catalog.use_cases.revisions import next_revision
from packyard.db import UnitOfWork

# --- repositories -------------------------------------------------------------------------------


def delete_repository(uow: UnitOfWork, repo: Repo) -> None:
    data: dict[str, Any] = {"owner": repo.owner, "repo": repo.name, "private": repo.private,
                            "revision": repo.revision + 1}
    teams = uow.session.scalars(sa.select(RepoPermission.team).where(RepoPermission.repo_id == repo.id)
                                .order_by(RepoPermission.team)).all()
    for team in teams:
        announce_grant_removed(uow, repo.owner, repo.name, team)
    # Children go with the repository (ON DELETE CASCADE); one event tells consumers to do the same.
    uow.session.execute(sa.delete(Repo).where(Repo.id == repo.id))
    uow.session.expunge(repo)
    uow.publish(events.REPO_DELETED, data, subject=f"{data['owner']}/{data['repo']}")
    usage.settle(uow, data["owner"])


def remove_repositories_of(uow: UnitOfWork, owner: str) -> int:
    """Delete every repository of a subject that is gone (its account or organization was deleted)."""
    repos = uow.session.scalars(sa.select(Repo).where(Repo.owner == owner).order_by(Repo.id)).all()
    for repo in repos:
        delete_repository(uow, repo)
    return len(repos)


# --- team grants --------------------------------------------------------------------------------

def grant_key(owner: str, repo: str, team: str) -> str:
    return f"{owner}/{repo}/{team}"


def announce_grant_removed(uow: UnitOfWork, owner: str, repo: str, team: str) -> None:
    """Publish that a team lost its permission on a repository (its row is removed by the caller)."""
    uow.publish(events.PERMISSION_REMOVED, {
        "owner": owner, "repo": repo, "team": team,
        "revision": next_revision(uow.session, "permission", grant_key(owner, repo, team))},
        subject=f"{owner}/{repo}")


# --- webhooks -----------------------------------------------------------------------------------

def webhook_ref(repo: Repo, package: Package) -> dict[str, object]:
    return {"owner": repo.owner, "repo": repo.name, "private": repo.private, "package": package.name}


def announce_webhook_deleted(uow: UnitOfWork, repo: Repo, package: Package, hook: Webhook) -> None:
    uow.publish(events.WEBHOOK_DELETED, {**webhook_ref(repo, package), "username": hook.username, "url": hook.url,
                                         "webhook_id": hook.id},
                subject=f"{repo.owner}/{repo.name}/{package.name}")


def remove_webhooks_of(uow: UnitOfWork, username: str, user_id: str) -> int:
    """Delete the webhooks of a deleted account."""
    rows = uow.session.execute(
        sa.select(Webhook, Package, Repo).join(Package, Package.id == Webhook.package_id)
        .join(Repo, Repo.id == Package.repo_id).where(Webhook.username == username, Webhook.user_id == user_id)
        .order_by(Webhook.id)).all()
    for hook, package, repo in rows:
        uow.session.delete(hook)
        announce_webhook_deleted(uow, repo, package, hook)
    return len(rows)
