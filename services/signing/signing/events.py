"""Events signing publishes on ``signing.events`` (routing key = type).

None yet: key management and signing bring ``signing.key.uploaded``, ``signing.key.cleared``,
``signing.version.signed`` and ``signing.file.signed``, each declared here as an
:class:`~packyard.events.EventType` with the marshmallow schema that validates it.
"""

from __future__ import annotations

from packyard.events import EventType

ALL: list[EventType] = []
