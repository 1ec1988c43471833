"""The bus as a trust boundary: one broker user per service, and consumers that check `source`.

Real RabbitMQ users with the permissions of :func:`packyard.amqp.broker_permissions`, on a vhost
of the test's own.
"""

from __future__ import annotations

import secrets
import threading

import marshmallow as ma
import pika
import pika.exceptions
import pytest
import sqlalchemy as sa

from packyard import amqp
from packyard.consumer import ERROR_HEADER, RETRIES_HEADER, ConsumerQueue, ConsumerRunner, Handler
from packyard.events import CONTENT_TYPE, CloudEvent
from packyard.relay import PikaPublisher, Relay, RelayConfig
from packyard.testing import wait_for


class ThingData(ma.Schema):
    name = ma.fields.String(required=True)


def queue_messages(url, queue):
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    out = []
    while True:
        method, props, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        out.append((props, body))
    connection.close()
    return out


@pytest.fixture
def broker_users(rabbitmq, fresh_amqp_url, packyard_run_id):
    """``user(service)`` → an AMQP URL on this test's vhost as that service's own broker user."""
    vhost = pika.URLParameters(fresh_amqp_url).virtual_host
    made: list[str] = []

    def user(service: str) -> str:
        name = f"pk-{packyard_run_id}-{secrets.token_hex(3)}-{service}"
        password = secrets.token_urlsafe(16)
        rabbitmq.create_user(name, password)
        made.append(name)
        rabbitmq.set_permissions(vhost, name, *amqp.broker_permissions(service))
        return rabbitmq.url(vhost, user=name, password=password)

    yield user
    for name in made:
        rabbitmq.delete_user(name)


def publish(url: str, exchange: str, event: CloudEvent, mandatory: bool = True) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, event.type, event.to_json().encode(), pika.BasicProperties(
            content_type=CONTENT_TYPE, message_id=event.id, type=event.type, delivery_mode=2), mandatory=mandatory)
    finally:
        if connection.is_open:
            connection.close()


def declare_events_exchange(url: str, service: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    amqp.declare_events_exchange(connection.channel(), service)
    connection.close()


def test_one_services_credentials_cannot_publish_on_another_services_exchange(broker_users, fresh_amqp_url):
    identity, catalog = broker_users("identity"), broker_users("catalog")
    declare_events_exchange(identity, "identity")
    declare_events_exchange(catalog, "catalog")
    observer = pika.BlockingConnection(pika.URLParameters(fresh_amqp_url))
    channel = observer.channel()
    channel.queue_declare("observer", durable=True)
    channel.queue_bind("observer", "identity.events", "#")
    observer.close()

    forged = CloudEvent(type="identity.user.deleted", source="/identity", data={"username": "alice"})
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
        publish(catalog, "identity.events", forged)
    assert refused.value.reply_code == 403
    for exchange in ("", "amq.topic", "identity.retry", "identity.dlx"):  # no way around it either
        with pytest.raises(pika.exceptions.ChannelClosedByBroker):
            publish(catalog, exchange, forged)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):  # nor can it read another's queue
        connection = pika.BlockingConnection(pika.URLParameters(catalog))
        connection.channel().basic_get("observer")
    assert queue_messages(fresh_amqp_url, "observer") == []

    publish(identity, "identity.events", forged)  # identity's own credentials may
    publish(catalog, "catalog.events", CloudEvent(type="catalog.repo.created", source="/catalog", data={}),
            mandatory=False)
    assert [props.message_id for props, _ in queue_messages(fresh_amqp_url, "observer")] == [forged.id]


attempts: list[str] = []
effects_table = None


def flaky(uow, event, data):
    attempts.append(data["name"])
    if data["name"].startswith("flaky") and attempts.count(data["name"]) < 2:
        raise RuntimeError("not yet")
    if data["name"].startswith("poison"):
        raise RuntimeError("never")
    uow.session.execute(effects_table.insert().values(event_id=event.id, note=data["name"]))


QUEUE = ConsumerQueue("othersvc.things", (Handler("testsvc.thing.created", flaky, ThingData),))


def effect_notes(engine, lib):
    with engine.connect() as conn:
        return [r.note for r in conn.execute(sa.select(lib.effects).order_by(lib.effects.c.id))]


