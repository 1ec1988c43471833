from __future__ import annotations

import contextlib
import itertools
import uuid

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from notifier.__main__ import ALEMBIC_INI
from notifier.app import create_app
from notifier.bootstrap import bootstrap
from notifier.config import Settings
from notifier.consumers import ACCOUNTS_QUEUE
from notifier.models import EmailDelivery, metadata
from packyard.events import CloudEvent
from packyard.migrations import upgrade
from packyard.testing import TokenMinter, publish_event, running

_numbers = itertools.count(1)
BASE_URL = "https://packyard.example.org"


@pytest.fixture
def database_url(create_database):
    url = create_database(f"notifier{next(_numbers)}")
    upgrade(ALEMBIC_INI, url)
    return url


@pytest.fixture
def mail_key():
    return Fernet.generate_key().decode()


@pytest.fixture
def minter():
    return TokenMinter()


@pytest.fixture
def make_notifier(database_url, mail_key, minter):
    """``make_notifier(**settings)`` → a notifier container on this test's database."""
    made = []

    def make(**overrides):
        values = dict(database_url=database_url, amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
                      jwks_url="http://identity.invalid/jwks",
                      mail_token_key=mail_key, public_base_url=BASE_URL, mail_from="Packyard <noreply@example.org>",
                      smtp_host="127.0.0.1", smtp_port=1, smtp_timeout=5.0, mail_poll_interval=0.1,
                      mail_retry_delay=0.05, mail_retry_max_delay=0.2)
        values.update(overrides)
        container = bootstrap(Settings(**values), jwks_source=minter.jwks)
        made.append(container)
        return container

    yield make
    for container in made:
        container.platform.engine.dispose()


@pytest.fixture
def notifier(make_notifier, smtp_sink):
    return make_notifier(smtp_port=smtp_sink.port)


@pytest.fixture
def client(notifier):
    return create_app(notifier).test_client()


class Identity:
    """Builds identity's events as they travel on the bus (CloudEvents from ``/identity``)."""

    def __init__(self, mail_key):
        self.fernet = Fernet(mail_key.encode())

    @staticmethod
    def user_id(username):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, username))

    @staticmethod
    def event(type_, data, event_id=None, time=None):
        extra = {"id": event_id} if event_id else {}
        if time:
            extra["time"] = time
        return CloudEvent(type=type_, source="/identity", data=data, subject=data.get("username"), **extra)

    def registered(self, username, email=None, **extra):
        return self.event("identity.user.registered", {
            "user_id": self.user_id(username), "username": username, "email": email or f"{username}@example.com",
            "full_name": username.title(), "registered": "2026-11-25T10:00:00.123Z", **extra})

    def email_changed(self, username, email, previous_email, time=None):
        return self.event("identity.user.email_changed", {
            "user_id": self.user_id(username), "username": username, "email": email,
            "previous_email": previous_email}, time=time)

    def preferences_changed(self, username, revision, release_alerts_email=True, news_email=False,
                            show_email=False):
        return self.event("identity.user.preferences_changed", {
            "user_id": self.user_id(username), "username": username, "show_email": show_email,
            "release_alerts_email": release_alerts_email, "news_email": news_email, "revision": revision})

    def password_reset_requested(self, username, token, expires_at="2999-01-01T00:00:00.000Z", email=None):
        return self.event("identity.user.password_reset_requested", {
            "user_id": self.user_id(username), "username": username, "email": email or f"{username}@example.com",
            "token_ciphertext": self.fernet.encrypt(token.encode()).decode(), "expires_at": expires_at})

    def deleted(self, username):
        return self.event("identity.user.deleted", {"user_id": self.user_id(username), "username": username})

    @staticmethod
    def publish(amqp_url, event):
        """Publish to ``identity.events`` the way identity's relay does."""
        publish_event(amqp_url, event)


@pytest.fixture
def identity(mail_key):
    return Identity(mail_key)


@pytest.fixture
def deliver(notifier):
    """Hand an event to the notifier's consumer as the worker would (without a broker); returns the outcome."""
    runner = notifier.platform.consumer(notifier.consumer_queues)
    return lambda event: runner.process(ACCOUNTS_QUEUE, event.to_json().encode())


@pytest.fixture
def as_user(minter, identity):
    """The headers the gateway forwards for ``username`` (same user id as identity's events)."""
    return lambda username: minter.headers(username, user_id=identity.user_id(username))


@pytest.fixture
def deliveries(notifier):
    """``deliveries()`` → every email delivery row, oldest first."""
    def read():
        with notifier.uow() as uow:
            return uow.session.execute(sa.select(EmailDelivery.__table__)
                                       .order_by(EmailDelivery.created_at, EmailDelivery.template)).all()
    return read


@pytest.fixture
def database_text(notifier):
    """``database_text()`` → every value in every table of the notifier, as one string."""
    def read():
        parts = []
        with notifier.platform.engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(sa.select(table)):
                    parts.extend(str(value) for value in row)
        return "\n".join(parts)
    return read


@pytest.fixture
def send_due(notifier):
    """Run the mail sender until nothing is due; returns how many emails it handled."""
    sender = notifier.mail_sender()

    def run():
        total = 0
        while (handled := sender.run_once()):
            total += handled
        return total
    return run


@pytest.fixture
def running_worker(make_notifier, fresh_amqp_url, smtp_sink):
    """A real worker — consumers and mail sender — on a RabbitMQ vhost of this test's own."""
    container = make_notifier(amqp_url=fresh_amqp_url, smtp_port=smtp_sink.port)
    with contextlib.ExitStack() as stack:
        for loop in container.worker_loops():
            stack.enter_context(running(loop))
        stack.enter_context(running(container.platform.consumer(container.consumer_queues)))
        yield container
