from __future__ import annotations

import itertools
import uuid

import pytest

from packyard.events import CloudEvent
from packyard.testing import SERVICE_TOKEN, TokenMinter
from packyard.testing.events import IdentityEvents
from packyard.testing.service import postgres_database, service_fixtures
from social.__main__ import ALEMBIC_INI
from social.app import create_app
from social.bootstrap import bootstrap
from social.config import Settings

QUEUE = "social.accounts"

database_url = postgres_database(ALEMBIC_INI, "social")


@pytest.fixture
def minter():
    return TokenMinter()


def build(database_url, minter, amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F", **extra):
    """What ``make_social(amqp_url=..., **settings)`` builds: a social container on this test's database."""
    return bootstrap(Settings(database_url=database_url, amqp_url=amqp_url, jwks_url="http://identity.invalid/jwks",
                              service_token=SERVICE_TOKEN, **extra), jwks_source=minter.jwks)


@pytest.fixture
def identity():
    """Identity's events as they travel on the bus, built from the contract (packyard.testing.events)."""
    return IdentityEvents()


# make_social, a container, its test client, deliver(event) → the outcome on QUEUE without a broker, and
# running_worker → a RabbitMQ vhost a worker consumes from (packyard.testing.service)
make_social, social, client, deliver, running_worker = service_fixtures("social", build, create_app, queue=QUEUE)


def uid(name):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


class World:
    """Builds the platform around social from events (identity's and catalog's) delivered to its
    consumers, and calls social's API as those users."""

    def __init__(self, social, client, minter):
        self.social, self.client, self.minter = social, client, minter
        self.runner = social.platform.consumer(social.consumer_queues)
        self.revisions = itertools.count(1)

    def deliver(self, type_, data, source=None, event_id=None):
        source = source or "/" + type_.split(".", 1)[0]
        event = CloudEvent(type=type_, source=source, data=data, subject=data.get("username") or data.get("owner"),
                           **({"id": event_id} if event_id else {}))
        queue = next(q.name for q in self.social.consumer_queues if any(h.event_type == type_ for h in q.handlers))
        return self.runner.process(queue, event.to_json().encode())

    def headers(self, name, admin=False):
        return self.minter.headers(name, user_id=uid(name), admin=admin)

    def user(self, name, full_name=None, email=None):
        self.deliver("identity.user.registered", {
            "user_id": uid(name), "username": name, "email": email or f"{name}@example.com",
            "full_name": full_name or name.title(), "registered": "2026-11-25T10:00:00.123Z"})
        return self.headers(name)

    def org(self, name, owner):
        self.deliver("identity.org.created", {"org_id": uid("org:" + name), "name": name, "full_name": name.upper(),
                                              "owner": owner, "owner_id": uid(owner), "revision": 1})

    def member(self, org, username, role="member", removed=False):
        type_ = "identity.member.removed" if removed else "identity.member.added"
        data = {"org_id": uid("org:" + org), "org": org, "user_id": uid(username), "username": username,
                "revision": next(self.revisions)}
        if not removed:
            data["role"] = role
        self.deliver(type_, data)

    def team(self, subject, team, members, deleted=False):
        data = {"subject": subject, "subject_type": "org", "team": team, "revision": next(self.revisions)}
        if not deleted:
            data.update(members=members, allow_repo_creation=False)
        self.deliver("identity.team.deleted" if deleted else "identity.team.updated", data)

    def repo(self, owner, repo, private=False, kind="created", revision=None):
        self.deliver(f"catalog.repo.{kind}", {"owner": owner, "repo": repo, "private": private, "type": "generic",
                                              "revision": revision or next(self.revisions)})

    def package(self, owner, repo, package, private=False, kind="created"):
        self.deliver(f"catalog.package.{kind}", {"owner": owner, "repo": repo, "package": package,
                                                 "private": private, "revision": 1})

    def version(self, owner, repo, package, version, private=False, released=None, publisher=None):
        self.deliver("catalog.version.created", {"owner": owner, "repo": repo, "package": package,
                                                 "version": version, "private": private, "creator": owner})
        if released:
            self.deliver("catalog.version.released", {
                "owner": owner, "repo": repo, "package": package, "version": version, "private": private,
                "publisher": publisher or owner, "released": released, "files": []})

    def permission(self, owner, repo, team, permission=None):
        data = {"owner": owner, "repo": repo, "team": team, "revision": next(self.revisions)}
        if permission:
            data["permission"] = permission
        self.deliver("catalog.permission.set" if permission else "catalog.permission.removed", data)

    def published(self, type_=None):
        """The events social wrote to its outbox, oldest first (the relay publishes them)."""
        import json

        import sqlalchemy as sa

        from social.models import outbox
        with self.social.uow() as uow:
            rows = uow.session.execute(sa.select(outbox.c.type, outbox.c.body).order_by(outbox.c.id)).all()
        return [json.loads(body)["data"] for t, body in rows if type_ is None or t == type_]


@pytest.fixture
def world(social, client, minter):
    return World(social, client, minter)


@pytest.fixture(autouse=True)
def _answers_match_the_openapi_document(openapi_check):
    """Every answer a test receives is checked against the service's OpenAPI document."""
    return openapi_check
