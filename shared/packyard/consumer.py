"""The consumer runner: idempotent, retrying, dead-lettering event handlers.

A service lists what it listens to as :class:`ConsumerQueue` objects (in its
``consumers.py``); each maps event types to a :class:`Handler` — a plain function
``handler(uow, event, data)`` plus the service's own tolerant marshmallow schema for the
event's ``data`` (unknown fields excluded). The :class:`ConsumerRunner` does the rest.

Guarantees (DESIGN §3):

* **idempotent effects** — before calling a handler the runner inserts
  ``(queue, event id)`` into the service's inbox table in the same transaction as the
  handler's effects; a redelivered event finds its row and is acknowledged with no
  second effect. On PostgreSQL a concurrent duplicate waits on that row and then sees it;
* **ack after commit** — a message is acknowledged only after the transaction holding
  its effects (and any events it publishes, via the outbox) has committed;
* **bounded, delayed retries** — a handler that raises is retried ``max_retries`` times,
  each after ``delay_ms`` (the message waits in ``<queue>.delay``, reached through the
  service's own ``<service>.retry`` exchange); then it is parked in
  ``<service>.dlq`` with the error, and the messages behind it keep flowing. A message
  that kills the worker before its ack is redelivered by RabbitMQ at most
  ``delivery_limit`` times, then dead-lettered too;
* **the source is checked** — an event whose CloudEvents ``source`` is not the service
  that owns the exchange it arrived on (``/catalog`` on ``catalog.events``) is refused:
  parked in the dead-letter queue at once, never handled and never retried. Together with
  one broker user per service this keeps a service from speaking for another;
* **database outages are not the message's fault** — when the database cannot be
  reached the runner holds the message, backs off and tries again, without spending a
  retry, so an outage does not fill the dead-letter queue;
* **reconnects** after the broker comes back (exponential back-off with jitter), and
  **stops gracefully** on :meth:`ConsumerRunner.stop` (SIGTERM): it cancels its consumers,
  finishes the messages already received, and closes.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import marshmallow
import pika
import pika.exceptions
import sqlalchemy as sa
import sqlalchemy.exc

from packyard import amqp, context, metrics
from packyard.db import UnitOfWork, utcnow
from packyard.events import CloudEvent, parse_envelope

__all__ = ["Handler", "ConsumerQueue", "ConsumerRunner", "Outcome", "RETRIES_HEADER", "SourceMismatch"]

log = logging.getLogger(__name__)

RETRIES_HEADER = "x-packyard-retries"
ERROR_HEADER = "x-packyard-error"
EXCHANGE_HEADER = "x-packyard-exchange"  # the events exchange a retried message first arrived on


class SourceMismatch(Exception):
    """An event's ``source`` is not the service whose exchange it arrived on."""

HandlerFunc = Callable[[UnitOfWork, CloudEvent, dict[str, Any]], None]


class Outcome:
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    RETRIED = "retried"
    DEAD_LETTERED = "dead_lettered"
    REFUSED = "refused"


@dataclass(frozen=True)
class Handler:
    """``func(uow, event, data)`` for one event type; ``data`` loaded with ``schema``.

    The handler does its effects through ``uow`` and never commits: the runner commits
    the effects together with the inbox row, then acknowledges the message.
    """

    event_type: str
    func: HandlerFunc
    schema: type[marshmallow.Schema] | None = None

    def load(self, event: CloudEvent) -> dict[str, Any]:
        if self.schema is None:
            return dict(event.data)
        return self.schema(unknown=marshmallow.EXCLUDE).load(event.data)


