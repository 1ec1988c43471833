import time

import pika
import pytest

from notifier.__main__ import run
from notifier.activity import KeyExpiryWatcher
from notifier.app import create_app
from notifier.digests import DigestAndNewsLoop
from notifier.mail.sender import MailSender
from notifier.webhooks import DeliverySender


def test_a_registration_on_the_bus_is_welcomed_in_the_app_and_by_email_within_two_seconds(
        running_worker, identity, smtp_sink, as_user):
    started = time.monotonic()
    identity.publish(running_worker.settings.amqp_url, identity.registered("carol", email="carol@example.com"))
    message = smtp_sink.wait_for(lambda m: m["To"] == "carol@example.com", timeout=10)
    elapsed = time.monotonic() - started
    assert message["Subject"] == "Welcome to Packyard, carol"
    assert elapsed < 2.0, f"the welcome email took {elapsed:.2f}s"
    client = create_app(running_worker).test_client()
    [welcome] = client.get("/me/notifications", headers=as_user("carol")).json
    assert welcome["type"] == "welcome"


def test_the_worker_runs_the_mail_and_delivery_senders_and_the_digest_and_key_loops(notifier):
    assert [type(loop) for loop in notifier.worker_loops()] == [MailSender, DeliverySender, DigestAndNewsLoop,
                                                               KeyExpiryWatcher]


@pytest.fixture
def restore_logging():
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_migrate_prepares_the_database_and_the_accounts_queue(monkeypatch, create_database, fresh_amqp_url, mail_key,
                                                              restore_logging):
    monkeypatch.setenv("DATABASE_URL", create_database("notifier_cli"))
    monkeypatch.setenv("AMQP_URL", fresh_amqp_url)
    monkeypatch.setenv("JWKS_URL", "http://identity.invalid/jwks")
    monkeypatch.setenv("MAIL_TOKEN_KEY", mail_key)
    assert run(["migrate"]) == 0
    connection = pika.BlockingConnection(pika.URLParameters(fresh_amqp_url))
    try:
        channel = connection.channel()
        declared = channel.queue_declare("notifier.accounts", passive=True)  # raises when it does not exist
        assert declared.method.message_count == 0
    finally:
        connection.close()
