from __future__ import annotations

import base64
import itertools
import json

import pytest
import sqlalchemy as sa

from identity.__main__ import ALEMBIC_INI
from identity.app import create_app
from identity.bootstrap import bootstrap
from identity.commands import ensure_signing_key
from identity.config import Settings
from identity.models import outbox
from packyard.migrations import upgrade

_numbers = itertools.count(1)


@pytest.fixture
def identity(create_database):
    url = create_database(f"identity{next(_numbers)}")
    upgrade(ALEMBIC_INI, url)
    ident = bootstrap(Settings(database_url=url, amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
                               secret_key="test-secret-key-of-at-least-32-characters"))
    ensure_signing_key(ident)
    yield ident
    ident.platform.engine.dispose()


@pytest.fixture
def client(identity):
    return create_app(identity).test_client()


class Api:
    """Drives identity the way the gateway does: credentials → /internal/authn → access token."""

    def __init__(self, client, identity):
        self.client = client
        self.identity = identity

    def signup(self, username="alice", email=None, password="correct horse battery"):
        response = self.client.post("/auth/signup", json={
            "username": username, "email": email or f"{username}@example.com", "password": password})
        assert response.status_code == 201, response.json
        return response.json

    def login(self, username="alice", password="correct horse battery"):
        response = self.client.post("/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        return response.json["token"]

    def authn(self, authorization):
        return self.client.get("/internal/authn", headers={"Authorization": authorization})

    def as_gateway(self, authorization):
        """The headers the gateway forwards for these credentials (401 → AssertionError)."""
        response = self.authn(authorization)
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.headers['X-Packyard-Token']}"}

    @staticmethod
    def basic(username, api_key):
        return "Basic " + base64.b64encode(f"{username}:{api_key}".encode()).decode()

    def events(self, type_=None):
        with self.identity.platform.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox.c.type, outbox.c.body).order_by(outbox.c.id)).all()
        return [json.loads(r.body) for r in rows if type_ is None or r.type == type_]


@pytest.fixture
def api(client, identity):
    return Api(client, identity)
