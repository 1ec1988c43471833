"""Signing's replica of identity's users and organizations, on SQLite."""

from datetime import UTC, datetime

import sqlalchemy as sa

from packyard.consumer import Outcome
from signing.models import Subject


def test_users_and_organizations_become_subjects_once(deliver, identity, subjects):
    user, org = identity.registered("alice"), identity.org_created("acme", revision=1)
    assert [deliver(user), deliver(user), deliver(org)] == [Outcome.PROCESSED, Outcome.DUPLICATE, Outcome.PROCESSED]
    assert subjects() == {identity.user_id("alice"): ("alice", "user", 0, False),
                          identity.org_id("acme"): ("acme", "org", 1, False)}


def test_a_name_reused_by_a_new_organization_is_taken_from_the_stale_one(deliver, identity, subjects):
    deliver(identity.org_created("acme", revision=1, org_id="00000000-0000-0000-0000-0000000000aa"))
    deliver(identity.org_created("acme", revision=1, org_id="00000000-0000-0000-0000-0000000000bb"))
    assert subjects() == {"00000000-0000-0000-0000-0000000000aa": (None, "org", 1, False),
                          "00000000-0000-0000-0000-0000000000bb": ("acme", "org", 1, False)}


def test_a_forgotten_user_is_dated_by_the_containers_clock(deliver, identity, signing):
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    signing.clock = lambda: moment
    deliver(identity.registered("alice"))
    deliver(identity.deleted("alice"))
    with signing.uow() as uow:
        deleted_at = uow.session.scalar(sa.select(Subject.deleted_at).where(Subject.id == identity.user_id("alice")))
    assert deleted_at.replace(tzinfo=UTC) == moment
