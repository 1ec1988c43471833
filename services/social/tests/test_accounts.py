import marshmallow as ma
import pytest
import sqlalchemy as sa

from packyard.consumer import Outcome
from social.models import ActivityEntry, User, inbox


def _rows(social, model):
    with social.uow() as uow:
        return uow.session.execute(sa.select(model.__table__)).all()


def test_the_same_registration_delivered_twice_has_one_effect(client, deliver, identity, social):
    event = identity.registered("alice")
    assert deliver(event) == Outcome.PROCESSED
    assert deliver(event) == Outcome.DUPLICATE
    assert len(client.get("/users/alice/activity").json) == 1
    with social.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(inbox)) == 1


def test_a_second_registration_event_for_the_same_user_adds_no_second_joined_entry(client, deliver, identity):
    deliver(identity.registered("alice"))
    deliver(identity.registered("alice"))  # a new event id: identity re-announced the same account
    assert len(client.get("/users/alice/activity").json) == 1


def test_a_deleted_user_is_forgotten_and_leaves_other_logs_anonymous(client, deliver, identity, social):
    alice, bob = identity.registered("alice"), identity.registered("bob")
    deliver(alice)
    deliver(bob)
    with social.uow() as uow:  # something alice did that shows in bob's log
        uow.session.add(ActivityEntry(user_id=bob.data["user_id"], type="followed", actor_id=alice.data["user_id"],
                                      actor="alice", created_at=uow.clock(), details={"followee": "bob"}))
        uow.commit()

    assert deliver(identity.deleted("alice")) == Outcome.PROCESSED

    assert client.get("/users/alice/activity").json == {"message": "Subject 'alice' was not found"}
    bob_log = client.get("/users/bob/activity").json
    assert [(e["type"], e["actor"]) for e in bob_log] == [("followed", None), ("joined", "bob")]
    assert all(e.actor_id != alice.data["user_id"] and e.user_id != alice.data["user_id"]
               for e in _rows(social, ActivityEntry))
    [tombstone] = [u for u in _rows(social, User) if u.id == alice.data["user_id"]]
    assert tombstone.username is None and tombstone.deleted_at is not None


def test_a_registration_arriving_after_the_deletion_does_not_bring_the_user_back(client, deliver, identity):
    registered = identity.registered("alice")
    deliver(identity.deleted("alice"))
    assert deliver(registered) == Outcome.PROCESSED
    assert client.get("/users/alice/activity").status_code == 404


def test_a_reused_username_belongs_to_the_new_account(client, deliver, identity, social):
    old = identity.registered("alice", user_id="00000000-0000-0000-0000-00000000000a",
                              registered="2026-01-01T00:00:00.000Z")
    new = identity.registered("alice", user_id="00000000-0000-0000-0000-00000000000b",
                              registered="2026-02-01T00:00:00.000Z")
    deliver(old)
    deliver(new)  # the old account's deletion has not arrived yet
    assert client.get("/users/alice/activity").json[0]["created"] == "2026-02-01T00:00:00.000Z"
    deliver(identity.deleted("alice", user_id=old.data["user_id"]))
    log = client.get("/users/alice/activity").json
    assert [(e["actor"], e["created"]) for e in log] == [("alice", "2026-02-01T00:00:00.000Z")]


def test_an_event_missing_required_fields_fails_and_changes_nothing(deliver, identity, social):
    broken = identity.event("identity.user.registered", {"username": "alice"})
    with pytest.raises(ma.ValidationError, match="user_id"):  # the worker retries it, then parks it
        deliver(broken)
    assert _rows(social, User) == [] and _rows(social, ActivityEntry) == []


def test_the_worker_consumes_registrations_from_the_bus(running_worker, make_social, identity):
    from packyard.testing import wait_for
    from social.app import create_app

    client = create_app(make_social()).test_client()
    identity.publish(running_worker, identity.registered("carol"))
    joined = wait_for(lambda: client.get("/users/carol/activity").status_code == 200
                      and client.get("/users/carol/activity").json, timeout=10, message="carol's joined entry")
    assert joined[0]["type"] == "joined" and joined[0]["actor"] == "carol"