@dataclass(frozen=True)
class ConsumerQueue:
    """A durable queue ``<service>.<purpose>`` and its handlers, one per event type."""

    name: str
    handlers: tuple[Handler, ...]
    extra_bindings: tuple[amqp.Binding, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        types = [h.event_type for h in self.handlers]
        if len(types) != len(set(types)):
            raise ValueError(f"queue {self.name} has two handlers for one event type")

    @property
    def spec(self) -> amqp.QueueSpec:
        bindings = [amqp.Binding(amqp.events_exchange(h.event_type.split(".", 1)[0]), h.event_type)
                    for h in self.handlers]
        return amqp.QueueSpec(self.name, tuple(bindings) + self.extra_bindings)

    def handler_for(self, event_type: str) -> Handler | None:
        for handler in self.handlers:
            if handler.event_type == event_type:
                return handler
        return None


def _origin_exchange(method: Any, headers: dict[str, Any]) -> str | None:
    """The events exchange a delivery came from: its own, or the one a retried message first came on.

    ``None`` when neither is an events exchange (a message put on the queue by an
    administrator through the default exchange, which no service's broker user may write).
    """
    exchange = getattr(method, "exchange", None) or ""
    if amqp.service_of_exchange(exchange) is not None:
        return exchange
    recorded = headers.get(EXCHANGE_HEADER)
    if isinstance(recorded, bytes):
        recorded = recorded.decode(errors="replace")
    if isinstance(recorded, str) and amqp.service_of_exchange(recorded) is not None:
        return recorded
    return None


_TRANSIENT_DB_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                        sqlalchemy.exc.DisconnectionError, sqlalchemy.exc.TimeoutError)


