"""The outbox relay against real PostgreSQL (or SQLite) and a real RabbitMQ."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from datetime import UTC

import pika
import pytest
import sqlalchemy as sa

from packyard import amqp
from packyard.events import CONTENT_TYPE, parse_envelope
from packyard.relay import PikaPublisher, Relay, RelayConfig
from packyard.testing import TcpProxy, wait_for


def bind_queue(url: str, name: str = "observer", key: str = "#") -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    amqp.declare_events_exchange(ch, "testsvc")
    ch.queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"})
    ch.queue_bind(name, "testsvc.events", key)
    conn.close()


def drain_queue(url: str, name: str = "observer") -> list[tuple]:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    got = []
    while True:
        method, props, body = ch.basic_get(name, auto_ack=True)
        if method is None:
            break
        got.append((props, body))
    conn.close()
    return got


def make_relay(engine, lib, url, **config) -> Relay:
    return Relay(engine, lib.outbox, lambda: PikaPublisher(url, "testsvc"), service="testsvc",
                 config=RelayConfig(**{"poll_interval": 0.2, "backoff_initial": 0.05, "backoff_max": 0.5, **config}))


def unsent(engine, lib) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(lib.outbox)
                            .where(lib.outbox.c.sent_at.is_(None))).scalar_one()


@pytest.mark.parametrize("db", ["pg_engine", "sqlite_engine"])
def test_relay_publishes_persistent_confirmed_messages_and_marks_them_sent(request, db, lib, fresh_amqp_url):
    engine = request.getfixturevalue(db)
    bind_queue(fresh_amqp_url)
    ids = lib.publish_things(engine, 3)
    relay = make_relay(engine, lib, fresh_amqp_url)
    assert relay.drain() == 3
    assert unsent(engine, lib) == 0
    messages = drain_queue(fresh_amqp_url)
    assert [props.message_id for props, _ in messages] == ids
    props, body = messages[0]
    assert props.type == "testsvc.thing.created"
    assert props.content_type == CONTENT_TYPE
    assert props.delivery_mode == 2
    assert props.headers["traceparent"].startswith("00-")
    event = parse_envelope(body)
    assert event.id == ids[0] and event.type == "testsvc.thing.created" and event.data == {"name": "thing-0", "size": 0}


def test_unroutable_events_are_marked_sent_not_retried_forever(pg_engine, lib, fresh_amqp_url):
    lib.publish_things(pg_engine, 2)  # no queue is bound to testsvc.events
    relay = make_relay(pg_engine, lib, fresh_amqp_url)
    assert relay.drain() == 2
    assert unsent(pg_engine, lib) == 0


def test_relay_wakes_on_commit_notification(pg_engine, lib, fresh_amqp_url):
    bind_queue(fresh_amqp_url)
    relay = make_relay(pg_engine, lib, fresh_amqp_url, poll_interval=30.0)  # polling alone would take 30 s
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        wait_for(relay.healthy.is_set, timeout=10)
        lib.publish_things(pg_engine, 1)
        got = wait_for(lambda: drain_queue(fresh_amqp_url), timeout=5, message="the event on the broker")
        assert len(got) == 1
    finally:
        relay.stop()
        thread.join(10)


def test_several_relays_on_one_postgres_never_publish_a_row_twice(pg_engine, lib, fresh_amqp_url):
    bind_queue(fresh_amqp_url)
    ids = lib.publish_things(pg_engine, 400)
    relays = [make_relay(pg_engine, lib, fresh_amqp_url, batch_size=20) for _ in range(3)]
    threads = [threading.Thread(target=r.drain, kwargs={"timeout": 60}) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert unsent(pg_engine, lib) == 0
    received = [props.message_id for props, _ in drain_queue(fresh_amqp_url)]
    assert sorted(received) == sorted(ids)  # each exactly once


def test_events_committed_while_the_broker_is_unreachable_are_delivered_when_it_returns(pg_engine, lib, fresh_amqp_url):
    bind_queue(fresh_amqp_url)
    parsed = pika.URLParameters(fresh_amqp_url)
    proxy = TcpProxy(parsed.host, parsed.port)
    proxied = fresh_amqp_url.replace(f"{parsed.host}:{parsed.port}", f"127.0.0.1:{proxy.port}")
    relay = make_relay(pg_engine, lib, proxied)
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        lib.publish_things(pg_engine, 5, prefix="before")
        wait_for(lambda: unsent(pg_engine, lib) == 0, timeout=10, message="first events sent")
        proxy.cut()
        ids = lib.publish_things(pg_engine, 20, prefix="during")
        wait_for(lambda: not relay.healthy.is_set(), timeout=10, message="relay noticing the outage")
        assert unsent(pg_engine, lib) == 20
        proxy.restore()
        wait_for(lambda: unsent(pg_engine, lib) == 0, timeout=20, message="backlog published")
    finally:
        relay.stop()
        thread.join(10)
        proxy.close()
    received = [props.message_id for props, _ in drain_queue(fresh_amqp_url)]
    assert set(ids) <= set(received)
    assert len(received) == len(set(received)) == 25


CRASHING_RELAY = textwrap.dedent("""
    import os, sys
    import sqlalchemy as sa
    from packyard.db import define_outbox_table, make_engine
    from packyard.relay import PikaPublisher, Relay

    class DiesAfterConfirm(PikaPublisher):
        def wait(self, result):
            super().wait(result)
            assert result.confirmed and result.error is None   # the broker has confirmed it...
            os._exit(137)                 # ...and the process dies before marking it sent

    db_url, amqp_url = sys.argv[1:]
    metadata = sa.MetaData()
    outbox = define_outbox_table(metadata)
    Relay(make_engine(db_url), outbox, lambda: DiesAfterConfirm(amqp_url, "testsvc"), service="testsvc").run_once()
