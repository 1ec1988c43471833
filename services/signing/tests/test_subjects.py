import dataclasses

import marshmallow as ma
import pytest

from packyard.consumer import Outcome
from packyard.testing import wait_for


def test_a_registered_user_becomes_a_subject_once(deliver, identity, subjects):
    event = identity.registered("alice")
    assert deliver(event) == Outcome.PROCESSED
    assert deliver(event) == Outcome.DUPLICATE
    assert subjects() == {event.data["user_id"]: ("alice", "user", 0, False)}


def test_an_organization_is_recorded_and_forgotten(deliver, identity, subjects):
    created = identity.org_created("acme", revision=1)
    deliver(created)
    assert subjects()[created.data["org_id"]] == ("acme", "org", 1, False)
    deliver(identity.org_deleted("acme", revision=2))
    assert subjects()[created.data["org_id"]] == (None, "org", 2, True)


def test_an_org_creation_arriving_after_its_deletion_is_ignored(deliver, identity, subjects):
    created, deleted = identity.org_created("acme", revision=1), identity.org_deleted("acme", revision=2)
    deliver(deleted)
    assert deliver(created) == Outcome.PROCESSED
    assert subjects() == {created.data["org_id"]: (None, "org", 2, True)}


def test_an_older_org_revision_does_not_overwrite_a_newer_one(deliver, identity, subjects):
    org_id = "00000000-0000-0000-0000-0000000000cc"
    deliver(identity.org_created("acme-renamed", revision=3, org_id=org_id))
    deliver(identity.org_created("acme", revision=1, org_id=org_id))
    assert subjects()[org_id] == ("acme-renamed", "org", 3, False)


def test_a_deleted_user_is_forgotten_and_not_brought_back_by_a_late_registration(deliver, identity, subjects):
    registered = identity.registered("alice")
    deliver(registered)
    deliver(identity.deleted("alice"))
    deliver(dataclasses.replace(registered, id="a-late-copy-of-the-registration"))
    assert subjects() == {registered.data["user_id"]: (None, "user", 0, True)}


def test_a_name_reused_by_an_org_after_a_user_belongs_to_the_org(deliver, identity, subjects):
    user = identity.registered("acme")
    org = identity.org_created("acme")
    deliver(user)
    deliver(org)  # the user's deletion has not arrived yet; identity already freed the name
    assert subjects()[org.data["org_id"]][0] == "acme"
    assert subjects()[user.data["user_id"]][0] is None
    deliver(identity.deleted("acme", user_id=user.data["user_id"]))
    assert subjects()[org.data["org_id"]] == ("acme", "org", 1, False)


def test_an_event_missing_required_fields_fails_and_changes_nothing(deliver, identity, subjects):
    with pytest.raises(ma.ValidationError, match="org_id"):
        deliver(identity.event("identity.org.created", {"name": "acme", "revision": 1}))
    assert subjects() == {}


def test_the_worker_consumes_identity_events_from_the_bus(running_worker, identity, subjects):
    user, org = identity.registered("carol"), identity.org_created("carols-org")
    identity.publish(running_worker, user)
    identity.publish(running_worker, org)
    wait_for(lambda: len(subjects()) == 2, timeout=10, message="both subjects recorded")
    assert subjects()[user.data["user_id"]][:2] == ("carol", "user")
    assert subjects()[org.data["org_id"]][:2] == ("carols-org", "org")
