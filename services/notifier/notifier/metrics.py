"""The notifier's own Prometheus metrics (beside those of :mod:`packyard.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter

EMAIL_DELIVERIES = Counter(
    "packyard_email_deliveries_total", "Email delivery attempts by result (sent, retried, failed)", ["result"])
NOTIFICATIONS_CREATED = Counter(
    "packyard_notifications_created_total", "In-app notifications created, by type", ["type"])
