"""Per-request / per-message context: request id, event id and trace context.

Values live in :mod:`contextvars`, so they follow the code that handles one HTTP request
or one message and never leak between threads. The logging formatter and the outbox read
them: a log line carries the request id and event id it belongs to, and an event written
while handling a request or another event continues that trace (``traceparent``).
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import uuid
from collections.abc import Iterator

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("packyard_request_id", default=None)
event_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("packyard_event_id", default=None)
traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar("packyard_traceparent", default=None)

_TRACEPARENT_RE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def trace_id_of(value: str | None) -> str | None:
    """The 32-hex trace id of a W3C ``traceparent`` value, or None when it is not valid."""
    match = _TRACEPARENT_RE.match(value or "")
    return match.group(1) if match else None


def child_traceparent(parent: str | None) -> str:
    """A ``traceparent`` for a new span in the same trace as ``parent`` (or a new trace)."""
    trace = trace_id_of(parent) or uuid.uuid4().hex
    return f"00-{trace}-{uuid.uuid4().hex[:16]}-01"


@contextlib.contextmanager
def bound(**values: str | None) -> Iterator[None]:
    """Set context values (``request_id``, ``event_id``, ``traceparent``) for a block."""
    tokens = []
    for name, value in values.items():
        var = {"request_id": request_id, "event_id": event_id, "traceparent": traceparent}[name]
        tokens.append((var, var.set(value)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
