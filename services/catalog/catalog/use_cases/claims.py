"""Ownership claims ("report incorrect ownership of packages").

Any signed-in user who can see a package may claim it, with a reason and evidence, naming a
repository of theirs (one they may publish to, public or private like the package's own) for it
to move to. The owner — the user owning the package's repository, or the organization's owners
and admins — consents (the package moves at once) or objects; a platform administrator decides a
disputed claim, and may decide one the owner left unanswered for ``CLAIM_OWNER_RESPONSE_DAYS``.
The claimant may withdraw an open claim.

::

    pending --consent--> approved (moved)        pending --object--> disputed --decide--> approved | rejected
    pending --decide, once the answer is overdue--> approved | rejected
    pending | disputed --withdraw--> withdrawn
    pending | disputed --another claim on the package moved it--> closed

A claim is about the package where it found it: consent, objection and decision answer 409 once
the package is elsewhere (or gone), so a stale claim never moves a package away from an owner who
got it later. A transfer closes every other open claim on the package and tells their claimants.
The owner's owners and admins are told of every claim filed (``recipients`` of ``catalog.claim.filed``).

Moving a package keeps its versions, files, download counts and the links that still pass the link
rules (a link into the very repository it moves to, or a private package's link into a repository
of its previous owner, is dropped and announced); the webhooks its previous publishers registered
are deleted.
Its old ``/dl/`` and API URLs redirect to the new ones. A claim is visible to the claimant, the
owner (as it was when the claim was filed) and platform administrators; to nobody else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from catalog import events
from catalog.models import Claim, ClaimStep, File, Package, PackageMove, Repo
from catalog.use_cases import links, usage, webhooks
from catalog.use_cases.access import PUBLISH, find_repo, level_on, repo_for, speaks_for, subject_admins
from catalog.use_cases.inclusion import parse_repo_ref
from catalog.use_cases.versions import locate
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Conflict, Forbidden, Invalid, NotFound

PENDING, DISPUTED, APPROVED, REJECTED, WITHDRAWN, CLOSED = (
    "pending", "disputed", "approved", "rejected", "withdrawn", "closed")
STATUSES = (PENDING, DISPUTED, APPROVED, REJECTED, WITHDRAWN, CLOSED)
OPEN = (PENDING, DISPUTED)


@dataclass(frozen=True)
class NewClaim:
    reason: str
    evidence: str
    target: str  # "<subject>/<repository>" the package should move to


def _as_user(actor: Principal) -> Principal:
    """The caller without platform-administrator powers: whether they own something in their own right."""
    return dataclasses.replace(actor, admin=False)


def is_owner_party(session: sa.orm.Session, actor: Principal, claim: Claim) -> bool:
    return speaks_for(session, _as_user(actor), claim.owner)


def is_party(session: sa.orm.Session, actor: Principal, claim: Claim) -> bool:
    return actor.admin or claim.claimant_id == actor.user_id or is_owner_party(session, actor, claim)


def _private(session: sa.orm.Session, claim: Claim) -> bool:
    """Whether the claimed package is private now (a deleted one counts as private: tell no more than needed)."""
    if claim.package_id is None:
        return True
    return bool(session.scalar(sa.select(Repo.private).join(Package, Package.repo_id == Repo.id)
                               .where(Package.id == claim.package_id)))


def _event(session: sa.orm.Session, claim: Claim, recipients: list[str]) -> dict[str, object]:
    return {"owner": claim.owner, "repo": claim.repo, "private": _private(session, claim), "package": claim.package,
            "claim_id": claim.id, "claimant": claim.claimant, "recipients": sorted(set(recipients))}


def _step(session: sa.orm.Session, claim: Claim, action: str, actor: str, now: datetime,
          message: str | None = None) -> None:
    session.add(ClaimStep(claim_id=claim.id, action=action, actor=actor, at=now, message=message))
    claim.updated = now


def _subject(claim: Claim) -> str:
    return f"{claim.owner}/{claim.repo}/{claim.package}"


def file_claim(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, cmd: NewClaim,
               now: datetime, *, response_days: int) -> Claim:
    session = uow.session
    found = locate(session, actor, owner, repo, package)
    if not cmd.reason.strip() or not cmd.evidence.strip():
        raise Invalid("Give the reason for your claim and the evidence that the package is yours")
    if speaks_for(session, _as_user(actor), found.repo.owner):
        raise Invalid(f"Package '{package}' is already yours")
    target_owner, target_name = parse_repo_ref(cmd.target)
    target = repo_for(session, actor, target_owner, target_name, PUBLISH, action="move a claimed package into it").repo
    if target.id == found.repo.id:
        raise Invalid(f"Package '{package}' is already in repository '{target_owner}/{target_name}'")
    if target.private != found.repo.private:
        kind = "private" if found.repo.private else "public"
        raise Invalid(f"Package '{package}' can only move to a {kind} repository, like the one it is in")
    open_claim = session.scalar(sa.select(Claim.id).where(Claim.package_id == found.package.id,
                                                          Claim.claimant_id == actor.user_id,
                                                          Claim.status.in_(OPEN)))
    if open_claim is not None:
        raise Conflict(f"You already have an open claim on package '{package}' (claim {open_claim})")
    claim = Claim(package_id=found.package.id, owner=found.repo.owner, repo=found.repo.name, package=package,
                  claimant=actor.username, claimant_id=actor.user_id, reason=cmd.reason, evidence=cmd.evidence,
                  target_owner=target.owner, target_repo=target.name, status=PENDING, filed=now,
                  answer_due=now + timedelta(days=response_days), updated=now)
    session.add(claim)
    session.flush()
    _step(session, claim, "filed", actor.username, now, cmd.reason)
    uow.publish(events.CLAIM_FILED, {
        **_event(session, claim, subject_admins(session, claim.owner)), "reason": claim.reason,
        "target_owner": claim.target_owner, "target_repo": claim.target_repo, "answer_due": claim.answer_due},
        subject=_subject(claim))
    return claim


def visible_claim(session: sa.orm.Session, actor: Principal, claim_id: int, *, lock: bool = False) -> Claim:
    claim = session.get(Claim, claim_id, with_for_update=lock)
    if claim is None or not is_party(session, actor, claim):
        raise NotFound(f"Claim {claim_id} was not found")
    return claim


def _still_open(claim: Claim, *allowed: str) -> None:
    if claim.status not in allowed:
        raise Conflict(f"Claim {claim.id} is {claim.status}")


def _claim_in_place(session: sa.orm.Session, actor: Principal, claim_id: int, *allowed: str) -> tuple[Claim, Package]:
    """The claim (in one of the ``allowed`` states) and its package, both locked, the package still where the
    claim found it (409 otherwise).

    The package is locked before the claim is read again, so that answers to two claims on one
    package queue on the package: the second sees where the first one moved it (and that it closed
    the second claim), never a stale picture.
    """
    claim = visible_claim(session, actor, claim_id)
    package = (session.get(Package, claim.package_id, with_for_update=True, populate_existing=True)
               if claim.package_id is not None else None)
    claim = session.get_one(Claim, claim_id, with_for_update=True, populate_existing=True)  # found just above
    _still_open(claim, *allowed)
    if package is None or claim.package_id != package.id:
        raise Conflict(f"Package '{claim.package}' of claim {claim.id} no longer exists")
    where = session.get_one(Repo, package.repo_id)  # a package's repository exists (foreign key)
    if (where.owner, where.name) != (claim.owner, claim.repo):
        raise Conflict(f"Package '{claim.package}' is no longer in repository '{claim.owner}/{claim.repo}' where "
                       f"claim {claim.id} found it")
    return claim, package


def consent(uow: UnitOfWork, actor: Principal, claim_id: int, message: str | None, now: datetime) -> Claim:
    """The owner agrees: the package moves to the claimant's repository at once."""
    session = uow.session
    claim = visible_claim(session, actor, claim_id)
    if not is_owner_party(session, actor, claim):
        raise Forbidden("Only the package's owner may consent to a claim")
    claim, package = _claim_in_place(session, actor, claim_id, *OPEN)
    _step(session, claim, "consented", actor.username, now, message)
    uow.publish(events.CLAIM_CONSENTED, {**_event(session, claim, [claim.claimant]), "by": actor.username,
                                         "message": message}, subject=_subject(claim))
    _transfer(uow, claim, package, actor.username, now)
    return claim


