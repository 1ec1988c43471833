#!/usr/bin/env python3
"""Outbox relay benchmark: commit-to-broker latency at rest, and events per second under backlog.

    .venv/bin/python bench/relay_throughput.py [--events 20000] [--latency-samples 500]

Uses the real PostgreSQL and RabbitMQ of PACKYARD_TEST_POSTGRES_URL / PACKYARD_TEST_AMQP_URL
(defaults: the local servers), in a database, a SQLite file and a vhost of its own that are
removed at the end (a local broker's vhost is made with rabbitmqctl, a remote one's with the
management API of PACKYARD_TEST_RABBITMQ_API).

* latency, on SQLite and on PostgreSQL: a relay runs (woken by the outbox doorbell on SQLite, by
  LISTEN/NOTIFY on PostgreSQL; its polling interval is 1 s); events are committed one at a time
  with a pause between them; a consumer records when each arrives. Reported: commit → delivered
  to a consumer (p50, p95, p99, max), which bounds commit → confirmed by the broker from above.
* throughput, on PostgreSQL: N events are committed first, then one relay (and then two relays,
  SKIP LOCKED) drains the backlog; reported in events per second, every message confirmed by the
  broker before its row is marked sent.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
import urllib.parse
import uuid

import marshmallow as ma
import pika
import sqlalchemy as sa

from packyard.db import UnitOfWork, define_outbox_table, make_engine, make_session_factory
from packyard.events import EventType
from packyard.relay import PikaPublisher, Relay, RelayConfig
from packyard.testing.plugin import RabbitMQ, _local_broker_node

PG = os.environ.get("PACKYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP = os.environ.get("PACKYARD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
API = os.environ.get("PACKYARD_TEST_RABBITMQ_API", "http://guest:guest@127.0.0.1:15672")


class Data(ma.Schema):
    n = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


BENCH_EVENT = EventType("bench.thing.happened", Data)


def broker() -> RabbitMQ:
    parsed = urllib.parse.urlparse(AMQP)
    local, node = _local_broker_node(parsed.hostname)
    return RabbitMQ(f"{parsed.scheme}://{parsed.netloc}/", None if local else API, node=node)


def bind_queue(url: str) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.exchange_declare("bench.events", "topic", durable=True)
    ch.queue_declare("bench.observer", durable=True, arguments={"x-queue-type": "quorum"})
    ch.queue_bind("bench.observer", "bench.events", "#")
    conn.close()


def purge(url: str) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    conn.channel().queue_purge("bench.observer")
    conn.close()


def measure_latency(engine, outbox, url: str, samples: int) -> dict:
    committed: dict[str, float] = {}
    arrived: dict[str, float] = {}
    done = threading.Event()

    def consume() -> None:
        conn = pika.BlockingConnection(pika.URLParameters(url))
        ch = conn.channel()
        for method, props, _body in ch.consume("bench.observer", auto_ack=True, inactivity_timeout=0.5):
            if method is not None:
                arrived.setdefault(props.message_id, time.perf_counter())
            elif done.is_set() and set(committed) <= set(arrived):
                break
        conn.close()

    purge(url)
    relay = Relay(engine, outbox, lambda: PikaPublisher(url, "bench"), service="bench",
                  config=RelayConfig(poll_interval=1.0))
    relay_thread = threading.Thread(target=relay.run, daemon=True)
    relay_thread.start()
    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    sessions = make_session_factory(engine)
    relay.healthy.wait(10)  # relay connected and listening
    for i in range(samples):
        with UnitOfWork(sessions, source="bench", outbox=outbox) as uow:
            event = uow.publish(BENCH_EVENT, {"n": i, "name": f"thing-{i}"})
            uow.commit()
            committed[event.id] = time.perf_counter()
        time.sleep(0.02)  # at rest: one event at a time
    done.set()
    consumer.join(60)
    relay.stop()
    relay_thread.join(10)
    # An event can reach the consumer before the committing thread reads the clock: count 0.
    latencies = [max(0.0, arrived[i] - t) for i, t in committed.items() if i in arrived]
    assert len(latencies) == len(committed), f"{len(committed) - len(latencies)} events never arrived"
    ms = sorted(x * 1000 for x in latencies)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, max(0, int(round(len(ms) * p)) - 1))], 2)

    return {"database": engine.dialect.name, "samples": len(ms), "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": round(ms[-1], 2)}


def fill(engine, outbox, n: int) -> None:
    now = sa.func.now()
    rows = []
    for i in range(n):
        event_id = str(uuid.uuid4())
        body = json.dumps({"specversion": "1.0", "id": event_id, "source": "/bench", "type": BENCH_EVENT.type,
                           "datacontenttype": "application/json", "data": {"n": i, "name": f"thing-{i}"}})
        rows.append({"event_id": event_id, "type": BENCH_EVENT.type, "subject": None, "body": body})
    with engine.begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(outbox.insert().values(created_at=now), rows[start:start + 5000])


def load_baseline(rev: str):
    """The relay module of git revision ``rev``, to compare with under the same conditions."""
    import importlib.util
    import subprocess

    source = subprocess.run(["git", "show", f"{rev}:shared/packyard/relay.py"], capture_output=True, text=True,
                            check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))).stdout
    path = os.path.join(tempfile.mkdtemp(prefix="packyard-baseline-"), "baseline_relay.py")
    with open(path, "w") as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("baseline_relay", path)
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.modules["baseline_relay"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def measure_throughput(engine, outbox, url: str, n: int, relays: int, module=None) -> dict:
    purge(url)
    fill(engine, outbox, n)
    relay_cls, publisher_cls, config_cls = (module.Relay, module.PikaPublisher, module.RelayConfig) if module else \
        (Relay, PikaPublisher, RelayConfig)
    workers = [relay_cls(engine, outbox, lambda: publisher_cls(url, "bench"), service="bench",
                         config=config_cls(batch_size=500)) for _ in range(relays)]
    started = time.perf_counter()
    threads = [threading.Thread(target=r.drain, kwargs={"timeout": 600}) for r in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        left = conn.execute(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar()
    assert left == 0, f"{left} rows left unsent"
    return {"events": n, "relays": relays, "seconds": round(elapsed, 2), "events_per_second": round(n / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--latency-samples", type=int, default=500)
    parser.add_argument("--baseline", metavar="GIT_REV",
                        help="also drain the backlog with the relay of this revision, alternating with this one")
    args = parser.parse_args()

    tag = f"bench_{int(time.time())}_{uuid.uuid4().hex[:4]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{tag}"'))
    rabbit = broker()
    vhost = f"pk-{tag}"
    url = rabbit.create_vhost(vhost)
    sqlite_dir = tempfile.mkdtemp(prefix="packyard-bench-")
    engine = make_engine(sa.make_url(PG).set(database=tag).render_as_string(hide_password=False))
    sqlite = make_engine(f"sqlite:///{sqlite_dir}/bench.db")
    metadata = sa.MetaData()
    outbox = define_outbox_table(metadata)
    metadata.create_all(engine)
    metadata.create_all(sqlite)
    try:
        bind_queue(url)
        results = {
            "latency_commit_to_consumer_sqlite": measure_latency(sqlite, outbox, url, args.latency_samples),
            "latency_commit_to_consumer_postgresql": measure_latency(engine, outbox, url, args.latency_samples),
            "throughput_one_relay": measure_throughput(engine, outbox, url, args.events, 1),
            "throughput_two_relays": measure_throughput(engine, outbox, url, args.events, 2),
        }
        if args.baseline:
            baseline = load_baseline(args.baseline)
            runs = []
            for _ in range(2):
                runs.append({"baseline": measure_throughput(engine, outbox, url, args.events, 1, baseline),
                             "this": measure_throughput(engine, outbox, url, args.events, 1)})
            results[f"throughput_one_relay_vs_{args.baseline}"] = runs
        print(json.dumps(results, indent=2))
    finally:
        engine.dispose()
        sqlite.dispose()
        shutil.rmtree(sqlite_dir, ignore_errors=True)
        rabbit.delete_vhost(vhost)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{tag}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