def test_a_service_declares_consumes_retries_and_dead_letters_as_its_own_broker_user(
        broker_users, pg_engine, lib, fresh_amqp_url):
    global effects_table
    effects_table = lib.effects
    attempts.clear()
    producer, consumer = broker_users("testsvc"), broker_users("othersvc")
    declare_events_exchange(producer, "testsvc")  # the producer's migrate
    runner = ConsumerRunner(service="othersvc", amqp_url=consumer, queues=[QUEUE],
                            uow_factory=lib.uow_factory(pg_engine), inbox=lib.inbox,
                            retry=amqp.RetryPolicy(max_retries=2, delay_ms=100))
    runner.declare()  # the consumer's migrate, with its own credentials
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        wait_for(runner.connected.is_set, timeout=15, message="consumer connected with its own user")
        # the producer's relay publishes with the producer's credentials
        ids = lib.publish_things(pg_engine, 1, prefix="flaky")
        lib.publish_things(pg_engine, 1, prefix="poison")
        relay = Relay(pg_engine, lib.outbox, lambda: PikaPublisher(producer, "testsvc"), service="testsvc",
                      config=RelayConfig())
        assert relay.drain() == 2
        wait_for(lambda: effect_notes(pg_engine, lib) == ["flaky-0"], timeout=15, message="handled after a retry")
        assert attempts.count("flaky-0") == 2
        [(props, _)] = wait_for(lambda: queue_messages(fresh_amqp_url, "othersvc.dlq"), timeout=15,
                                message="the poison message parked")
        assert props.headers[RETRIES_HEADER] == 2 and attempts.count("poison-0") == 3
        assert ids
    finally:
        runner.stop()
        thread.join(20)


def test_an_event_whose_source_is_not_the_exchanges_owner_is_dead_lettered_not_handled(
        broker_users, pg_engine, lib, fresh_amqp_url):
    global effects_table
    effects_table = lib.effects
    attempts.clear()
    producer, consumer = broker_users("testsvc"), broker_users("othersvc")
    declare_events_exchange(producer, "testsvc")
    runner = ConsumerRunner(service="othersvc", amqp_url=consumer, queues=[QUEUE],
                            uow_factory=lib.uow_factory(pg_engine), inbox=lib.inbox,
                            retry=amqp.RetryPolicy(max_retries=2, delay_ms=100))
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        wait_for(runner.connected.is_set, timeout=15, message="consumer connected")
        impostor = CloudEvent(type="testsvc.thing.created", source="/identity", data={"name": "impostor"})
        publish(producer, "testsvc.events", impostor)
        genuine = CloudEvent(type="testsvc.thing.created", source="/testsvc", data={"name": "genuine"})
        publish(producer, "testsvc.events", genuine)
        wait_for(lambda: effect_notes(pg_engine, lib) == ["genuine"], timeout=15)
        [(props, _)] = wait_for(lambda: queue_messages(fresh_amqp_url, "othersvc.dlq"), timeout=15,
                                message="the impostor parked")
        assert props.message_id == impostor.id
        assert "/identity" in props.headers[ERROR_HEADER] and "testsvc.events" in props.headers[ERROR_HEADER]
        assert RETRIES_HEADER not in props.headers  # refused at once, never retried
        assert "impostor" not in attempts  # never handled
    finally:
        runner.stop()
        thread.join(20)


def test_a_retried_event_is_checked_against_the_exchange_it_first_came_on(pg_engine, lib):
    runner = ConsumerRunner(service="othersvc", amqp_url="amqp://unused/", queues=[QUEUE],
                            uow_factory=lib.uow_factory(pg_engine), inbox=lib.inbox)
    from packyard.consumer import EXCHANGE_HEADER, SourceMismatch, _origin_exchange

    class Method:
        exchange = "othersvc.retry"

    assert _origin_exchange(Method, {EXCHANGE_HEADER: "testsvc.events"}) == "testsvc.events"
    assert _origin_exchange(Method, {}) is None
    event = CloudEvent(type="testsvc.thing.created", source="/catalog", data={"name": "x"})
    with pytest.raises(SourceMismatch):
        runner.process("othersvc.things", event.to_json().encode(), exchange="testsvc.events")
