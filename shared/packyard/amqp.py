"""RabbitMQ connection settings and the topology every service shares.

Topology (DESIGN §3), all durable, identical on RabbitMQ 3.10 and 4.x:

* each publishing service owns one topic exchange ``<service>.events``; the routing key is
  the event type (``catalog.version.released``);
* each consuming service owns durable **quorum** queues ``<service>.<purpose>``, bound to
  the exchanges and event types it needs, with

  - ``x-delivery-limit``: a message redelivered more often than this (for example because
    it crashes the worker before the ack) is dead-lettered instead of looping forever;
  - ``x-dead-letter-exchange = <service>.dlx`` → the quorum queue ``<service>.dlq``, where
    messages that exhausted their retries wait for an operator;
  - a companion delay queue ``<service>.<purpose>.delay`` with a message TTL: the delay
    between retries. A failing message is published to the service's own direct exchange
    ``<service>.retry`` (routing key: the delay queue), and expires from there back into the
    main queue through the same exchange (routing key: the main queue) — so retrying needs no
    write access to the default exchange;
  - at-least-once dead-lettering (``x-dead-letter-strategy``), so a message moved between
    these queues is never dropped on the way.

The bus is a trust boundary (DESIGN §4): each service connects as its own broker user, whose
permissions (:func:`broker_permissions`) let it configure and write only ``<service>.*`` —
its events, retry and dead-letter exchanges and its own queues — and read only its own queues
and the ``*.events`` exchanges it binds them to. It cannot publish on another service's
exchange nor consume another's queue. Other services' exchanges are therefore only checked
(passive declare) when binding; their owners' ``migrate`` (or the broker's definitions, in
compose and on Kubernetes) creates them.

Declaring is idempotent: workers declare their topology on every (re)connection, and the
``migrate`` command of each service declares it once before anything is published, so a
fresh installation loses no event published before a worker first started.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import pika
import pika.exceptions

__all__ = [
    "connection_parameters",
    "events_exchange",
    "declare_events_exchange",
    "Binding",
    "QueueSpec",
    "RetryPolicy",
    "declare_consumer_topology",
    "dlq_name",
    "dlx_name",
    "retry_queue_name",
    "retry_exchange_name",
    "broker_permissions",
    "service_of_exchange",
    "TopologyError",
]

log = logging.getLogger(__name__)


class TopologyError(Exception):
    """The broker topology cannot be declared as this service's broker user."""


def connection_parameters(url: str, *, client_name: str | None = None, heartbeat: int = 30) -> pika.URLParameters:
    """pika parameters for ``url`` with sane timeouts for long-running processes."""
    params = pika.URLParameters(url)
    params.heartbeat = heartbeat
    params.blocked_connection_timeout = 60
    params.socket_timeout = 10
    params.stack_timeout = 15
    params.connection_attempts = 1
    if client_name:
        params.client_properties = {"connection_name": client_name}
    return params


def events_exchange(service: str) -> str:
    return f"{service}.events"


def dlx_name(service: str) -> str:
    return f"{service}.dlx"


def dlq_name(service: str) -> str:
    return f"{service}.dlq"


def retry_queue_name(queue: str) -> str:
    """The delay queue a failing message of ``queue`` waits in before its next attempt."""
    return f"{queue}.delay"


def retry_exchange_name(service: str) -> str:
    return f"{service}.retry"


def _legacy_retry_queue_name(queue: str) -> str:
    return f"{queue}.retry"  # before retries went through <service>.retry (dead-lettered to "")


def service_of_exchange(exchange: str) -> str | None:
    """``identity`` for ``identity.events``; ``None`` for any other exchange."""
    match = re.fullmatch(r"([a-z][a-z0-9_-]*)\.events", exchange or "")
    return match.group(1) if match else None


def broker_permissions(service: str) -> tuple[str, str, str]:
    """RabbitMQ ``configure``, ``write`` and ``read`` patterns of ``service``'s broker user.

    configure and write: only ``<service>.*`` (its exchanges ``.events``, ``.retry``, ``.dlx``
    and its queues); read: its own queues, and any ``*.events`` exchange (binding a queue
    needs read on the exchange it binds from).
    """
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", service):
        raise ValueError(f"not a service name: {service!r}")
    own = rf"^{service}\."
    return own, own, rf"^({service}\..*|[a-z][a-z0-9_-]*\.events)$"


