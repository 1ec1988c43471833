from __future__ import annotations

import itertools
import uuid

import pytest
from packyard.events import CloudEvent
from packyard.migrations import upgrade
from packyard.testing import SERVICE_TOKEN, TokenMinter, publish_event, running
from social.__main__ import ALEMBIC_INI
from social.app import create_app
from social.bootstrap import bootstrap
from social.config import Settings

_numbers = itertools.count(1)
QUEUE = "social.accounts"


@pytest.fixture
def database_url(create_database):
    url = create_database(f"social{next(_numbers)}")
    upgrade(ALEMBIC_INI, url)
    return url


@pytest.fixture
def make_social(database_url):
    """``make_social(amqp_url=...)`` → a social container on this test's database."""
    made = []

    def make(amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F"):
        settings = Settings(database_url=database_url, amqp_url=amqp_url, jwks_url="http://identity.invalid/jwks",
                            service_token=SERVICE_TOKEN)
        container = bootstrap(settings, jwks_source=TokenMinter().jwks)
        made.append(container)
        return container

    yield make
    for container in made:
        container.platform.engine.dispose()


@pytest.fixture
def social(make_social):
    return make_social()


@pytest.fixture
def client(social):
    return create_app(social).test_client()


class Identity:
    """Builds identity's events as they travel on the bus (CloudEvents from ``/identity``)."""

    @staticmethod
    def event(type_, data, event_id=None):
        return CloudEvent(type=type_, source="/identity", data=data, subject=data.get("username"),
                          **({"id": event_id} if event_id else {}))

    def registered(self, username, user_id=None, registered="2026-11-25T10:00:00.123Z", **extra):
        return self.event("identity.user.registered", {
            "user_id": user_id or str(uuid.uuid5(uuid.NAMESPACE_URL, username)), "username": username,
            "email": f"{username}@example.com", "full_name": username.title(), "registered": registered, **extra})

    def deleted(self, username, user_id=None):
        return self.event("identity.user.deleted", {
            "user_id": user_id or str(uuid.uuid5(uuid.NAMESPACE_URL, username)), "username": username})

    @staticmethod
    def publish(amqp_url, event):
        """Publish to ``identity.events`` the way identity's relay does."""
        publish_event(amqp_url, event)


@pytest.fixture
def identity():
    return Identity()


@pytest.fixture
def deliver(social):
    """Hand an event to social's consumer as the worker would (without a broker); returns the outcome."""
    runner = social.platform.consumer(social.consumer_queues)
    return lambda event: runner.process(QUEUE, event.to_json().encode())


@pytest.fixture
def running_worker(make_social, fresh_amqp_url):
    """A real worker consuming from a RabbitMQ vhost of this test's own; yields that vhost's URL."""
    container = make_social(amqp_url=fresh_amqp_url)
    with running(container.platform.consumer(container.consumer_queues)):
        yield fresh_amqp_url
