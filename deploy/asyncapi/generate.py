#!/usr/bin/env python3
"""Generate the AsyncAPI 3.0 document of Packyard's events from the services' own declarations.

    python deploy/asyncapi/generate.py           # rewrite deploy/asyncapi.yaml
    python deploy/asyncapi/generate.py --check   # exit 1 when it is out of date

Sources: every service's ``events.ALL`` (what it publishes: type, version, description,
marshmallow schema of ``data``) and ``consumers.QUEUES`` (which queue receives which type).
The document is therefore never out of step with the code that publishes and consumes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "deploy" / "asyncapi.yaml"
SERVICES = ("identity", "social", "catalog", "notifier", "signing")

ENVELOPE = {
    "type": "object",
    "description": "CloudEvents 1.0, structured JSON mode. The AMQP message_id and type properties mirror "
                   "`id` and `type`; the `traceparent` header mirrors the extension attribute.",
    "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "data"],
    "properties": {
        "specversion": {"type": "string", "const": "1.0"},
        "id": {"type": "string", "description": "UUID, the same on every re-send: deduplicate on it"},
        "source": {"type": "string", "description": "the publishing service, e.g. /catalog"},
        "type": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "subject": {"type": "string", "description": "the aggregate the event is about"},
        "datacontenttype": {"type": "string", "const": "application/json"},
        "dataversion": {"type": "string", "description": "version of the data schema"},
        "traceparent": {"type": "string", "description": "W3C trace context"},
    },
}


def _strip_closed(schema: Any) -> Any:
    """Published schemas stay open: a version may gain optional fields."""
    if isinstance(schema, dict):
        return {k: _strip_closed(v) for k, v in schema.items() if k != "additionalProperties"}
    if isinstance(schema, list):
        return [_strip_closed(v) for v in schema]
    return schema


def collect() -> tuple[list[tuple[str, Any]], dict[str, list[str]]]:
    published: list[tuple[str, Any]] = []
    receivers: dict[str, list[str]] = {}
    for svc in SERVICES:
        events = importlib.import_module(f"{svc}.events")
        published += [(svc, event) for event in events.ALL]
        consumers = importlib.import_module(f"{svc}.consumers")
        for queue in consumers.QUEUES:
            for handler in queue.handlers:
                receivers.setdefault(handler.event_type, []).append(queue.name)
    return published, receivers


def build() -> dict[str, Any]:
    published, receivers = collect()
    spec = APISpec("Packyard events", "1", "3.1.0", plugins=[MarshmallowPlugin()])
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    registered: set[str] = set()
    for svc, event in sorted(published, key=lambda p: p[1].type):
        data_name = f"{svc}.{event.schema.__name__}"
        if data_name not in registered:  # one schema may describe several events (created/updated)
            spec.components.schema(data_name, schema=event.schema)
            registered.add(data_name)
        exchange = f"{svc}.events"
        channel = channels.setdefault(exchange, {
            "address": exchange,
            "description": f"Topic exchange of the {svc} service; the routing key is the event type.",
            "messages": {},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {
                "name": exchange, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}}},
        })
        channel["messages"][event.type] = {"$ref": f"#/components/messages/{event.type}"}
        messages[event.type] = {
            "name": event.type,
            "title": event.type,
            "summary": event.description or event.type,
            "contentType": "application/cloudevents+json",
            "payload": {"allOf": [
                {"$ref": "#/components/schemas/CloudEvent"},
                {"type": "object", "properties": {
                    "type": {"const": event.type},
                    "dataversion": {"const": event.version},
                    "data": {"$ref": f"#/components/schemas/{data_name}"},
                }},
            ]},
            "bindings": {"amqp": {"messageType": event.type}},
        }
        operations[f"{svc}.publishes.{event.type}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{exchange}"},
            "messages": [{"$ref": f"#/channels/{exchange}/messages/{event.type}"}],
            "bindings": {"amqp": {"deliveryMode": 2, "mandatory": True}},
        }
        for queue in sorted(receivers.get(event.type, [])):
            operations[f"{queue}.receives.{event.type}"] = {
                "action": "receive",
                "summary": f"Consumed from the quorum queue {queue} (dead letters in "
                           f"{queue.split('.', 1)[0]}.dlq).",
                "channel": {"$ref": f"#/channels/{exchange}"},
                "messages": [{"$ref": f"#/channels/{exchange}/messages/{event.type}"}],
            }
    schemas = _strip_closed(spec.to_dict().get("components", {}).get("schemas", {}))
    schemas = {"CloudEvent": ENVELOPE, **dict(sorted(schemas.items()))}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Packyard events",
            "version": "1.0.0",
            "description": "Domain events of Packyard's services on RabbitMQ. Generated by "
                           "deploy/asyncapi/generate.py from each service's events.py and consumers.py. "
                           "Subscribe by binding a durable queue of your own to a service's exchange with "
                           "the event type as routing key (see examples/release_subscriber.py).",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {"rabbitmq": {"host": "rabbitmq:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}},
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"messages": dict(sorted(messages.items())), "schemas": schemas},
    }


def render() -> str:
    return "# Generated by deploy/asyncapi/generate.py — do not edit.\n" + yaml.safe_dump(
        build(), sort_keys=False, allow_unicode=True, width=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is out of date: run python deploy/asyncapi/generate.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
