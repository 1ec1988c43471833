"""Events the notifier publishes on ``notifier.events`` (routing key = type).

None yet: webhook deliveries bring ``notifier.webhook_delivery.succeeded``, ``.failed`` and
``.deactivated`` (docs/events.md), each declared here as an :class:`~packyard.events.EventType`
with the marshmallow schema that validates it.
"""

from __future__ import annotations

from packyard.events import EventType

ALL: list[EventType] = []