""")


def test_a_relay_killed_between_publish_and_mark_sent_republishes_the_same_event_id(pg_engine, lib, fresh_amqp_url):
    bind_queue(fresh_amqp_url)
    [event_id] = lib.publish_things(pg_engine, 1)
    url = pg_engine.url.render_as_string(hide_password=False)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_RELAY, url, fresh_amqp_url], timeout=60)
    assert crashed.returncode == 137
    assert unsent(pg_engine, lib) == 1  # the mark never committed
    make_relay(pg_engine, lib, fresh_amqp_url).drain()
    received = [props.message_id for props, _ in drain_queue(fresh_amqp_url)]
    assert received == [event_id, event_id]  # at-least-once, same id: the consumers' inbox dedups


def test_relay_wakes_on_commit_without_notify_on_sqlite(sqlite_engine, lib, fresh_amqp_url):
    bind_queue(fresh_amqp_url)
    relay = make_relay(sqlite_engine, lib, fresh_amqp_url, poll_interval=30.0)  # polling alone would take 30 s
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        wait_for(relay.healthy.is_set, timeout=10)
        for round_ in range(3):
            [event_id] = lib.publish_things(sqlite_engine, 1, prefix=f"round{round_}")
            got = wait_for(lambda: drain_queue(fresh_amqp_url), timeout=5, message="the event on the broker")
            assert [props.message_id for props, _ in got] == [event_id]
    finally:
        relay.stop()
        thread.join(40)


def limited_queue(url: str, name: str = "limited", max_length: int = 5) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    amqp.declare_events_exchange(ch, "testsvc")
    ch.queue_declare(name, durable=True, arguments={"x-max-length": max_length, "x-overflow": "reject-publish"})
    ch.queue_bind(name, "testsvc.events", "#")
    conn.close()


def sent_ids(engine, lib) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(lib.outbox.c.event_id).where(lib.outbox.c.sent_at.is_not(None))).scalars())


@pytest.mark.parametrize("batch_size", [500, 4], ids=["one-batch", "pipelined-batches"])
def test_nacked_messages_in_a_window_stay_unsent_and_go_out_again_with_the_same_id(pg_engine, lib, fresh_amqp_url,
                                                                                  batch_size):
    from packyard.relay import Nacked

    limited_queue(fresh_amqp_url, max_length=5)  # the broker nacks every publish beyond 5 waiting messages
    ids = lib.publish_things(pg_engine, 20)
    relay = make_relay(pg_engine, lib, fresh_amqp_url, batch_size=batch_size)
    received: list[str] = []
    for _ in range(4):
        with pytest.raises(Nacked) if len(received) < 15 else _no_error():
            relay.run_once()
        in_queue = [props.message_id for props, _ in drain_queue(fresh_amqp_url, "limited")]
        assert len(in_queue) == 5
        received += in_queue
        assert sent_ids(pg_engine, lib) == set(received)  # marked sent exactly when the broker took it
    assert received == ids  # every event once, with its own id, in order
    with pg_engine.connect() as conn:
        attempts = dict(conn.execute(sa.select(lib.outbox.c.event_id, lib.outbox.c.attempts)).all())
    assert attempts[ids[0]] == 0 and max(attempts.values()) >= 1
    if batch_size == 500:
        assert attempts[ids[-1]] == 3  # nacked in each of the first three rounds


class _no_error:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_connection_lost_within_a_window_marks_only_confirmed_rows_and_resends_the_rest(pg_engine, lib,
                                                                                          fresh_amqp_url):
    bind_queue(fresh_amqp_url)
    ids = lib.publish_things(pg_engine, 600)
    parsed = pika.URLParameters(fresh_amqp_url)
    proxy = TcpProxy(parsed.host, parsed.port)
    proxied = fresh_amqp_url.replace(f"{parsed.host}:{parsed.port}", f"127.0.0.1:{proxy.port}")

    class CutMidWindow(PikaPublisher):
        published = 0

        def _header(self, channel, body_size, message):
            CutMidWindow.published += 1
            if CutMidWindow.published == 400:  # the first 256 are on the wire, the next ones being written
                wait_for(lambda: self._connection.process_data_events(time_limit=0.05) or len(self._pending) <= 344,
                         timeout=10, message="the confirms of the first messages")
                proxy.cut()  # the broker goes away with the rest of the window unconfirmed
            return super()._header(channel, body_size, message)

    relay = Relay(pg_engine, lib.outbox, lambda: CutMidWindow(proxied, "testsvc", window=1000), service="testsvc",
                  config=RelayConfig(batch_size=600))
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the cut connection raises
            relay.run_once()
    finally:
        proxy.close()
    first_round = sent_ids(pg_engine, lib)
    on_broker = [props.message_id for props, _ in drain_queue(fresh_amqp_url)]
    assert 0 < len(first_round) < 600
    assert first_round <= set(on_broker)  # no row marked sent without its own confirm
    assert unsent(pg_engine, lib) == 600 - len(first_round)
    make_relay(pg_engine, lib, fresh_amqp_url).drain()
    on_broker += [props.message_id for props, _ in drain_queue(fresh_amqp_url)]
    assert set(on_broker) == set(ids) and unsent(pg_engine, lib) == 0
    assert not first_round & set(on_broker[len(on_broker) - (600 - len(first_round)):])  # confirmed ones not re-sent


def test_the_relays_own_header_frames_are_the_ones_pika_would_write():
    from datetime import datetime

    import pika.frame

    from packyard.relay import OutboxMessage, _header_frame, _short

    publisher = PikaPublisher("amqp://guest:guest@127.0.0.1:1/", "catalog")
    created = datetime(2026, 12, 1, 23, 59, 58, 123000, tzinfo=UTC)
    for traceparent in (None, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"):
        message = OutboxMessage(7, "0b7e2f1c-5d1c-4f44-9d53-1f1f4b0b9a77", "catalog.version.released",
                                '{"x": 1}', created, traceparent)
        expected = pika.frame.Header(3, 8, publisher._properties(message)).marshal()
        assert _header_frame(3, 8, _short(CONTENT_TYPE), message, _short("catalog")) == expected


def test_on_postgres_the_relay_also_answers_its_doorbell(pg_engine, lib, fresh_amqp_url):
    """A row committed without NOTIFY (here: a plain insert) is published as soon as the bell rings."""
    from packyard import listen

    bind_queue(fresh_amqp_url)
    relay = make_relay(pg_engine, lib, fresh_amqp_url, poll_interval=30.0)
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        wait_for(relay.healthy.is_set, timeout=10)
        with pg_engine.begin() as conn:
            conn.execute(lib.outbox.insert().values(
                event_id="11111111-1111-4111-8111-111111111111", type="testsvc.thing.created",
                body='{"specversion": "1.0", "id": "11111111-1111-4111-8111-111111111111", "type": '
                     '"testsvc.thing.created", "source": "/testsvc", "data": {}}',
                created_at=sa.func.now()))
        assert listen.ring(pg_engine.url, lib.outbox.name)
        got = wait_for(lambda: drain_queue(fresh_amqp_url), timeout=5, message="the event on the broker")
        assert [props.message_id for props, _ in got] == ["11111111-1111-4111-8111-111111111111"]
    finally:
        relay.stop()
        thread.join(40)
