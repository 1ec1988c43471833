"""The notifier's consumers of identity's accounts, on SQLite: recipients, their emails, the clock, the keys."""

from datetime import UTC, datetime

import sqlalchemy as sa
from cryptography.fernet import Fernet

from notifier.models import Recipient
from packyard.consumer import Outcome
from packyard.testing.events import IdentityEvents


def _email_of(notifier, username):
    with notifier.uow() as uow:
        return uow.session.scalar(sa.select(Recipient.email).where(Recipient.username == username))


def _send_all(notifier, transport):
    sender = notifier.mail_sender(transport)
    while sender.run_once():
        pass
    return {(m["To"], m["Subject"]) for m in transport.sent}


def test_a_registration_makes_a_recipient_and_sends_one_welcome(deliver, identity, notifier, transport):
    event = identity.registered("alice")
    assert deliver(event) == Outcome.PROCESSED
    assert deliver(event) == Outcome.DUPLICATE
    assert _email_of(notifier, "alice") == "alice@example.com"
    [(to, _subject)] = _send_all(notifier, transport)
    assert to == "alice@example.com"


def test_a_later_address_change_wins_over_an_earlier_one_arriving_late(deliver, identity, notifier):
    deliver(identity.registered("alice", email="a@example.com"))
    deliver(identity.email_changed("alice", "c@example.com", "b@example.com", time="2026-11-25T12:00:00.000Z"))
    deliver(identity.email_changed("alice", "b@example.com", "a@example.com", time="2026-11-25T11:00:00.000Z"))
    assert _email_of(notifier, "alice") == "c@example.com"


def test_a_deletion_is_dated_by_the_containers_clock(deliver, identity, notifier):
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    notifier.clock = lambda: moment
    deliver(identity.registered("alice"))
    assert deliver(identity.deleted("alice")) == Outcome.PROCESSED
    with notifier.uow() as uow:
        recipient = uow.session.get(Recipient, identity.user_id("alice"))
        assert recipient.deleted_at.replace(tzinfo=UTC) == moment


def test_a_reset_link_sealed_with_the_previous_key_is_still_mailed_during_a_rotation(make_notifier, transport):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    notifier = make_notifier(mail_token_key=f"{new},{old}")
    runner = notifier.consumer()
    identity = IdentityEvents(mail_key=old)  # identity has not switched to the new key yet
    for event in (identity.registered("alice"), identity.password_reset_requested("alice", "reset-token-1")):
        queue = next(q.name for q in notifier.consumer_queues if q.handler_for(event.type))
        assert runner.process(queue, event.to_json().encode()) == Outcome.PROCESSED
    _send_all(notifier, transport)
    bodies = [part.get_content() for message in transport.sent for part in message.walk()
              if part.get_content_type() == "text/plain"]
    assert any("reset-token-1" in body for body in bodies)
