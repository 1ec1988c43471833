import logging
import re
import secrets
import threading
from datetime import timedelta
from urllib.parse import unquote

from cryptography.fernet import Fernet
from prometheus_client import REGISTRY

from notifier.__main__ import ALEMBIC_INI
from notifier.mail.sender import MailSender, SenderConfig
from notifier.mail.transport import SendFailure
from packyard.migrations import upgrade
from packyard.testing import TcpProxy, wait_for

BASE_URL = "https://packyard.example.org"


def _metric(result):
    return REGISTRY.get_sample_value("packyard_email_deliveries_total", {"result": result}) or 0.0


def test_the_welcome_email_arrives_at_the_smtp_server(deliver, identity, send_due, smtp_sink, deliveries):
    sent_before = _metric("sent")
    deliver(identity.registered("alice", email="alice@example.com"))
    assert send_due() == 1
    [message] = smtp_sink.messages
    [delivery] = deliveries()
    assert message["To"] == "alice@example.com"
    assert message["From"] == "Packyard <noreply@example.org>"
    assert message["Subject"] == "Welcome to Packyard, alice"
    assert message["Message-ID"] == f"<{delivery.id}@example.org>"
    assert "alice" in message.get_body(("plain",)).get_content()
    assert (delivery.status, delivery.attempts, delivery.sent_at is not None) == ("sent", 1, True)
    assert _metric("sent") == sent_before + 1


def test_a_redelivered_event_mails_once(deliver, identity, send_due, smtp_sink):
    event = identity.registered("alice")
    deliver(event)
    deliver(event)
    send_due()
    deliver(event)
    send_due()
    assert len(smtp_sink.messages) == 1


def test_mail_queued_while_the_smtp_server_is_down_is_delivered_when_it_is_back(make_notifier, smtp_sink, identity,
                                                                               deliveries):
    proxy = TcpProxy("127.0.0.1", smtp_sink.port)
    try:
        notifier = make_notifier(smtp_port=proxy.port)
        runner = notifier.platform.consumer(notifier.consumer_queues)
        sender = notifier.mail_sender()
        proxy.cut()
        runner.process("notifier.accounts", identity.registered("alice").to_json().encode())
        retried_before = _metric("retried")
        assert sender.run_once() == 1
        [delivery] = deliveries()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.last_error and smtp_sink.messages == []
        assert _metric("retried") == retried_before + 1

        proxy.restore()
        wait_for(lambda: sender.run_once() and smtp_sink.messages, timeout=10, message="the retried email")
        [message] = smtp_sink.messages
        assert message["Message-ID"] == f"<{delivery.id}@example.org>"
        assert deliveries()[0].status == "sent"
    finally:
        proxy.close()


def test_an_email_that_keeps_failing_is_marked_failed_after_the_limit(make_notifier, identity, deliveries,
                                                                      database_text):
    notifier = make_notifier(smtp_port=1, mail_max_attempts=3)  # nothing listens on port 1
    runner = notifier.platform.consumer(notifier.consumer_queues)
    event = identity.password_reset_requested("alice", "a-token")
    runner.process("notifier.accounts", event.to_json().encode())
    sender = notifier.mail_sender()
    wait_for(lambda: sender.run_once() is not None and deliveries()[0].status == "failed", timeout=10)
    [delivery] = deliveries()
    assert delivery.attempts == 3 and "cannot reach SMTP server" in delivery.last_error
    assert event.data["token_ciphertext"] not in database_text()  # nothing left to decrypt


def test_the_reset_email_carries_a_working_token_while_the_tables_hold_only_ciphertext(
        deliver, identity, send_due, smtp_sink, database_text, deliveries, caplog):
    caplog.set_level(logging.DEBUG)
    token = secrets.token_urlsafe(32)
    event = identity.password_reset_requested("alice", token, expires_at="2999-01-01T00:00:00.000Z")
    deliver(event)
    stored = database_text()
    assert token not in stored and event.data["token_ciphertext"] in stored

    send_due()
    [message] = smtp_sink.messages
    body = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Reset your Packyard password"
    [link_token] = re.findall(re.escape(f"{BASE_URL}/reset-password?token=") + r"(\S+)", body)
    assert unquote(link_token) == token
    assert f"POST {BASE_URL}/auth/password-reset/confirm with" in body
    assert f'{{"token": "{token}", "new_password": "<your new password>"}}' in body
    assert "2999-01-01T00:00:00.000Z" in body
    assert token not in database_text() and event.data["token_ciphertext"] not in database_text()
    assert deliveries()[0].status == "sent"
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("notifier", "packyard")]  # not the SMTP sink's
    assert ours and not any(token in r.getMessage() or token in str(r.__dict__) for r in ours)


def test_a_reset_link_that_expired_while_queued_is_not_sent(make_notifier, smtp_sink, identity, deliveries):
    notifier = make_notifier(smtp_port=smtp_sink.port)
    notifier.platform.consumer(notifier.consumer_queues).process(
        "notifier.accounts", identity.password_reset_requested("alice", "tok").to_json().encode())
    later = make_notifier(smtp_port=smtp_sink.port)
    later.clock = lambda: notifier.clock() + timedelta(days=400_000)  # past the year 2999
    later.mail_sender().run_once()
    [delivery] = deliveries()
    assert delivery.status == "failed" and "expired" in delivery.last_error
    assert smtp_sink.messages == []


def test_a_token_encrypted_with_another_key_fails_without_a_mail(deliver, identity, send_due, smtp_sink,
                                                                 deliveries):
    event = identity.password_reset_requested("alice", "tok")
    event.data["token_ciphertext"] = Fernet(Fernet.generate_key()).encrypt(b"tok").decode()
    deliver(event)
    send_due()
    [delivery] = deliveries()
    assert delivery.status == "failed" and "MAIL_TOKEN_KEY" in delivery.last_error
    assert smtp_sink.messages == [] and delivery.token_ciphertext is None


