"""The consumer runner against real PostgreSQL and a real RabbitMQ."""

from __future__ import annotations

import threading

import marshmallow as ma
import pika
import pytest
import sqlalchemy as sa

from packyard import amqp
from packyard.consumer import RETRIES_HEADER, ConsumerQueue, ConsumerRunner, Handler
from packyard.events import CONTENT_TYPE, CloudEvent
from packyard.testing import TcpProxy, wait_for


class ThingData(ma.Schema):
    name = ma.fields.String(required=True)


def on_thing_created(uow, event, data):
    if data["name"].startswith("poison"):
        raise ValueError(f"cannot handle {data['name']}")
    uow.session.execute(uow_effects.insert().values(event_id=event.id, note=data["name"]))


uow_effects = None  # set by the fixture: the handler writes to the test schema's effects table

QUEUE = ConsumerQueue("othersvc.things", (Handler("testsvc.thing.created", on_thing_created, ThingData),))


@pytest.fixture
def runner_factory(pg_engine, lib, fresh_amqp_url):
    global uow_effects
    uow_effects = lib.effects
    started = []

    def start(engine=pg_engine, url=fresh_amqp_url, **retry):
        runner = ConsumerRunner(service="othersvc", amqp_url=url, queues=[QUEUE],
                                uow_factory=lib.uow_factory(engine), inbox=lib.inbox,
                                retry=amqp.RetryPolicy(**{"max_retries": 2, "delay_ms": 100, **retry}))
        thread = threading.Thread(target=runner.run)
        thread.start()
        started.append((runner, thread))
        wait_for(runner.connected.is_set, timeout=10, message="consumer connected")
        return runner

    yield start
    for runner, thread in started:
        runner.stop()
        thread.join(15)


def send(url, name, event_id=None, body=None):
    event = CloudEvent(type="testsvc.thing.created", source="/testsvc", data={"name": name},
                       **({"id": event_id} if event_id else {}))
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.confirm_delivery()
    amqp.declare_events_exchange(ch, "testsvc")
    ch.basic_publish("testsvc.events", event.type, body if body is not None else event.to_json().encode(),
                     pika.BasicProperties(message_id=event.id, type=event.type, content_type=CONTENT_TYPE,
                                          delivery_mode=2), mandatory=True)
    conn.close()
    return event.id


def effect_notes(engine, lib):
    with engine.connect() as conn:
        return [r.note for r in conn.execute(sa.select(lib.effects).order_by(lib.effects.c.id))]


def queue_messages(url, queue):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    out = []
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            break
        out.append((props, body))
    conn.close()
    return out


def test_each_event_is_handled_and_acknowledged(runner_factory, pg_engine, lib, fresh_amqp_url):
    runner_factory()
    for name in ("a", "b", "c"):
        send(fresh_amqp_url, name)
    wait_for(lambda: effect_notes(pg_engine, lib) == ["a", "b", "c"], timeout=10)


def test_the_same_event_delivered_twice_has_one_effect(runner_factory, pg_engine, lib, fresh_amqp_url):
    runner_factory()
    send(fresh_amqp_url, "once", event_id="11111111-2222-3333-4444-555555555555")
    send(fresh_amqp_url, "once", event_id="11111111-2222-3333-4444-555555555555")
    send(fresh_amqp_url, "after")
    wait_for(lambda: effect_notes(pg_engine, lib) == ["once", "after"], timeout=10)
    with pg_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(lib.inbox)).scalar_one() == 2
    assert queue_messages(fresh_amqp_url, "othersvc.things") == []  # both copies acknowledged


def test_a_poison_message_is_parked_after_bounded_retries_while_the_rest_flow(runner_factory, pg_engine, lib,
                                                                               fresh_amqp_url):
    runner_factory(max_retries=2, delay_ms=200)
    poison_id = send(fresh_amqp_url, "poison-1")
    for name in ("x", "y"):
        send(fresh_amqp_url, name)
    wait_for(lambda: effect_notes(pg_engine, lib) == ["x", "y"], timeout=10)
    parked = wait_for(lambda: queue_messages(fresh_amqp_url, "othersvc.dlq"), timeout=10, message="poison in DLQ")
    [(props, _body)] = parked
    assert props.message_id == poison_id
    assert props.headers[RETRIES_HEADER] == 2
    assert "cannot handle poison-1" in props.headers["x-packyard-error"]
    assert effect_notes(pg_engine, lib) == ["x", "y"]


def test_an_undecodable_message_is_parked_too(runner_factory, fresh_amqp_url):
    runner_factory(max_retries=1, delay_ms=100)
    send(fresh_amqp_url, "junk", body=b"not json")
    [(props, body)] = wait_for(lambda: queue_messages(fresh_amqp_url, "othersvc.dlq"), timeout=10)
    assert body == b"not json"


def test_the_consumer_reconnects_and_catches_up_after_a_broker_outage(runner_factory, pg_engine, lib, fresh_amqp_url):
    parsed = pika.URLParameters(fresh_amqp_url)
    proxy = TcpProxy(parsed.host, parsed.port)
    try:
        runner = runner_factory(url=fresh_amqp_url.replace(f"{parsed.host}:{parsed.port}", f"127.0.0.1:{proxy.port}"))
        send(fresh_amqp_url, "before")
        wait_for(lambda: effect_notes(pg_engine, lib) == ["before"], timeout=10)
        proxy.cut()
        wait_for(lambda: not runner.connected.is_set(), timeout=10, message="consumer noticing the outage")
        send(fresh_amqp_url, "during")  # straight to the broker: only the consumer is cut off
        proxy.restore()
        wait_for(lambda: effect_notes(pg_engine, lib) == ["before", "during"], timeout=20)
    finally:
        proxy.close()


def test_a_database_outage_holds_messages_instead_of_dead_lettering_them(runner_factory, pg_engine, lib,
                                                                         fresh_amqp_url, caplog):
    url = pg_engine.url
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = sa.create_engine(url.set(host="127.0.0.1", port=proxy.port), pool_pre_ping=True)
    try:
        runner_factory(engine=proxied, max_retries=1, delay_ms=100)
        proxy.cut()
        send(fresh_amqp_url, "while-db-down")
        wait_for(lambda: any("database unavailable" in r.getMessage() for r in caplog.records), timeout=10,
                 message="the handler failing on the database")
        proxy.restore()
        wait_for(lambda: effect_notes(pg_engine, lib) == ["while-db-down"], timeout=20)
        assert queue_messages(fresh_amqp_url, "othersvc.dlq") == []
    finally:
        proxy.close()
        proxied.dispose()


def test_stop_ends_the_runner_and_closes_its_connection(runner_factory):
    runner = runner_factory()
    runner.stop()
    wait_for(lambda: not runner.connected.is_set(), timeout=5, message="runner stopped")
