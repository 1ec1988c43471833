"""The event builders of packyard.testing.events: the contract's examples, with the names a test gives."""

import pytest
from cryptography.fernet import Fernet

from packyard.testing.events import EventFactory, IdentityEvents, org_id, user_id


def test_every_event_of_the_contract_can_be_built_from_its_example():
    factory = EventFactory()
    assert len(factory.examples) > 40
    for type_, example in factory.examples.items():
        event = factory.event(type_)
        assert event.type == type_ and event.source == "/" + type_.split(".")[0]
        assert set(event.data) == set(example)


def test_a_username_brings_the_ids_and_addresses_identity_derives_from_it():
    data = EventFactory().identity.user_registered(username="bob").data
    assert data["user_id"] == user_id("bob") and data["email"] == "bob@example.com" and data["full_name"] == "Bob"
    given = EventFactory().data("identity.user.registered", username="bob", user_id="u-1", email="b@x.org")
    assert (given["user_id"], given["email"]) == ("u-1", "b@x.org")
    member = EventFactory().data("identity.member.added", org="acme", username="carol")
    assert (member["org_id"], member["user_id"]) == (org_id("acme"), user_id("carol"))


def test_secrets_are_sealed_with_the_mail_key_as_identity_seals_them():
    key = Fernet.generate_key().decode()
    event = IdentityEvents(mail_key=key).password_reset_requested("alice", "s3cret")
    assert Fernet(key.encode()).decrypt(event.data["token_ciphertext"].encode()) == b"s3cret"
    assert event.data["expires_at"] > "2900" and event.subject == "alice"
    with pytest.raises(ValueError, match="mail_key"):
        IdentityEvents().password_reset_requested("alice", "s3cret")


def test_the_short_builders_take_their_fields_in_order():
    identity = IdentityEvents()
    changed = identity.email_changed("alice", "new@example.com", "old@example.com", time="2026-11-25T12:00:00.000Z")
    assert (changed.data["email"], changed.data["previous_email"], changed.time) == (
        "new@example.com", "old@example.com", "2026-11-25T12:00:00.000Z")
    assert identity.preferences_changed("bob", 4).data["revision"] == 4
    assert identity.org_created("acme", owner="bob").data["owner_id"] == user_id("bob")
    with pytest.raises(AttributeError, match="no identity event"):
        getattr(EventFactory().identity, "user_vanished")  # noqa: B009 - the name is what is tested
