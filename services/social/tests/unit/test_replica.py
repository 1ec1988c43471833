"""Social's consumers of identity's accounts, on SQLite: the replica, the activity log, redeliveries."""

from datetime import UTC, datetime

import marshmallow as ma
import pytest
import sqlalchemy as sa

from packyard.consumer import Outcome
from packyard.db import as_utc
from social.models import ActivityEntry, User

MOMENT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def _users(social):
    with social.uow() as uow:
        return {u.id: (u.username, u.deleted_at is not None) for u in uow.session.scalars(sa.select(User))}


def test_a_registration_adds_the_user_and_one_joined_entry_however_often_it_arrives(deliver, identity, social):
    event = identity.registered("alice")
    assert deliver(event) == Outcome.PROCESSED
    assert deliver(event) == Outcome.DUPLICATE
    assert _users(social) == {identity.user_id("alice"): ("alice", False)}
    with social.uow() as uow:
        assert [e.type for e in uow.session.scalars(sa.select(ActivityEntry))] == ["joined"]


def test_a_name_reused_before_the_old_accounts_deletion_arrives_passes_to_the_new_account(deliver, identity, social):
    deliver(identity.registered("alice", user_id="00000000-0000-0000-0000-00000000000a"))
    deliver(identity.registered("alice", user_id="00000000-0000-0000-0000-00000000000b"))
    assert _users(social) == {"00000000-0000-0000-0000-00000000000a": (None, False),
                              "00000000-0000-0000-0000-00000000000b": ("alice", False)}


def test_a_deletion_is_dated_by_the_containers_clock(deliver, identity, social):
    social.clock = lambda: MOMENT
    assert [deliver(identity.registered("alice")), deliver(identity.deleted("alice"))] == [Outcome.PROCESSED] * 2
    with social.uow() as uow:
        assert as_utc(uow.session.scalar(sa.select(User.deleted_at))) == MOMENT


def test_an_event_that_breaks_the_contract_fails_and_changes_nothing(deliver, identity, social):
    with pytest.raises(ma.ValidationError, match="user_id"):  # the worker retries it, then parks it
        deliver(identity.event("identity.user.registered", {"username": "alice"}))
    assert _users(social) == {}
