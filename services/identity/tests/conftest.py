from __future__ import annotations

import base64
import itertools
import json
from datetime import UTC, datetime, timedelta

import argon2
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from identity.__main__ import ALEMBIC_INI
from identity.app import create_app
from identity.bootstrap import bootstrap
from identity.commands import ensure_signing_key
from identity.config import Settings
from identity.credentials import Passwords
from identity.models import outbox
from packyard.migrations import upgrade
from packyard.testing import SERVICE_TOKEN

_numbers = itertools.count(1)

PASSWORD = "correct horse battery"
MAIL_TOKEN_KEY = Fernet.generate_key().decode()


class Clock:
    """Identity's clock, movable by tests (injected through the container, like the real one)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def shift(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def settings_for():
    def make(url: str, **overrides) -> Settings:
        values = {"amqp_url": "amqp://guest:guest@127.0.0.1:5672/%2F", "mail_token_key": MAIL_TOKEN_KEY,
                  "secret_key": "test-secret-key-of-at-least-32-characters", "service_token": SERVICE_TOKEN,
                  # tests sign many people up from one address; test_abuse checks the limit itself
                  "signups_per_address_per_hour": 10_000, **overrides}
        return Settings(database_url=url, **values)
    return make


def _identity_on(url, clock, settings_for):
    upgrade(ALEMBIC_INI, url)
    # argon2 is slow by design; the tests use the cheapest parameters it accepts.
    cheap = Passwords(argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=argon2.Type.ID))
    ident = bootstrap(settings_for(url), passwords=cheap, clock=clock)
    ensure_signing_key(ident)
    return ident


@pytest.fixture
def identity(create_database, clock, settings_for):
    ident = _identity_on(create_database(f"identity{next(_numbers)}"), clock, settings_for)
    yield ident
    ident.platform.engine.dispose()


@pytest.fixture
def sqlite_api(tmp_path, clock, settings_for):
    """The same API on an SQLite file, the embedded database of a local run."""
    ident = _identity_on(f"sqlite:///{tmp_path}/identity.db", clock, settings_for)
    yield Api(create_app(ident).test_client(), ident)
    ident.platform.engine.dispose()


@pytest.fixture
def client(identity):
    return create_app(identity).test_client()


class Api:
    """Drives identity the way the gateway does: credentials → /internal/authn → access token."""

    PASSWORD = PASSWORD
    MAIL_TOKEN_KEY = MAIL_TOKEN_KEY

    def __init__(self, client, identity):
        self.client = client
        self.identity = identity

    def signup(self, username="alice", email=None, password=PASSWORD, full_name=""):
        response = self.client.post("/auth/signup", json={
            "username": username, "email": email or f"{username}@example.com", "password": password,
            "full_name": full_name})
        assert response.status_code == 201, response.json
        return response.json

    def login(self, username="alice", password=PASSWORD):
        response = self.client.post("/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        return response.json["token"]

    def authn(self, authorization):
        return self.client.get("/internal/authn", headers={"Authorization": authorization,
                                                           "X-Service-Token": SERVICE_TOKEN})

    def as_gateway(self, authorization):
        """The headers the gateway forwards for these credentials (401 → AssertionError)."""
        response = self.authn(authorization)
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.headers['X-Packyard-Token']}"}

    def user(self, username="alice", password=PASSWORD, email=None, full_name=""):
        """Sign ``username`` up and return the headers the gateway forwards after their login."""
        self.signup(username, email=email, password=password, full_name=full_name)
        return self.as_gateway(f"Bearer {self.login(username, password)}")

    def api_key_headers(self, headers, username):
        key = self.client.post("/me/apikey", headers=headers).json["api_key"]
        return self.as_gateway(self.basic(username, key)), key

    @staticmethod
    def basic(username, api_key):
        return "Basic " + base64.b64encode(f"{username}:{api_key}".encode()).decode()

    def events(self, type_=None):
        with self.identity.platform.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox.c.type, outbox.c.body).order_by(outbox.c.id)).all()
        return [json.loads(r.body) for r in rows if type_ is None or r.type == type_]

    def event_data(self, type_=None):
        return [e["data"] for e in self.events(type_)]

    def count_events(self):
        with self.identity.platform.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(outbox))

    def rows(self, table, **where):
        """Rows of one of identity's tables, as dicts."""
        t = sa.Table(table, sa.MetaData(), autoload_with=self.identity.platform.engine)
        query = sa.select(t)
        for name, value in where.items():
            query = query.where(t.c[name] == value)
        with self.identity.platform.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]


@pytest.fixture
def api(client, identity):
    return Api(client, identity)


@pytest.fixture(autouse=True)
def _answers_match_the_openapi_document(openapi_check):
    """Every answer a test receives is checked against the service's OpenAPI document."""
    return openapi_check
