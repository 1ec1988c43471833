"""Events social publishes on ``social.events`` (routing key = type).

None yet: follows, watches and reviews bring ``social.follow.*``, ``social.watch.*`` and
``social.review.*`` with the payloads described in docs/events.md, each declared here as an
:class:`~packyard.events.EventType` with the marshmallow schema that validates it.
"""

from __future__ import annotations

from packyard.events import EventType

ALL: list[EventType] = []
