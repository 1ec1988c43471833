from __future__ import annotations

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
from packyard.testing import SERVICE_TOKEN, TokenMinter
from packyard.testing.events import IdentityEvents
from packyard.testing.service import containers, deliverer, postgres_database, running_worker

BASE_URL = "https://packyard.example.org"

database_url = postgres_database(ALEMBIC_INI, "notifier")


@pytest.fixture
def mail_key():
    return Fernet.generate_key().decode()


@pytest.fixture
def minter():
    return TokenMinter()


@pytest.fixture
def make_notifier(database_url, mail_key, minter):
    """``make_notifier(**settings)`` → a notifier container on this test's database."""
    values = dict(database_url=database_url, amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
                  jwks_url="http://identity.invalid/jwks", service_token=SERVICE_TOKEN,
                  mail_token_key=mail_key, public_base_url=BASE_URL, mail_from="Packyard <noreply@example.org>",
                  smtp_host="127.0.0.1", smtp_port=1, smtp_timeout=5.0, mail_poll_interval=0.1,
                  mail_retry_delay=0.05, mail_retry_max_delay=0.2)
    yield from containers(lambda **overrides: bootstrap(Settings(**{**values, **overrides}), jwks_source=minter.jwks))


@pytest.fixture
def notifier(make_notifier, smtp_sink):
    return make_notifier(smtp_port=smtp_sink.port)


@pytest.fixture
def client(notifier):
    return create_app(notifier).test_client()


@pytest.fixture
def identity(mail_key):
    """Identity's events as they travel on the bus, built from the contract (packyard.testing.events);
    secrets sealed with this test's ``MAIL_TOKEN_KEY``."""
    return IdentityEvents(mail_key=mail_key)


@pytest.fixture
def deliver(notifier):
    """Hand an event to the notifier's consumer as the worker would (without a broker); returns the outcome."""
    return deliverer(notifier, ACCOUNTS_QUEUE)


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


@pytest.fixture(name="running_worker")
def _running_worker(make_notifier, fresh_amqp_url, smtp_sink):
    """A real worker — consumers and mail sender — on a RabbitMQ vhost of this test's own."""
    with running_worker(make_notifier(amqp_url=fresh_amqp_url, smtp_port=smtp_sink.port), loops=True) as container:
        yield container


class Others:
    """Builds catalog's, social's and signing's events as they travel on the bus."""

    def __init__(self, mail_key):
        self.fernet = Fernet(mail_key.encode())
        self.identity = IdentityEvents(mail_key=mail_key)

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
        return self.identity.api_key_issued(username, key, time=time)

    def api_key_revoked(self, username, time=None):
        return self.identity.api_key_revoked(username, time=time)


@pytest.fixture
def others(mail_key):
    return Others(mail_key)


@pytest.fixture
def handle(notifier):
    """``handle(event)`` → the consumer's outcome, on whichever notifier queue takes that event type."""
    return deliverer(notifier)


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
