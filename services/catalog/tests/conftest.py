from __future__ import annotations

import dataclasses
import json

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from catalog.__main__ import ALEMBIC_INI
from catalog.app import create_app
from catalog.bootstrap import bootstrap
from catalog.config import Settings
from catalog.consumers import QUEUES
from catalog.models import metadata, outbox
from packyard.events import CloudEvent
from packyard.migrations import upgrade
from packyard.testing import TokenMinter

SERVICE_TOKEN = "catalog-test-service-token-0123456789abcdef"
MAIL_TOKEN_KEY = Fernet.generate_key().decode()


@pytest.fixture
def mail_token_key():
    """The Fernet key catalog seals the notifier's secrets with in these tests."""
    return MAIL_TOKEN_KEY


@pytest.fixture
def service_headers():
    """Headers of a call from another service or the gateway to an ``/internal/*`` endpoint."""
    return {"X-Service-Token": SERVICE_TOKEN}


@pytest.fixture
def minter():
    return TokenMinter()


@pytest.fixture
def make_settings(tmp_path):
    def make(database_url, **overrides):
        values = dict(database_url=database_url, amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
                      jwks_url="http://identity.invalid/.well-known/jwks.json",
                      blob_storage_path=str(tmp_path / "blobs"), public_base_url="https://packyard.test",
                      mail_token_key=MAIL_TOKEN_KEY)
        if "service_token" in {f.name for f in dataclasses.fields(Settings)}:
            values["service_token"] = SERVICE_TOKEN
        values.update(overrides)
        return Settings(**values)
    return make


@pytest.fixture(scope="session")
def migrated_db(create_database):
    """One PostgreSQL database of this run, migrated once (creating and migrating one per test costs ~0.4 s)."""
    url = create_database("catalog")
    upgrade(ALEMBIC_INI, url)
    return url


@pytest.fixture
def catalog_db(migrated_db):
    """The run's database, emptied for this test."""
    engine = sa.create_engine(migrated_db, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:  # DELETE beats TRUNCATE on tables this small
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
    finally:
        engine.dispose()
    return migrated_db


@pytest.fixture
def settings_overrides():
    """Settings a test module wants different (override this fixture)."""
    return {}


@pytest.fixture
def catalog(catalog_db, make_settings, minter, settings_overrides):
    cat = bootstrap(make_settings(catalog_db, **settings_overrides), jwks_source=minter.jwks)
    yield cat
    cat.close()


@pytest.fixture
def app(catalog):
    return create_app(catalog)


@pytest.fixture
def client(app, catalog):
    client = app.test_client()
    # the gateway's sub-requests carry the service credential of /internal/* endpoints
    client.environ_base["HTTP_X_SERVICE_TOKEN"] = catalog.settings.service_token
    return client


class Bus:
    """Delivers events to catalog's handlers the way the worker does (inbox included), without a broker."""

    def __init__(self, catalog):
        self.catalog = catalog
        self.runner = catalog.platform.consumer(QUEUES)

    def deliver(self, event_type, data, *, queue=None, event_id=None, time=None, subject=None):
        kwargs = {}
        if event_id:
            kwargs["id"] = event_id
        if time:
            kwargs["time"] = time
        event = CloudEvent(type=event_type, source="/" + event_type.split(".")[0], data=data, subject=subject,
                           **kwargs)
        queue = queue or next(q.name for q in QUEUES if q.handler_for(event_type))
        return self.runner.process(queue, event.to_json().encode())

    def published(self, type_=None):
        """The events catalog wrote to its outbox, oldest first."""
        with self.catalog.platform.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox.c.type, outbox.c.body).order_by(outbox.c.id)).all()
        return [json.loads(r.body) for r in rows if type_ is None or r.type == type_]


@pytest.fixture
def bus(catalog):
    return Bus(catalog)


class Api:
    """Drives catalog as the gateway would: callers carry an access token identity issued."""

    def __init__(self, client, minter, bus):
        self.client = client
        self.minter = minter
        self.bus = bus

    def headers(self, username, **kwargs):
        return self.minter.headers(username, **kwargs)

    def user(self, username):
        """A registered user (as identity announced it); returns their request headers."""
        self.bus.deliver("identity.user.registered", {
            "user_id": f"uid-{username}", "username": username, "email": f"{username}@example.com",
            "full_name": username.title(), "registered": "2026-11-25T10:00:00.000Z"})
        return self.headers(username)

    def org(self, name, owner, *, members=(), admins=()):
        """An organization with its members, as identity's events describe it."""
        self.bus.deliver("identity.org.created", {"org_id": f"oid-{name}", "name": name, "full_name": name.title(),
                                                  "owner": owner, "owner_id": f"uid-{owner}", "revision": 1})
        for username in [owner, *members, *admins]:
            role = "owner" if username == owner else "admin" if username in admins else "member"
            self.member(name, username, role)

    def member(self, org, username, role="member", *, revision=1, event="identity.member.added"):
        return self.bus.deliver(event, {"org_id": f"oid-{org}", "org": org, "user_id": f"uid-{username}",
                                        "username": username, "role": role, "revision": revision})

    def team(self, subject, team, members, *, revision=1, allow_repo_creation=False, event="identity.team.created",
             subject_type="org"):
        return self.bus.deliver(event, {"subject": subject, "subject_type": subject_type, "team": team,
                                        "members": list(members), "allow_repo_creation": allow_repo_creation,
                                        "revision": revision})

    def create_repo(self, owner, name, headers, **body):
        response = self.client.post(f"/repos/{owner}/{name}", json={"type": "generic", **body}, headers=headers)
        assert response.status_code == 201, response.json
        return response.json

    def create_package(self, owner, repo, name, headers, **body):
        body = {"name": name, "licenses": ["MIT"], "vcs_url": f"https://github.com/{owner}/{name}.git", **body}
        response = self.client.post(f"/packages/{owner}/{repo}", json=body, headers=headers)
        assert response.status_code == 201, response.json
        return response.json

    def upload(self, owner, repo, package, version, path, data, headers, *, publish=False, override=False,
               extra_headers=None):
        query = f"?publish={int(publish)}&override={int(override)}"
        return self.client.put(f"/content/{owner}/{repo}/{package}/{version}/{path}{query}", data=data,
                               headers={**headers, **(extra_headers or {})})

    def publish(self, owner, repo, package, version, headers, **body):
        return self.client.post(f"/content/{owner}/{repo}/{package}/{version}/publish", json=body or None,
                                headers=headers)

    def events(self, type_=None):
        return self.bus.published(type_)


@pytest.fixture
def api(client, minter, bus):
    return Api(client, minter, bus)


@pytest.fixture
def alice(api):
    """A user with a public repository 'main' and a package 'tool' in it."""
    headers = api.user("alice")
    api.create_repo("alice", "main", headers)
    api.create_package("alice", "main", "tool", headers)
    return headers


@pytest.fixture(autouse=True)
def _answers_match_the_openapi_document(openapi_check):
    """Every answer a test receives is checked against the service's OpenAPI document."""
    return openapi_check
