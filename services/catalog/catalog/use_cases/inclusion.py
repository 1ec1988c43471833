"""Inclusion requests (Bintray's "Add to JCenter"): a publisher asks an aggregate repository's
administrators to include their package; approving links it. Each step tells who must hear of it.

A request is seen by its requester, the package's publishers and the target's administrators;
for anyone else it does not exist.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.exc

from catalog import events
from catalog.models import InclusionRequest, Package, Repo
from catalog.use_cases.access import ADMIN, PUBLISH, level_on, repo_admins, repo_for
from catalog.use_cases.links import add_link, check_linkable, check_path_prefix, is_linked
from catalog.use_cases.versions import locate
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Forbidden, Invalid, NotFound

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATUSES = (PENDING, APPROVED, REJECTED)


def parse_repo_ref(value: str, field: str = "target") -> tuple[str, str]:
    owner, slash, name = value.strip().partition("/")
    if not slash or not owner or not name or "/" in name:
        raise Invalid(f"{field} must name a repository as '<subject>/<repository>'")
    return owner, name


def _event(request: InclusionRequest, package: Package, source: Repo, target: Repo,
           recipients: list[str]) -> dict[str, object]:
    return {"owner": source.owner, "repo": source.name, "private": source.private, "package": package.name,
            "request_id": request.id, "target_owner": target.owner, "target_repo": target.name,
            "target_private": target.private, "requester": request.requester, "recipients": recipients}


def request_inclusion(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, target: str,
                      message: str | None, path_prefix: str | None, now: datetime) -> InclusionRequest:
    """Ask to include a package one may publish to in another repository one can see."""
    session = uow.session
    found = locate(session, actor, owner, repo, package, needed=PUBLISH, action="ask for its inclusion elsewhere")
    target_owner, target_name = parse_repo_ref(target)
    aggregate = repo_for(session, actor, target_owner, target_name).repo
    prefix = check_path_prefix(path_prefix)
    check_linkable(found.repo, aggregate, source_level=found.access.level)
    if is_linked(session, found.package, aggregate):
        raise Conflict(f"Package '{package}' is already included in repository '{target_owner}/{target_name}'")
    request = InclusionRequest(package_id=found.package.id, repo_id=aggregate.id, requester=actor.username,
                               requester_id=actor.user_id, message=message, path_prefix=prefix, status=PENDING,
                               created=now)
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except sqlalchemy.exc.IntegrityError:
        raise Conflict(f"A request to include package '{package}' in '{target_owner}/{target_name}' "
                       "is already pending") from None
    uow.publish(events.INCLUSION_REQUESTED, {
        **_event(request, found.package, found.repo, aggregate, repo_admins(session, aggregate)),
        "message": message}, subject=f"{found.repo.owner}/{found.repo.name}/{package}")
    return request


def visible_request(session: sa.orm.Session, actor: Principal, request_id: int,
                    *, lock: bool = False) -> tuple[InclusionRequest, Package, Repo, Repo, int]:
    """The request with its package, the package's repository, the target and the caller's level on the
    target; 404 for anyone but its requester, the package's publishers and the target's administrators."""
    request = session.get(InclusionRequest, request_id, with_for_update=lock)
    if request is not None:
        package = session.get_one(Package, request.package_id)  # rows the foreign keys guarantee
        source = session.get_one(Repo, package.repo_id)
        target = session.get_one(Repo, request.repo_id)
        target_level = level_on(session, actor, target)
        if (request.requester_id == actor.user_id or target_level >= ADMIN
                or level_on(session, actor, source) >= PUBLISH):
            return request, package, source, target, target_level
    raise NotFound(f"Inclusion request {request_id} was not found")


def decide_inclusion(uow: UnitOfWork, actor: Principal, request_id: int, *, approve: bool, reason: str | None,
                     now: datetime) -> InclusionRequest:
    """Approve (link the package) or reject a pending request (``admin`` on the target repository)."""
    session = uow.session
    request, package, source, target, level = visible_request(session, actor, request_id, lock=True)
    if level < ADMIN:
        raise Forbidden(f"Only administrators of repository '{target.owner}/{target.name}' decide its inclusion "
                        "requests")
    if request.status != PENDING:
        raise Conflict(f"Inclusion request {request_id} was already {request.status}")
    if approve:
        # The requester's right was checked when they asked; what the package may be shown in is checked again.
        check_linkable(source, target, source_level=ADMIN)
        if not is_linked(session, package, target):
            add_link(uow, actor.username, target, source, package, request.path_prefix, now)
    request.status = APPROVED if approve else REJECTED
    request.reason, request.decided_by, request.decided_at = reason, actor.username, now
    uow.publish(events.INCLUSION_APPROVED if approve else events.INCLUSION_REJECTED, {
        **_event(request, package, source, target, [request.requester]), "by": actor.username, "reason": reason},
        subject=f"{source.owner}/{source.name}/{package.name}")
    return request