class RefusingTransport:
    """A fake SMTP transport whose server refuses every message the given way."""

    def __init__(self, failure):
        self.failure = failure
        self.sent = 0

    def connect(self):
        return self

    def send(self, _message):
        raise self.failure

    def close(self):
        pass


def test_a_permanent_refusal_fails_at_once_and_a_temporary_one_is_retried(deliver, identity, notifier,
                                                                           deliveries):
    deliver(identity.registered("alice"))
    notifier.mail_sender(RefusingTransport(SendFailure("recipient refused (450)"))).run_once()
    assert (deliveries()[0].status, deliveries()[0].attempts) == ("pending", 1)
    wait_for(lambda: notifier.mail_sender(RefusingTransport(
        SendFailure("recipient refused (550)", permanent=True))).run_once(), timeout=5)
    assert (deliveries()[0].status, deliveries()[0].attempts) == ("failed", 2)


def test_two_senders_on_postgresql_never_send_the_same_email(deliver, identity, notifier, smtp_sink):
    for i in range(12):
        deliver(identity.registered(f"user{i}"))
    senders = [notifier.mail_sender() for _ in range(2)]
    barrier = threading.Barrier(2)

    def work(sender):
        barrier.wait()
        while sender.run_once():
            pass
    threads = [threading.Thread(target=work, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(m["To"] for m in smtp_sink.messages) == sorted(f"user{i}@example.com" for i in range(12))


def test_an_email_claimed_by_a_sender_that_died_is_sent_after_the_claim_lapses(deliver, identity, notifier,
                                                                               smtp_sink, deliveries):
    deliver(identity.registered("alice"))
    crashed = MailSender(engine=notifier.platform.engine, uow_factory=notifier.uow, renderer=notifier.renderer(),
                         transport=notifier.smtp(), config=SenderConfig(claim_timeout=60))
    assert len(crashed._claim()) == 1  # claimed, then the process died before sending
    assert notifier.mail_sender().run_once() == 0
    later = MailSender(engine=notifier.platform.engine, uow_factory=notifier.uow, renderer=notifier.renderer(),
                       transport=notifier.smtp(), clock=lambda: notifier.clock() + timedelta(seconds=61))
    assert later.run_once() == 1
    assert len(smtp_sink.messages) == 1
    assert (deliveries()[0].status, deliveries()[0].attempts) == ("sent", 2)


class DatabaseGoneOnce:
    """A unit-of-work factory whose ``fail_at``-th unit of work finds the database gone."""

    def __init__(self, uow_factory, fail_at):
        self._uow, self._fail_at, self.calls = uow_factory, fail_at, 0

    def __call__(self):
        self.calls += 1
        if self.calls == self._fail_at:
            import sqlalchemy as sa
            raise sa.exc.OperationalError("connect", None, ConnectionRefusedError("the database is away"))
        return self._uow()


def test_a_batch_broken_off_by_a_database_outage_is_sent_as_soon_as_the_database_is_back(
        deliver, identity, notifier, smtp_sink, deliveries):
    deliver(identity.registered("alice"))
    deliver(identity.registered("bob"))
    # unit of work 1 claims both emails; 2 would record the first one's result: the database is gone
    flaky = DatabaseGoneOnce(notifier.uow, fail_at=2)
    sender = MailSender(engine=notifier.platform.engine, uow_factory=flaky, renderer=notifier.renderer(),
                        transport=notifier.smtp(), clock=notifier.clock,
                        config=SenderConfig(claim_timeout=300, backoff_initial=0.05, poll_interval=0.05))
    thread = threading.Thread(target=sender.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: sorted(row.status for row in deliveries()) == ["sent", "sent"], timeout=10)
    finally:
        sender.stop()
        thread.join(10)
    received = sorted(m["To"] for m in smtp_sink.messages)
    assert set(received) == {"alice@example.com", "bob@example.com"}
    ids = {}
    for message in smtp_sink.messages:  # at least once: a repeat carries the same Message-ID
        assert ids.setdefault(message["To"], message["Message-ID"]) == message["Message-ID"]


def test_the_welcome_email_is_sent_from_a_sqlite_database_too(tmp_path, make_notifier, smtp_sink, identity):
    url = f"sqlite:///{tmp_path}/notifier.db"
    upgrade(ALEMBIC_INI, url)
    notifier = make_notifier(database_url=url, smtp_port=smtp_sink.port)
    runner = notifier.platform.consumer(notifier.consumer_queues)
    assert runner.process("notifier.accounts", identity.registered("alice").to_json().encode()) == "processed"
    assert notifier.mail_sender().run_once() == 1
    assert [m["To"] for m in smtp_sink.messages] == ["alice@example.com"]


def test_an_address_change_is_confirmed_to_the_new_address_and_told_to_the_previous_one(deliver, identity, send_due,
                                                                                       smtp_sink):
    deliver(identity.registered("alice", email="old@example.com"))
    deliver(identity.email_changed("alice", "new@example.org", "old@example.com"))
    send_due()
    by_kind = {(m["To"], m["Subject"]): m.get_body(("plain",)).get_content() for m in smtp_sink.messages}
    confirmation = by_kind[("new@example.org", "Your Packyard email address was changed")]
    assert "this is now the email address of your Packyard account alice" in confirmation
    notice = by_kind[("old@example.com", "Your Packyard email address was changed")]
    assert "n***@example.org" in notice and "new@example.org" not in notice
    assert len(smtp_sink.messages) == 3  # with the welcome email