def object_to(uow: UnitOfWork, actor: Principal, claim_id: int, message: str | None, now: datetime) -> Claim:
    """The owner disagrees: a platform administrator will decide."""
    session = uow.session
    claim = visible_claim(session, actor, claim_id)
    if not is_owner_party(session, actor, claim):
        raise Forbidden("Only the package's owner may object to a claim")
    claim, _package = _claim_in_place(session, actor, claim_id, PENDING)
    claim.status = DISPUTED
    _step(session, claim, "objected", actor.username, now, message)
    uow.publish(events.CLAIM_OBJECTED, {**_event(session, claim, [claim.claimant]), "by": actor.username,
                                        "message": message}, subject=_subject(claim))
    return claim


def withdraw(uow: UnitOfWork, actor: Principal, claim_id: int, message: str | None, now: datetime) -> Claim:
    session = uow.session
    claim = visible_claim(session, actor, claim_id, lock=True)
    if claim.claimant_id != actor.user_id:
        raise Forbidden("Only the claimant may withdraw a claim")
    _still_open(claim, *OPEN)
    claim.status = WITHDRAWN
    _step(session, claim, "withdrawn", actor.username, now, message)
    uow.publish(events.CLAIM_WITHDRAWN, {**_event(session, claim, subject_admins(session, claim.owner)),
                                         "by": actor.username, "message": message}, subject=_subject(claim))
    return claim


