import marshmallow as ma
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from notifier.models import EmailDelivery, Notification, Recipient
from packyard.consumer import Outcome


def _recipient(notifier, username_or_id):
    with notifier.uow() as uow:
        return uow.session.execute(sa.select(Recipient.__table__).where(sa.or_(
            Recipient.username == username_or_id, Recipient.user_id == username_or_id))).first()


def _count(notifier, model):
    with notifier.uow() as uow:
        return uow.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_registration_creates_the_recipient_a_notification_and_a_welcome_email(deliver, identity, notifier,
                                                                                  deliveries):
    assert deliver(identity.registered("alice", email="Alice@Example.com")) == Outcome.PROCESSED
    recipient = _recipient(notifier, "alice")
    assert recipient.email == "Alice@Example.com" and recipient.release_alerts_email is True
    [delivery] = deliveries()
    assert (delivery.recipient, delivery.template, delivery.status) == ("Alice@Example.com", "welcome", "pending")
    assert _count(notifier, Notification) == 1


def _notifications_created():
    return REGISTRY.get_sample_value("packyard_notifications_created_total", {"type": "welcome"}) or 0.0


def test_the_same_registration_delivered_twice_has_one_effect(deliver, identity, notifier, deliveries):
    created_before = _notifications_created()
    event = identity.registered("alice")
    assert deliver(event) == Outcome.PROCESSED
    assert deliver(event) == Outcome.DUPLICATE
    assert len(deliveries()) == 1 and _count(notifier, Notification) == 1
    assert _notifications_created() == created_before + 1


def test_a_new_address_is_used_confirmed_and_the_previous_one_told(deliver, identity, notifier, deliveries):
    deliver(identity.registered("alice", email="old@example.com"))
    deliver(identity.email_changed("alice", "new@example.com", "old@example.com"))
    assert _recipient(notifier, "alice").email == "new@example.com"
    sent = {(d.recipient, d.template) for d in deliveries()}
    assert sent == {("old@example.com", "welcome"), ("new@example.com", "email_confirmation"),
                    ("old@example.com", "email_changed_notice")}


def test_an_older_address_change_arriving_late_does_not_win(deliver, identity, notifier, deliveries):
    deliver(identity.registered("alice", email="a@example.com"))
    newer = identity.email_changed("alice", "c@example.com", "b@example.com", time="2026-11-25T12:00:00.000Z")
    older = identity.email_changed("alice", "b@example.com", "a@example.com", time="2026-11-25T11:00:00.000Z")
    deliver(newer)
    deliver(older)
    assert _recipient(notifier, "alice").email == "c@example.com"
    late = [(d.recipient, d.template) for d in deliveries() if d.event_id == older.id]
    assert late == [("a@example.com", "email_changed_notice")]  # no confirmation of a stale address


def test_an_address_change_arriving_before_the_registration_is_kept(deliver, identity, notifier, deliveries):
    deliver(identity.email_changed("alice", "new@example.com", "old@example.com"))
    deliver(identity.registered("alice", email="old@example.com"))
    assert _recipient(notifier, "alice").email == "new@example.com"
    assert ("new@example.com", "welcome") in {(d.recipient, d.template) for d in deliveries()}


def test_preferences_follow_the_highest_revision(deliver, identity, notifier):
    deliver(identity.registered("alice"))
    deliver(identity.preferences_changed("alice", revision=2, release_alerts_email=False, news_email=True))
    deliver(identity.preferences_changed("alice", revision=1, release_alerts_email=True, news_email=False))
    recipient = _recipient(notifier, "alice")
    assert (recipient.release_alerts_email, recipient.news_email, recipient.preferences_revision) == (False, True, 2)


def test_a_deleted_user_is_forgotten_with_their_notifications_and_mail(deliver, identity, notifier, deliveries):
    deliver(identity.registered("alice"))
    deliver(identity.registered("bob"))
    deliver(identity.deleted("alice"))
    tombstone = _recipient(notifier, identity.user_id("alice"))
    assert (tombstone.username, tombstone.email, tombstone.deleted_at is not None) == (None, None, True)
    assert [d.recipient for d in deliveries()] == ["bob@example.com"]
    assert _count(notifier, Notification) == 1


def test_events_arriving_after_the_deletion_do_nothing(deliver, identity, notifier, deliveries):
    registered = identity.registered("alice")
    deliver(identity.deleted("alice"))
    for late in (registered, identity.email_changed("alice", "x@example.com", "alice@example.com"),
                 identity.password_reset_requested("alice", "t0ken"), identity.preferences_changed("alice", 5)):
        assert deliver(late) == Outcome.PROCESSED
    assert deliveries() == [] and _count(notifier, Notification) == 0
    assert _recipient(notifier, identity.user_id("alice")).email is None


def test_a_password_reset_queues_an_email_holding_only_the_ciphertext(deliver, identity, deliveries):
    event = identity.password_reset_requested("alice", "the-secret-token")
    deliver(event)
    [delivery] = deliveries()
    assert delivery.template == "password_reset"
    assert delivery.token_ciphertext == event.data["token_ciphertext"]


def test_an_already_expired_reset_is_not_mailed(deliver, identity, deliveries):
    deliver(identity.password_reset_requested("alice", "tok", expires_at="2020-01-01T00:00:00.000Z"))
    assert deliveries() == []


def test_an_event_missing_required_fields_fails_and_changes_nothing(deliver, identity, notifier):
    broken = identity.event("identity.user.registered", {"user_id": "u1", "username": "alice"})
    with pytest.raises(ma.ValidationError, match="email"):  # the worker retries it, then parks it
        deliver(broken)
    assert _count(notifier, Recipient) == 0 and _count(notifier, EmailDelivery) == 0
