"""Prometheus metrics shared by every Packyard process.

Metric objects are process-wide singletons, as ``prometheus_client`` intends. Under
gunicorn with several workers set ``PROMETHEUS_MULTIPROC_DIR`` to an empty writable
directory: :func:`render` then aggregates every worker's samples.

Services define their own domain metrics (notification fan-out, email and webhook
delivery results, downloads) next to the code that moves them, with the same prefix.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

__all__ = [
    "CONTENT_TYPE_LATEST",
    "render",
    "HTTP_REQUESTS",
    "HTTP_LATENCY",
    "EVENTS_PUBLISHED",
    "EVENTS_UNROUTABLE",
    "PUBLISH_LATENCY",
    "OUTBOX_BACKLOG",
    "OUTBOX_OLDEST_AGE",
    "RELAY_ERRORS",
    "EVENTS_CONSUMED",
    "EVENT_HANDLING",
    "CONSUMER_FAILURES",
]

HTTP_REQUESTS = Counter(
    "packyard_http_requests_total", "HTTP requests handled", ["service", "method", "endpoint", "status"])
HTTP_LATENCY = Histogram(
    "packyard_http_request_duration_seconds", "HTTP request latency", ["service", "method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))

EVENTS_PUBLISHED = Counter(
    "packyard_events_published_total", "Events confirmed by the broker", ["service", "type"])
EVENTS_UNROUTABLE = Counter(
    "packyard_events_unroutable_total", "Events the broker routed to no queue", ["service", "type"])
PUBLISH_LATENCY = Histogram(
    "packyard_event_publish_latency_seconds", "Time from outbox insert to broker confirm", ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300))
OUTBOX_BACKLOG = Gauge(
    "packyard_outbox_backlog", "Outbox rows not yet published", ["service"], multiprocess_mode="max")
OUTBOX_OLDEST_AGE = Gauge(
    "packyard_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", ["service"],
    multiprocess_mode="max")
RELAY_ERRORS = Counter(
    "packyard_relay_errors_total", "Relay loop failures (broker or database away)", ["service"])

EVENTS_CONSUMED = Counter(
    "packyard_events_consumed_total", "Messages handled by consumers, by outcome",
    ["queue", "type", "outcome"])
EVENT_HANDLING = Histogram(
    "packyard_event_handling_seconds", "Time spent handling one message", ["queue", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
CONSUMER_FAILURES = Counter(
    "packyard_consumer_failures_total", "Handler failures (each retry counts)", ["queue", "type"])


def render() -> tuple[bytes, str]:
    """The exposition text for this process (or all gunicorn workers) and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(DEFAULT_REGISTRY), CONTENT_TYPE_LATEST