def decide(uow: UnitOfWork, actor: Principal, claim_id: int, *, approve: bool, reason: str | None,
           now: datetime) -> Claim:
    """A platform administrator's decision on a disputed claim, or on one the owner left unanswered."""
    session = uow.session
    claim = visible_claim(session, actor, claim_id)
    if not actor.admin:
        raise Forbidden("Only platform administrators decide ownership claims")
    claim, package = _claim_in_place(session, actor, claim_id, *OPEN)
    if claim.status == PENDING and now < claim.answer_due:
        raise Conflict(f"The owner has until {claim.answer_due.isoformat()} to answer claim {claim.id}")
    _step(session, claim, APPROVED if approve else REJECTED, actor.username, now, reason)
    recipients = [claim.claimant, *subject_admins(session, claim.owner)]
    uow.publish(events.CLAIM_DECIDED, {**_event(session, claim, recipients), "by": actor.username,
                                       "decision": APPROVED if approve else REJECTED, "reason": reason},
                subject=_subject(claim))
    if approve:
        _transfer(uow, claim, package, actor.username, now)
    else:
        claim.status = REJECTED
    return claim


def _transfer(uow: UnitOfWork, claim: Claim, package: Package, actor: str, now: datetime) -> None:
    """Move the claimed package (locked, where the claim found it), its versions and files to the claimant's
    repository; close the package's other open claims; drop the links the move breaks."""
    session = uow.session
    source = session.get_one(Repo, package.repo_id)  # a package's repository exists (foreign key)
    target = find_repo(session, claim.target_owner, claim.target_repo)
    claimant = Principal(username=claim.claimant, user_id=claim.claimant_id)
    if target is None or level_on(session, claimant, target) < PUBLISH:
        raise Conflict(f"{claim.claimant} can no longer publish to repository "
                       f"'{claim.target_owner}/{claim.target_repo}'")
    if target.id == source.id:
        raise Conflict(f"Package '{package.name}' is already in repository '{target.owner}/{target.name}'")
    if target.private != source.private:
        raise Conflict(f"Repository '{target.owner}/{target.name}' is no longer "
                       f"{'private' if source.private else 'public'} like the package's own")
    if session.scalar(sa.select(Package.id).where(Package.repo_id == target.id, Package.name == package.name)):
        raise Conflict(f"Repository '{target.owner}/{target.name}' already has a package named '{package.name}'")
    clash = session.scalar(sa.select(File.path).where(
        File.repo_id == target.id, File.path.in_(sa.select(File.path).where(File.package_id == package.id))).limit(1))
    if clash is not None:
        raise Conflict(f"Repository '{target.owner}/{target.name}' already has a file at '{clash}'")
    webhooks.remove_all_for(uow, source, package)
    links.drop_broken_by_move(uow, package, source, target, actor)
    session.execute(sa.update(File).where(File.package_id == package.id).values(repo_id=target.id))
    session.add(PackageMove(package_id=package.id, from_owner=source.owner, from_repo=source.name,
                            package=package.name, moved_at=now))
    package.repo_id = target.id
    package.updated = now
    package.revision += 1
    claim.status = APPROVED
    _step(session, claim, "transferred", actor, now, f"moved to {target.owner}/{target.name}")
    uow.publish(events.PACKAGE_OWNERSHIP_TRANSFERRED, {
        "owner": target.owner, "repo": target.name, "private": target.private, "package": package.name,
        "previous_owner": source.owner, "previous_repo": source.name, "previous_private": source.private,
        "claim_id": claim.id, "revision": package.revision},
        subject=f"{target.owner}/{target.name}/{package.name}")
    _close_others(uow, claim, target, now)
    usage.settle(uow, source.owner, target.owner)


def _close_others(uow: UnitOfWork, moved_by: Claim, target: Repo, now: datetime) -> None:
    """Every other open claim on a package that just moved is closed, and its claimant told."""
    session = uow.session
    others = session.scalars(sa.select(Claim).where(Claim.package_id == moved_by.package_id, Claim.id != moved_by.id,
                                                    Claim.status.in_(OPEN))
                             .order_by(Claim.id).with_for_update()).all()
    for other in others:
        other.status = CLOSED
        reason = f"the package moved to {target.owner}/{target.name} through claim {moved_by.id}"
        _step(session, other, CLOSED, moved_by.claimant, now, reason)
        uow.publish(events.CLAIM_CLOSED, {
            **_event(session, other, [other.claimant]), "reason": reason, "closed_by_claim": moved_by.id,
            "now_owner": target.owner, "now_repo": target.name}, subject=_subject(other))
