"""Inclusion requests as their requester, the package's publishers and the target's administrators see them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from catalog.models import InclusionRequest, Package, Repo
from catalog.queries.common import time_or_none
from catalog.use_cases.access import ADMIN, repo_for
from catalog.use_cases.inclusion import visible_request
from packyard.auth import Principal
from packyard.paging import Page, page_of


def inclusion_json(request: InclusionRequest, package: Package, source: Repo, target: Repo) -> dict[str, Any]:
    return {
        "id": request.id,
        "owner": source.owner,
        "repo": source.name,
        "package": package.name,
        "target": f"{target.owner}/{target.name}",
        "requester": request.requester,
        "message": request.message,
        "path_prefix": request.path_prefix,
        "status": request.status,
        "reason": request.reason,
        "decided_by": request.decided_by,
        "created": time_or_none(request.created),
        "decided": time_or_none(request.decided_at),
    }


def _listing(session: Session, where: list[sa.ColumnElement[bool]], status: str | None, start: int) -> Page:
    source, target = aliased(Repo), aliased(Repo)
    query = (sa.select(InclusionRequest, Package, source, target)
             .join(Package, Package.id == InclusionRequest.package_id)
             .join(source, source.id == Package.repo_id)
             .join(target, target.id == InclusionRequest.repo_id)
             .where(*where))
    if status:
        query = query.where(InclusionRequest.status == status)
    page = page_of(session, query.order_by(InclusionRequest.id.desc()), start, scalars=False)
    return Page([inclusion_json(*row) for row in page.items], page.total, start)


def list_my_requests(session: Session, actor: Principal, status: str | None, start: int) -> Page:
    """The requests the caller made."""
    return _listing(session, [InclusionRequest.requester_id == actor.user_id], status, start)


def list_repo_requests(session: Session, actor: Principal, owner: str, repo: str, status: str | None,
                       start: int) -> Page:
    """The requests to include packages in a repository (its administrators)."""
    found = repo_for(session, actor, owner, repo, ADMIN, action="see its inclusion requests").repo
    return _listing(session, [InclusionRequest.repo_id == found.id], status, start)


def get_request(session: Session, actor: Principal, request_id: int) -> dict[str, Any]:
    request, package, source, target, _level = visible_request(session, actor, request_id)
    return inclusion_json(request, package, source, target)
