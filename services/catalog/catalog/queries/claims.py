"""Ownership claims with their whole history, as the parties and platform administrators see them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from catalog.models import Claim, ClaimStep, Membership, Package, Repo, Subject
from catalog.queries.common import time_or_none
from catalog.use_cases.access import ORG_ADMIN_ROLES
from catalog.use_cases.claims import visible_claim
from packyard.auth import Principal
from packyard.errors import Forbidden
from packyard.paging import Page, page_of


def claim_json(claim: Claim, steps: Sequence[ClaimStep], location: tuple[str, str] | None) -> dict[str, Any]:
    """``location``: where the package is now (owner, repo), None once it was deleted."""
    return {
        "id": claim.id,
        "status": claim.status,
        "owner": claim.owner,
        "repo": claim.repo,
        "package": claim.package,
        "claimant": claim.claimant,
        "reason": claim.reason,
        "evidence": claim.evidence,
        "target": f"{claim.target_owner}/{claim.target_repo}",
        "location": f"{location[0]}/{location[1]}" if location else None,
        "filed": time_or_none(claim.filed),
        "answer_due": time_or_none(claim.answer_due),
        "updated": time_or_none(claim.updated),
        "history": [{"action": s.action, "by": s.actor, "at": time_or_none(s.at), "message": s.message}
                    for s in steps],
    }


def _shape(session: Session, claims: Sequence[Claim]) -> list[dict[str, Any]]:
    ids = [c.id for c in claims]
    steps: dict[int, list[ClaimStep]] = {i: [] for i in ids}
    for step in session.scalars(sa.select(ClaimStep).where(ClaimStep.claim_id.in_(ids))
                                .order_by(ClaimStep.at, ClaimStep.id)):
        steps[step.claim_id].append(step)
    package_ids = [c.package_id for c in claims if c.package_id is not None]
    where = {pid: (owner, name) for pid, owner, name in session.execute(
        sa.select(Package.id, Repo.owner, Repo.name).join(Repo, Repo.id == Package.repo_id)
        .where(Package.id.in_(package_ids)))}
    return [claim_json(c, steps[c.id], where.get(c.package_id) if c.package_id is not None else None) for c in claims]


def get_claim(session: Session, actor: Principal, claim_id: int) -> dict[str, Any]:
    return _shape(session, [visible_claim(session, actor, claim_id)])[0]


def _subjects_spoken_for(session: Session, actor: Principal) -> list[str]:
    """The caller's own name and the organizations they own or administer."""
    orgs = session.scalars(sa.select(Membership.org).where(Membership.user_id == actor.user_id,
                                                           Membership.role.in_(ORG_ADMIN_ROLES)))
    created = session.scalars(sa.select(Subject.name).where(
        Subject.kind == "org", Subject.deleted.is_(False), Subject.owner_id == actor.user_id,
        ~sa.exists().where(Membership.org_id == Subject.identity_id, Membership.user_id == actor.user_id)))
    return sorted({actor.username, *orgs, *created})


def list_my_claims(session: Session, actor: Principal, status: str | None, start: int) -> Page:
    """Claims the caller filed, and claims on packages of subjects they answer for."""
    query = sa.select(Claim).where(sa.or_(Claim.claimant_id == actor.user_id,
                                          Claim.owner.in_(_subjects_spoken_for(session, actor))))
    if status:
        query = query.where(Claim.status == status)
    page = page_of(session, query.order_by(Claim.id.desc()), start)
    return Page(_shape(session, page.items), page.total, start)


def list_claims(session: Session, actor: Principal, status: str | None, start: int) -> Page:
    """Every claim, for platform administrators (``status=disputed`` for those waiting on them)."""
    if not actor.admin:
        raise Forbidden("Only platform administrators see every ownership claim")
    query = sa.select(Claim)
    if status:
        query = query.where(Claim.status == status)
    page = page_of(session, query.order_by(Claim.id.desc()), start)
    return Page(_shape(session, page.items), page.total, start)
