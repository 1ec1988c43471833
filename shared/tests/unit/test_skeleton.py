"""The service skeleton (packyard.service, packyard.cli) on SQLite: what every service's wiring relies on."""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from packyard import cli
from packyard.config import ConfigError
from packyard.consumer import ConsumerQueue, Handler, Outcome
from packyard.db import NAMING_CONVENTION, as_utc, define_inbox_table, define_outbox_table, release_name
from packyard.events import CloudEvent, event_time
from packyard.sealing import Sealer, Unsealable, fernet_keys
from packyard.service import BaseSettings, Platform, ServiceContainer

MOMENT = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    seen_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


models = types.SimpleNamespace(outbox=define_outbox_table(Base.metadata), inbox=define_inbox_table(Base.metadata))


def on_seen(uow, event, data):
    person = uow.session.get(Person, data["id"]) or Person(id=data["id"])
    person.seen_at = uow.clock()
    uow.session.add(person)


QUEUES = [ConsumerQueue("demo.people", [Handler("other.person.seen", on_seen)])]


@dataclass
class Demo(ServiceContainer):
    settings: BaseSettings


@pytest.fixture
def demo(tmp_path):
    settings = BaseSettings(database_url=f"sqlite:///{tmp_path}/demo.db", amqp_url="amqp://localhost/",
                            service_token="x" * 32)
    container = Demo(settings=settings, consumer_queues=QUEUES, platform=Platform.of("demo", settings, models))
    Base.metadata.create_all(container.platform.engine)
    yield container
    container.close()


def seen(person_id):
    return CloudEvent(type="other.person.seen", source="/other", data={"id": person_id}).to_json().encode()


def test_a_consumer_tells_the_time_by_the_containers_clock_even_when_replaced_later(demo):
    demo.clock = lambda: MOMENT
    assert demo.consumer().process("demo.people", seen("p1")) == Outcome.PROCESSED
    runner = demo.platform.consumer(demo.consumer_queues)  # built through the platform, as tests do
    demo.clock = lambda: MOMENT.replace(year=2027)
    assert runner.process("demo.people", seen("p2")) == Outcome.PROCESSED
    with demo.uow() as uow:
        times = {p.id: as_utc(p.seen_at) for p in uow.session.scalars(sa.select(Person))}
    assert times == {"p1": MOMENT, "p2": MOMENT.replace(year=2027)}


def test_the_outbox_is_dated_by_the_containers_clock(demo):
    import marshmallow as ma

    from packyard.events import EventType

    class Data(ma.Schema):
        id = ma.fields.String(required=True)

    demo.clock = lambda: MOMENT
    with demo.uow() as uow:
        uow.publish(EventType("demo.person.added", Data), {"id": "p1"})
        uow.commit()
    with demo.platform.engine.connect() as conn:
        assert as_utc(conn.scalar(sa.select(models.outbox.c.created_at))) == MOMENT


def test_the_container_declares_what_the_shared_commands_ask_of_it(demo):
    assert isinstance(demo, cli.Container)
    assert demo.worker_loops() == [] and demo.after_migrate() is None
    assert [q.name for q in demo.consumer_queues] == ["demo.people"]


def test_the_entry_point_runs_the_services_own_commands_with_its_container(tmp_path, demo):
    seen_by = []
    commands = {"hello": ("say hello", lambda container, args: seen_by.append(container) or 3, None)}
    run = cli.entry_point("demo", bootstrap=lambda: demo, alembic_ini=cli.alembic_ini(__file__), commands=commands)
    assert run(["hello"]) == 3 and seen_by == [demo]
    assert cli.alembic_ini("/srv/services/demo/demo/__main__.py").as_posix() == "/srv/services/demo/alembic.ini"


def test_a_name_reused_leaves_the_stale_replica_row(demo):
    with demo.uow() as uow:
        uow.session.add_all([Person(id="old", name="alice"), Person(id="other", name="bob")])
        uow.session.flush()
        release_name(uow.session, Person.name, "alice", Person.id, "new")
        uow.session.add(Person(id="new", name="alice"))
        uow.commit()
    with demo.uow() as uow:
        assert dict(uow.session.execute(sa.select(Person.id, Person.name)).all()) == {
            "old": None, "other": "bob", "new": "alice"}


def test_event_time_reads_the_publishers_time_and_falls_back_when_it_cannot():
    def event(time):
        return CloudEvent(type="a.b.c", source="/a", data={}, time=time)

    assert event_time(event("2026-05-06T07:08:09.000Z")) == MOMENT
    assert event_time(event("2026-05-06T07:08:09")) == MOMENT  # no zone: UTC
    assert event_time(event("yesterday"), MOMENT) == MOMENT
    assert event_time(event("yesterday")).tzinfo is not None


def test_as_utc_gives_naive_times_their_zone_and_leaves_the_rest():
    assert as_utc(MOMENT.replace(tzinfo=None)) == MOMENT
    assert as_utc(MOMENT) is MOMENT and as_utc(None) is None


def test_mail_token_keys_rotate_newest_first():
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_before = Sealer(old).seal("token")
    rotating = Sealer(f"{new}, {old}")
    assert rotating.open(sealed_before) == "token"
    assert Fernet(new.encode()).decrypt(rotating.seal("t2").encode()) == b"t2"
    assert fernet_keys(f" {new} ,{old},") == [new, old]
    with pytest.raises(Unsealable):
        Sealer(Fernet.generate_key().decode()).open(sealed_before)


@pytest.mark.parametrize("value", ["", " , ", "not-a-key", "x" * 44])
def test_a_mail_token_key_that_is_no_fernet_key_is_refused_naming_the_variable(value):
    with pytest.raises(ConfigError, match="^MAIL_TOKEN_KEY must"):
        fernet_keys(value)


def test_a_fast_test_that_asks_for_a_server_fails():
    from packyard.testing.unit import refuse_servers

    asking = types.SimpleNamespace(fixturenames=["tmp_path", "create_database"], node=types.SimpleNamespace(nodeid="t"))
    with pytest.raises(pytest.fail.Exception, match="asks for a server: create_database"):
        refuse_servers(asking)
    refuse_servers(types.SimpleNamespace(fixturenames=["tmp_path"], node=asking.node))
