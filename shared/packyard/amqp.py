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
  - a companion retry queue ``<service>.<purpose>.retry`` with a message TTL whose expired
    messages dead-letter back into the main queue: the delay between retries;
  - at-least-once dead-lettering (``x-dead-letter-strategy``), so a message moved between
    these queues is never dropped on the way.

Declaring is idempotent: workers declare their topology on every (re)connection, and the
``migrate`` command of each service declares it once before anything is published, so a
fresh installation loses no event published before a worker first started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pika

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
]


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
    return f"{queue}.retry"


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
    """Declare dead-letter exchange and queue, each consumer queue, its retry queue and bindings."""
    dlx = dlx_name(service)
    channel.exchange_declare(exchange=dlx, exchange_type="topic", durable=True)
    channel.queue_declare(queue=dlq_name(service), durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue=dlq_name(service), exchange=dlx, routing_key="#")
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
        channel.queue_declare(
            queue=retry_queue_name(spec.name),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": retry.delay_ms,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": spec.name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        for binding in spec.bindings:
            channel.exchange_declare(exchange=binding.exchange, exchange_type="topic", durable=True)
            channel.queue_bind(queue=spec.name, exchange=binding.exchange, routing_key=binding.routing_key)