def declare_events_exchange(channel: Any, service: str) -> str:
    name = events_exchange(service)
    channel.exchange_declare(exchange=name, exchange_type="topic", durable=True)
    return name


@dataclass(frozen=True)
class Binding:
    """Bind a queue to ``exchange`` (``<publisher>.events``) for one routing key (event type)."""

    exchange: str
    routing_key: str


@dataclass(frozen=True)
class RetryPolicy:
    """How a failing message is retried before it is parked in the dead-letter queue.

    ``max_retries`` delayed retries of ``delay_ms`` each; ``delivery_limit`` bounds the
    redeliveries RabbitMQ itself makes (worker crashed before acking).
    """

    max_retries: int = 5
    delay_ms: int = 5000
    delivery_limit: int = 10


@dataclass(frozen=True)
class QueueSpec:
    """A consumer queue ``<service>.<purpose>`` and the event types bound to it."""

    name: str
    bindings: tuple[Binding, ...] = field(default_factory=tuple)


def declare_consumer_topology(channel: Any, service: str, queues: list[QueueSpec] | tuple[QueueSpec, ...],
                              retry: RetryPolicy) -> None:
    """Declare dead-letter and retry exchanges and queues, each consumer queue, its delay queue and bindings."""
    dlx = dlx_name(service)
    retry_exchange = retry_exchange_name(service)
    channel.exchange_declare(exchange=dlx, exchange_type="topic", durable=True)
    channel.exchange_declare(exchange=retry_exchange, exchange_type="direct", durable=True)
    channel.queue_declare(queue=dlq_name(service), durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue=dlq_name(service), exchange=dlx, routing_key="#")
    checked: set[str] = set()
    for spec in queues:
        channel.queue_declare(
            queue=spec.name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": retry.delivery_limit,
                "x-dead-letter-exchange": dlx,
                "x-dead-letter-routing-key": spec.name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        channel.queue_bind(queue=spec.name, exchange=retry_exchange, routing_key=spec.name)
        delay = retry_queue_name(spec.name)
        channel.queue_declare(
            queue=delay,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": retry.delay_ms,
                "x-dead-letter-exchange": retry_exchange,
                "x-dead-letter-routing-key": spec.name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        channel.queue_bind(queue=delay, exchange=retry_exchange, routing_key=delay)
        for binding in spec.bindings:
            if binding.exchange not in checked:
                _ensure_exchange(channel, service, binding.exchange)
                checked.add(binding.exchange)
            channel.queue_bind(queue=spec.name, exchange=binding.exchange, routing_key=binding.routing_key)
    _retire_legacy_retry_queues(channel, [spec.name for spec in queues])


def _side_channel(channel: Any) -> Any:
    connection = getattr(channel, "connection", None)
    return connection.channel() if connection is not None else None


def _ensure_exchange(channel: Any, service: str, exchange: str) -> None:
    """Make sure ``exchange`` exists before binding to it.

    Our own exchanges are declared. Another service's is only checked (a passive declare
    needs no permission); when it does not exist yet it is created if this broker user may
    (a shared development account), else a :class:`TopologyError` says whose migrate to run.
    """
    if exchange.startswith(f"{service}.") or service_of_exchange(exchange) is None:
        channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
        return
    side = _side_channel(channel)
    if side is None:  # not a pika BlockingChannel: declare as before
        channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
        return
    try:
        side.exchange_declare(exchange=exchange, passive=True)
        side.close()
        return
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code != 404:
            raise
    side = _side_channel(channel)
    try:
        side.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
        side.close()
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 403:
            owner = service_of_exchange(exchange)
            raise TopologyError(
                f"exchange {exchange} does not exist yet and the broker user of {service} may not create it: "
                f"run `python -m {owner} migrate` first (or create it with the broker's definitions)") from None
        raise


def _retire_legacy_retry_queues(channel: Any, queues: list[str]) -> None:
    """Delete the ``<queue>.retry`` queues of earlier releases once they are empty."""
    connection = getattr(channel, "connection", None)
    if connection is None:
        return
    for queue in queues:
        side = connection.channel()
        try:
            side.queue_delete(queue=_legacy_retry_queue_name(queue), if_empty=True)
            side.close()
        except pika.exceptions.ChannelClosedByBroker as exc:
            log.info("kept %s: %s", _legacy_retry_queue_name(queue), exc.reply_text)
