from __future__ import annotations

import contextlib
import itertools
import uuid
from types import SimpleNamespace

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
from packyard.testing import SERVICE_TOKEN, TokenMinter, publish_event, running

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
                      jwks_url="http://identity.invalid/jwks", service_token=SERVICE_TOKEN,
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


class Others:
    """Builds catalog's, social's and signing's events as they travel on the bus."""

    def __init__(self, mail_key):
        self.fernet = Fernet(mail_key.encode())

    @staticmethod
    def event(type_, data, event_id=None, time=None):
        extra = {"id": event_id} if event_id else {}
        if time:
            extra["time"] = time
        return CloudEvent(type=type_, source="/" + type_.split(".")[0], data=data, **extra)

    def released(self, owner, repo, package, version, publisher=None, private=False, notes=None, event_id=None):
        return self.event("catalog.version.released", {
            "owner": owner, "repo": repo, "private": private, "package": package, "version": version,
            "publisher": publisher or owner, "released": "2026-11-25T10:02:00.000Z", "release_notes": notes,
            "gpg_sign_files": False, "gpg_use_owner_key": False, "files": []}, event_id=event_id)

    def watch(self, username, owner, repo, package, revision, kind="all", pattern=None, private=False,
              stopped=False):
        data = {"username": username, "owner": owner, "repo": repo, "package": package, "private": private,
                "filter": {"kind": kind, "pattern": pattern}, "watchers_count": 1, "revision": revision,
                "count_revision": revision}
        if stopped:
            data["reason"] = "unwatched"
        return self.event("social.watch.stopped" if stopped else "social.watch.started", data)

    def follow(self, follower, followee, revision, followee_type="user", stopped=False):
        return self.event("social.follow.stopped" if stopped else "social.follow.started", {
            "follower": follower, "followee": followee, "followee_type": followee_type, "followers_count": 1,
            "revision": revision, "count_revision": revision})

    def webhook_registered(self, owner, repo, package, username, url, method="post", secret=None,
                           registered="2026-11-25T10:00:00.000Z"):
        data = {"owner": owner, "repo": repo, "private": False, "package": package, "username": username,
                "url": url, "method": method, "registered": registered}
        if secret:
            data["secret_ciphertext"] = self.fernet.encrypt(secret.encode()).decode()
            data["webhook_id"] = "7"
        return self.event("catalog.webhook.registered", data)

    def api_key_issued(self, username, key, time=None):
        return self.event("identity.api_key.issued", {
            "user_id": Identity.user_id(username), "username": username,
            "api_key_ciphertext": self.fernet.encrypt(key.encode()).decode()}, time=time)

    def api_key_revoked(self, username, time=None):
        return self.event("identity.api_key.revoked", {"user_id": Identity.user_id(username), "username": username},
                          time=time)


@pytest.fixture
def others(mail_key):
    return Others(mail_key)


@pytest.fixture
def handle(notifier):
    """``handle(event)`` → the consumer's outcome, on whichever notifier queue takes that event type."""
    queues = notifier.consumer_queues
    runner = notifier.platform.consumer(queues)

    def run(event):
        for queue in queues:
            if queue.handler_for(event.type) is not None:
                return runner.process(queue.name, event.to_json().encode())
        raise AssertionError(f"no notifier queue takes {event.type}")
    return run


@pytest.fixture
def notifications_of(notifier, identity):
    """``notifications_of(username, kind=None)`` → their in-app notifications (rows), oldest first."""
    from notifier.models import Notification

    def read(username, kind=None):
        with notifier.uow() as uow:
            query = sa.select(Notification).where(Notification.user_id == identity.user_id(username))
            if kind:
                query = query.where(Notification.type == kind)
            rows = list(uow.session.scalars(query.order_by(Notification.created_at, Notification.title)))
            return [SimpleNamespace(**{c.key: getattr(n, c.key) for c in Notification.__table__.columns})
                    for n in rows]
    return read


@pytest.fixture
def outbox_events(notifier):
    """``outbox_events(type)`` → CloudEvents the notifier wrote to its outbox, oldest first."""
    from notifier.models import outbox

    def read(type_=None):
        with notifier.platform.engine.connect() as conn:
            query = sa.select(outbox.c.body, outbox.c.type).order_by(outbox.c.id)
            rows = conn.execute(query).all()
        from packyard.events import parse_envelope
        return [parse_envelope(body.encode()) for body, t in rows if type_ is None or t == type_]
    return read


@pytest.fixture(autouse=True)
def _answers_match_the_openapi_document(openapi_check):
    """Every answer a test receives is checked against the service's OpenAPI document."""
    return openapi_check
