"""Fixtures for the platform library's own tests: a tiny service schema on real databases."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import marshmallow as ma
import pytest
import sqlalchemy as sa

from packyard.db import UnitOfWork, define_inbox_table, define_outbox_table, make_engine, make_session_factory
from packyard.events import EventType

metadata = sa.MetaData()
outbox = define_outbox_table(metadata)
inbox = define_inbox_table(metadata)
effects = sa.Table(
    "effects", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("note", sa.String(200), nullable=False),
)


class ThingCreatedData(ma.Schema):
    name = ma.fields.String(required=True)
    size = ma.fields.Integer(load_default=0)


THING_CREATED = EventType("testsvc.thing.created", ThingCreatedData)


_db_numbers = itertools.count(1)


@pytest.fixture
def pg_engine(create_database) -> Iterator[sa.Engine]:
    engine = make_engine(create_database(f"lib{next(_db_numbers)}"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/lib.db")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def uow_factory(engine: sa.Engine):
    sessions = make_session_factory(engine)
    return lambda: UnitOfWork(sessions, source="testsvc", outbox=outbox)


def publish_things(engine: sa.Engine, n: int, prefix: str = "thing") -> list[str]:
    ids = []
    make = uow_factory(engine)
    for i in range(n):
        with make() as uow:
            ids.append(uow.publish(THING_CREATED, {"name": f"{prefix}-{i}", "size": i}, subject=f"{prefix}-{i}").id)
            uow.commit()
    return ids


class Lib:
    """The test schema and helpers, handed to tests as the ``lib`` fixture."""

    metadata = metadata
    outbox = outbox
    inbox = inbox
    effects = effects
    THING_CREATED = THING_CREATED
    uow_factory = staticmethod(uow_factory)
    publish_things = staticmethod(publish_things)


@pytest.fixture
def lib() -> type[Lib]:
    return Lib
