#!/usr/bin/env python3
"""Subscribe an internal service to Packyard's release events.

Packyard publishes `catalog.version.released` on the durable topic exchange `catalog.events`
whenever a version's first files are published. A subscriber owns a durable queue bound to
that exchange with the event type as routing key, acknowledges each message only after it
has acted on it, and ignores events it has already handled (delivery is at-least-once: the
same CloudEvent `id` can arrive twice).

    AMQP_URL=amqp://user:pass@rabbitmq:5672/%2F python examples/release_subscriber.py

Each release is printed as one JSON line; replace `handle()` with your own work (mirror the
files, trigger a build, post to chat, …).
"""

from __future__ import annotations

import json
import os
import sys

import pika

QUEUE = os.environ.get("QUEUE", "mirror.releases")


def declare(channel) -> None:
    # The exchange is catalog's: a subscriber only checks that it exists (catalog declares it when
    # it starts), so its broker user needs no configure permission on it.
    channel.exchange_declare("catalog.events", passive=True)
    # Quorum queue: replicated and durable; the delivery limit parks a message that keeps
    # crashing this subscriber in the dead-letter queue instead of redelivering it forever.
    channel.exchange_declare(f"{QUEUE}.dlx", exchange_type="fanout", durable=True)
    channel.queue_declare(f"{QUEUE}.dlq", durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(f"{QUEUE}.dlq", f"{QUEUE}.dlx")
    channel.queue_declare(QUEUE, durable=True, arguments={
        "x-queue-type": "quorum",
        "x-delivery-limit": 10,
        "x-dead-letter-exchange": f"{QUEUE}.dlx",
    })
    channel.queue_bind(QUEUE, "catalog.events", routing_key="catalog.version.released")


def handle(event: dict) -> None:
    release = event["data"]
    print(json.dumps({
        "event_id": event["id"],
        "release": f"{release['owner']}/{release['repo']}/{release['package']}@{release['version']}",
        "published_by": release.get("publisher"),
        "files": [f["download_url"] for f in release.get("files", [])],
    }), flush=True)


def main() -> int:
    connection = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"]))
    channel = connection.channel()
    declare(channel)
    channel.basic_qos(prefetch_count=10)
    seen: set[str] = set()  # in a real service: a table of handled event ids, written with the effect
    try:
        for method, _properties, body in channel.consume(QUEUE):
            event = json.loads(body)
            if event["id"] not in seen:
                handle(event)
                seen.add(event["id"])
            channel.basic_ack(method.delivery_tag)
    except KeyboardInterrupt:
        pass
    finally:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
