"""The outbox relay: publishes committed events from a service's outbox to RabbitMQ.

Guarantees (DESIGN §3, "delivery guarantees"):

* **never loses a committed event** — a row is marked sent only after the broker
  confirmed the message (publisher confirms). If the relay dies between the confirm and
  the mark, the row is published again on restart with the same CloudEvent id, which
  the consumers' inboxes turn into a no-op: delivery is at-least-once, effects are once;
* messages are persistent (``delivery_mode=2``) and published with ``mandatory``; a
  message the broker returns as unroutable (no queue bound for that type) is counted and
  logged, then marked sent — nobody subscribes to it, so holding it would block nothing
  but the backlog metric;
* **several relays on one PostgreSQL database** never publish the same row concurrently:
  each batch is claimed with ``SELECT … FOR UPDATE SKIP LOCKED``. On SQLite run one relay;
* while the broker (or the database) is away the relay backs off exponentially with
  jitter, then resumes where it stopped;
* latency: on PostgreSQL the relay ``LISTEN``\\ s on :data:`packyard.db.OUTBOX_CHANNEL`,
  which every committing unit of work notifies, so an event is published milliseconds
  after its commit; ``poll_interval`` is the fallback (and the only mechanism on SQLite).

Rows sent more than ``retention`` ago are deleted periodically.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import pika
import pika.exceptions
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from packyard import amqp, metrics
from packyard.db import OUTBOX_CHANNEL, ChannelListener, is_postgres, utcnow
from packyard.events import CONTENT_TYPE

__all__ = ["Relay", "RelayConfig", "Publisher", "PikaPublisher", "OutboxMessage", "Unroutable"]

log = logging.getLogger(__name__)


class Unroutable(Exception):
    """The broker returned a mandatory message: no queue is bound for its routing key."""


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    event_id: str
    type: str
    body: str
    created_at: datetime
    traceparent: str | None = None


class Publisher(Protocol):
    """Publishes one message and returns only once the broker confirmed it.

    Raises :class:`Unroutable` when the message was returned, any other exception when it
    may not have been stored (the relay will retry it).
    """

    def publish(self, message: OutboxMessage) -> None: ...

    def close(self) -> None: ...


class PikaPublisher:
    """A :class:`Publisher` on one pika ``BlockingConnection`` with confirms enabled."""

    def __init__(self, amqp_url: str, service: str) -> None:
        self._params = amqp.connection_parameters(amqp_url, client_name=f"{service}-relay")
        self._service = service
        self._exchange = amqp.events_exchange(service)
        self._connection: pika.BlockingConnection | None = None
        self._channel: Any = None

    def _ensure(self) -> Any:
        if self._channel is None or not self._channel.is_open:
            self.close()
            self._connection = pika.BlockingConnection(self._params)
            self._channel = self._connection.channel()
            self._channel.confirm_delivery()
            amqp.declare_events_exchange(self._channel, self._service)
        return self._channel

    def publish(self, message: OutboxMessage) -> None:
        channel = self._ensure()
        headers = {"traceparent": message.traceparent} if message.traceparent else None
        properties = pika.BasicProperties(
            content_type=CONTENT_TYPE,
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message.event_id,
            type=message.type,
            app_id=self._service,
            timestamp=int(message.created_at.timestamp()),
            headers=headers,
        )
        try:
            channel.basic_publish(
                exchange=self._exchange,
                routing_key=message.type,
                body=message.body.encode(),
                properties=properties,
                mandatory=True,
            )
        except pika.exceptions.UnroutableError:
            raise Unroutable(message.type) from None

    def close(self) -> None:
        conn, self._connection, self._channel = self._connection, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass


@dataclass(frozen=True)
class RelayConfig:
    batch_size: int = 200
    poll_interval: float = 1.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    retention: timedelta = timedelta(days=7)
    housekeeping_interval: float = 300.0
    gauge_interval: float = 5.0


class Relay:
    """Publishes a service's outbox. Call :meth:`run` in a process or thread; :meth:`stop` ends it."""

    def __init__(
        self,
        engine: Engine,
        outbox: sa.Table,
        publisher_factory: Callable[[], Publisher],
        *,
        service: str,
        config: RelayConfig | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._publisher_factory = publisher_factory
        self._publisher: Publisher | None = None
        self._service = service
        self._config = config or RelayConfig()
        self._clock = clock
        self._stopping = threading.Event()
        self._listener: ChannelListener | None = None
        self.healthy = threading.Event()
        self._last_housekeeping = 0.0
        self._last_gauges = 0.0

    # -- control ----------------------------------------------------------------------------
    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        """Publish until :meth:`stop`; survives broker and database outages."""
        backoff = self._config.backoff_initial
        log.info("relay started", extra={"service": self._service})
        try:
            while not self._stopping.is_set():
                try:
                    published = self.run_once()
                    self._maybe_housekeep()
                    self.healthy.set()
                    backoff = self._config.backoff_initial
                    if published < self._config.batch_size:
                        self._wait_for_work()
                except Exception as exc:  # noqa: BLE001 - the loop must outlive any outage
                    self.healthy.clear()
                    self._drop_publisher()
                    self._drop_listener()
                    delay = min(backoff, self._config.backoff_max) * (0.5 + random.random() / 2)
                    log.warning("relay paused: %s; retrying in %.1fs", exc, delay,
                                extra={"service": self._service})
                    metrics.RELAY_ERRORS.labels(self._service).inc()
                    self._stopping.wait(delay)
                    backoff = min(backoff * 2, self._config.backoff_max)
        finally:
            self._drop_publisher()
            self._drop_listener()
            log.info("relay stopped", extra={"service": self._service})

    # -- one batch --------------------------------------------------------------------------
    def run_once(self) -> int:
        """Claim, publish and mark one batch. Returns the number of rows handled."""
        table = self._outbox
        query = (
            sa.select(table.c.id, table.c.event_id, table.c.type, table.c.body, table.c.created_at)
            .where(table.c.sent_at.is_(None))
            .order_by(table.c.id)
            .limit(self._config.batch_size)
        )
        if is_postgres(self._engine):
            query = query.with_for_update(skip_locked=True)
        done: list[int] = []
        with self._engine.begin() as conn:
            rows = conn.execute(query).all()
            if not rows:
                self._update_gauges(conn, force=False)
                return 0
            publisher = self._ensure_publisher()
            failure: Exception | None = None
            for row in rows:
                message = OutboxMessage(row.id, row.event_id, row.type, row.body, _aware(row.created_at),
                                        _traceparent_of(row.body))
                try:
                    publisher.publish(message)
                except Unroutable:
                    log.warning("event %s (%s) is routed to no queue", row.event_id, row.type,
                                extra={"event_id": row.event_id, "service": self._service})
                    metrics.EVENTS_UNROUTABLE.labels(self._service, row.type).inc()
                except Exception as exc:  # noqa: BLE001 - keep what was confirmed, retry the rest
                    failure = exc
                    conn.execute(
                        table.update().where(table.c.id == row.id)
                        .values(attempts=table.c.attempts + 1, last_error=str(exc)[:2000])
                    )
                    break
                done.append(row.id)
                metrics.EVENTS_PUBLISHED.labels(self._service, row.type).inc()
                metrics.PUBLISH_LATENCY.labels(self._service).observe(
                    max(0.0, (self._clock() - _aware(row.created_at)).total_seconds()))
            if done:
                conn.execute(table.update().where(table.c.id.in_(done)).values(sent_at=self._clock()))
            self._update_gauges(conn, force=False)
        if failure is not None:
            raise failure
        return len(done)

    def drain(self, timeout: float = 10.0) -> int:
        """Publish until the outbox is empty (for commands and tests). Returns rows published."""
        deadline = time.monotonic() + timeout
        total = 0
        while time.monotonic() < deadline:
            n = self.run_once()
            total += n
            if n == 0:
                return total
        raise TimeoutError("outbox not drained in time")

    # -- helpers ----------------------------------------------------------------------------
    def _ensure_publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = self._publisher_factory()
        return self._publisher

    def _drop_publisher(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            try:
                publisher.close()
            except Exception:  # noqa: BLE001
                pass

    def _drop_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def _wait_for_work(self) -> None:
        if is_postgres(self._engine):
            if self._listener is None:
                self._listener = ChannelListener(self._engine, OUTBOX_CHANNEL)
            self._listener.wait(self._config.poll_interval, self._stopping)
        else:
            self._stopping.wait(self._config.poll_interval)

    def _update_gauges(self, conn: sa.Connection, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_gauges < self._config.gauge_interval:
            return
        self._last_gauges = now
        table = self._outbox
        count, oldest = conn.execute(
            sa.select(sa.func.count(), sa.func.min(table.c.created_at)).where(table.c.sent_at.is_(None))
        ).one()
        metrics.OUTBOX_BACKLOG.labels(self._service).set(count)
        age = (self._clock() - _aware(oldest)).total_seconds() if oldest is not None else 0.0
        metrics.OUTBOX_OLDEST_AGE.labels(self._service).set(max(0.0, age))

    def _maybe_housekeep(self) -> None:
        now = time.monotonic()
        if now - self._last_housekeeping < self._config.housekeeping_interval:
            return
        self._last_housekeeping = now
        cutoff = self._clock() - self._config.retention
        with self._engine.begin() as conn:
            deleted = conn.execute(self._outbox.delete().where(self._outbox.c.sent_at < cutoff)).rowcount
        if deleted:
            log.info("deleted %d sent outbox rows older than %s", deleted, self._config.retention)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _traceparent_of(body: str) -> str | None:
    try:
        value = json.loads(body).get("traceparent")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