class ConsumerRunner:
    """Runs a service's consumer queues on one connection. :meth:`run` blocks until :meth:`stop`."""

    def __init__(
        self,
        *,
        service: str,
        amqp_url: str,
        queues: Iterable[ConsumerQueue],
        uow_factory: Callable[[], UnitOfWork],
        inbox: sa.Table,
        retry: amqp.RetryPolicy | None = None,
        prefetch: int = 20,
        inbox_retention: timedelta = timedelta(days=30),
    ) -> None:
        self.service = service
        self._params = amqp.connection_parameters(amqp_url, client_name=f"{service}-worker", heartbeat=60)
        self.queues = tuple(queues)
        self._by_name = {q.name: q for q in self.queues}
        self._uow_factory = uow_factory
        self._inbox = inbox
        self.retry = retry or amqp.RetryPolicy()
        self._prefetch = prefetch
        self._inbox_retention = inbox_retention
        self._stopping = threading.Event()
        self._connection: pika.BlockingConnection | None = None
        self._channel: Any = None
        self._publish_channel: Any = None
        self._buffer: collections.deque[tuple[str, Any, Any, bytes]] = collections.deque()
        self._consumer_tags: list[str] = []
        self.connected = threading.Event()
        self._last_housekeeping = 0.0

    # -- control ----------------------------------------------------------------------------
    def stop(self) -> None:
        self._stopping.set()

    def declare(self) -> None:
        """Declare this service's queues, retry queues, dead-letter queue and bindings."""
        connection = pika.BlockingConnection(self._params)
        try:
            amqp.declare_consumer_topology(connection.channel(), self.service,
                                           [q.spec for q in self.queues], self.retry)
        finally:
            connection.close()

    def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                self._connect()
                backoff = 0.5
                self._loop()
            except (pika.exceptions.AMQPError, OSError) as exc:
                self.connected.clear()
                delay = min(backoff, 30.0) * (0.5 + random.random() / 2)
                log.warning("broker connection lost (%s); reconnecting in %.1fs", exc or type(exc).__name__, delay)
                self._stopping.wait(delay)
                backoff = min(backoff * 2, 30.0)
            finally:
                self._close()
        log.info("consumer stopped", extra={"service": self.service})

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> None:
        self._buffer.clear()
        self._connection = pika.BlockingConnection(self._params)
        channel = self._connection.channel()
        amqp.declare_consumer_topology(channel, self.service, [q.spec for q in self.queues], self.retry)
        channel.basic_qos(prefetch_count=self._prefetch)
        self._consumer_tags = [
            channel.basic_consume(queue=q.name, on_message_callback=self._buffer_message(q.name))
            for q in self.queues
        ]
        self._channel = channel
        self._publish_channel = self._connection.channel()
        self._publish_channel.confirm_delivery()
        self.connected.set()
        log.info("consuming", extra={"service": self.service, "queues": [q.name for q in self.queues]})

    def _buffer_message(self, queue: str) -> Callable[..., None]:
        def on_message(_channel: Any, method: Any, properties: Any, body: bytes) -> None:
            self._buffer.append((queue, method, properties, body))
        return on_message

    def _close(self) -> None:
        connection, self._connection, self._channel, self._publish_channel = self._connection, None, None, None
        self._buffer.clear()
        self.connected.clear()
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # noqa: BLE001
                pass

    def _loop(self) -> None:
        assert self._connection is not None
        while not self._stopping.is_set():
            self._connection.process_data_events(time_limit=0.5)
            while self._buffer and not self._stopping.is_set():
                self._deliver(*self._buffer.popleft())
                self._connection.process_data_events(time_limit=0)
            self._maybe_housekeep()
        # graceful stop: no new deliveries, finish those already received (bounded by prefetch)
        for tag in self._consumer_tags:
            try:
                self._channel.basic_cancel(tag)
            except Exception:  # noqa: BLE001
                break
        deadline = time.monotonic() + 20
        while self._buffer and time.monotonic() < deadline:
            self._deliver(*self._buffer.popleft())

    # -- one message ------------------------------------------------------------------------
    def _deliver(self, queue: str, method: Any, properties: Any, body: bytes) -> None:
        headers = dict(properties.headers or {})
        retries = int(headers.get(RETRIES_HEADER, 0) or 0)
        event_type = properties.type or "unknown"
        started = time.perf_counter()
        origin = _origin_exchange(method, headers)
        while True:
            try:
                outcome = self.process(queue, body, exchange=origin)
                break
            except SourceMismatch as exc:
                metrics.CONSUMER_FAILURES.labels(queue, event_type).inc()
                self._park(queue, method, properties, body, headers, f"refused: {exc}")
                metrics.EVENTS_CONSUMED.labels(queue, event_type, Outcome.REFUSED).inc()
                return
            except _TRANSIENT_DB_ERRORS as exc:
                if self._stopping.is_set():
                    return  # not acked: the broker gives it to the next consumer
                log.warning("database unavailable while handling a message (%s); holding it", exc.__class__.__name__)
                assert self._connection is not None  # messages arrive only while connected
                self._connection.sleep(2.0)  # keeps heartbeats flowing
            except Exception as exc:  # noqa: BLE001 - the handler's failure, never the loop's
                metrics.CONSUMER_FAILURES.labels(queue, event_type).inc()
                outcome = self._retry_or_park(queue, method, properties, body, retries, exc)
                metrics.EVENTS_CONSUMED.labels(queue, event_type, outcome).inc()
                return
        self._channel.basic_ack(method.delivery_tag)
        metrics.EVENTS_CONSUMED.labels(queue, event_type, outcome).inc()
        metrics.EVENT_HANDLING.labels(queue, event_type).observe(time.perf_counter() - started)

    def process(self, queue: str, body: bytes, *, exchange: str | None = None) -> str:
        """Handle one message body for ``queue`` in one transaction; return the outcome.

        ``exchange``: the events exchange the message arrived on; its owner must be the
        event's ``source``, else :class:`SourceMismatch` is raised. Raises when the handler
        fails (nothing is committed then). Public so that tests and tools can run a handler
        without a broker.
        """
        event = parse_envelope(body)
        if exchange is not None:
            owner = amqp.service_of_exchange(exchange)
            if owner is not None and event.source not in (f"/{owner}", owner):
                raise SourceMismatch(f"event {event.id} from {event.source!r} arrived on {exchange}")
        handler = self._by_name[queue].handler_for(event.type)
        if handler is None:
            return Outcome.IGNORED
        data = handler.load(event)
        with context.bound(event_id=event.id, traceparent=event.traceparent):
            with self._uow_factory() as uow:
                inbox = self._inbox
                seen = uow.session.execute(
                    sa.select(inbox.c.event_id).where(inbox.c.consumer == queue, inbox.c.event_id == event.id)
                ).first()
                if seen:
                    return Outcome.DUPLICATE
                try:
                    uow.session.execute(inbox.insert().values(
                        consumer=queue, event_id=event.id, event_type=event.type, received_at=utcnow()))
                    handler.func(uow, event, data)
                    uow.commit()
                except sqlalchemy.exc.IntegrityError:
                    uow.rollback()
                    if self._already_recorded(queue, event.id):
                        return Outcome.DUPLICATE  # a concurrent delivery of the same event won
                    raise
        return Outcome.PROCESSED

    def _already_recorded(self, queue: str, event_id: str) -> bool:
        with self._uow_factory() as uow:
            inbox = self._inbox
            return uow.session.execute(
                sa.select(inbox.c.event_id).where(inbox.c.consumer == queue, inbox.c.event_id == event_id)
            ).first() is not None

    def _retry_or_park(self, queue: str, method: Any, properties: Any, body: bytes, retries: int,
                       exc: Exception) -> str:
        headers = dict(properties.headers or {})
        error = f"{type(exc).__name__}: {exc}"[:1000]
        origin = _origin_exchange(method, headers)
        if origin is not None:
            headers[EXCHANGE_HEADER] = origin  # checked again when it comes back from the delay queue
        if retries < self.retry.max_retries:
            headers[RETRIES_HEADER] = retries + 1
            target_exchange, target_key, outcome = (amqp.retry_exchange_name(self.service),
                                                    amqp.retry_queue_name(queue), Outcome.RETRIED)
            log.warning("handler failed (attempt %d of %d), retrying later: %s", retries + 1,
                        self.retry.max_retries + 1, error, extra={"queue": queue})
        else:
            headers[ERROR_HEADER] = error
            target_exchange, target_key, outcome = amqp.dlx_name(self.service), queue, Outcome.DEAD_LETTERED
            log.error("handler failed %d times, parking the message in %s: %s", retries + 1,
                      amqp.dlq_name(self.service), error, extra={"queue": queue}, exc_info=exc)
        self._republish(target_exchange, target_key, properties, body, headers)
        self._channel.basic_ack(method.delivery_tag)
        return outcome

    def _park(self, queue: str, method: Any, properties: Any, body: bytes, headers: dict[str, Any],
              error: str) -> None:
        """Straight to the dead-letter queue, with ``error``: no retry can make this message right."""
        headers = dict(headers)
        headers[ERROR_HEADER] = error[:1000]
        log.error("%s; parking the message in %s", error, amqp.dlq_name(self.service), extra={"queue": queue})
        self._republish(amqp.dlx_name(self.service), queue, properties, body, headers)
        self._channel.basic_ack(method.delivery_tag)

    def _republish(self, exchange: str, routing_key: str, properties: Any, body: bytes,
                   headers: dict[str, Any]) -> None:
        self._publish_channel.basic_publish(
            exchange=exchange,
            routing_key=routing_key,
            body=body,
            properties=pika.BasicProperties(
                content_type=properties.content_type,
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=properties.message_id,
                type=properties.type,
                app_id=properties.app_id,
                timestamp=properties.timestamp,
                headers=headers,
            ),
            mandatory=True,
        )

    def _maybe_housekeep(self) -> None:
        now = time.monotonic()
        if now - self._last_housekeeping < 3600:
            return
        self._last_housekeeping = now
        try:
            with self._uow_factory() as uow:
                uow.session.execute(self._inbox.delete().where(
                    self._inbox.c.received_at < utcnow() - self._inbox_retention))
                uow.commit()
        except _TRANSIENT_DB_ERRORS as exc:
            log.warning("inbox housekeeping skipped: %s", exc.__class__.__name__)
