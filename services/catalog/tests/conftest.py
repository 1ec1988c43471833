from __future__ import annotations

import itertools
import json

import pytest
import sqlalchemy as sa

from catalog.__main__ import ALEMBIC_INI
from catalog.app import create_app
from catalog.bootstrap import bootstrap
from catalog.config import Settings
from catalog.consumers import QUEUES
from catalog.models import outbox
from packyard.events import CloudEvent
from packyard.migrations import upgrade
from packyard.testing import TokenMinter

_numbers = itertools.count(1)


@pytest.fixture
def minter():
    return TokenMinter()


@pytest.fixture
def make_settings(tmp_path):
    def make(database_url, **overrides):
        values = dict(database_url=database_url, amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
                      jwks_url="http://identity.invalid/.well-known/jwks.json",
                      blob_storage_path=str(tmp_path / "blobs"), public_base_url="https://packyard.test")
        values.update(overrides)
        return Settings(**values)
    return make


@pytest.fixture
def catalog_db(create_database):
    url = create_database(f"catalog{next(_numbers)}")
    upgrade(ALEMBIC_INI, url)
    return url


@pytest.fixture
def catalog(catalog_db, make_settings, minter):
    cat = bootstrap(make_settings(catalog_db), jwks_source=minter.jwks)
    yield cat
    cat.platform.engine.dispose()


@pytest.fixture
def client(catalog):
    return create_app(catalog).test_client()


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
