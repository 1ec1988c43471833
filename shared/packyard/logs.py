"""Structured JSON logging.

:func:`configure_logging` makes every record one JSON object per line on stderr, with the
service name and — when set — the request id, event id and trace id of the work being done
(see :mod:`packyard.context`). Extra fields passed with ``extra={...}`` are included.

Nothing secret should ever be logged; as a second line of defence the formatter masks the
values of ``Authorization`` headers and of fields whose names say they are secrets.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from packyard import context

__all__ = ["configure_logging", "JsonFormatter"]

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_SECRET_KEYS = re.compile(r"(password|passphrase|secret|token|api_?key|authorization|private_key)", re.I)
_AUTH_VALUE = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9._~+/=-]+")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _AUTH_VALUE.sub(r"\1 ***", value)
    if isinstance(value, dict):
        return {k: ("***" if _SECRET_KEYS.search(str(k)) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": _scrub(record.getMessage()),
        }
        rid, eid, tp = context.request_id.get(), context.event_id.get(), context.traceparent.get()
        if rid:
            out["request_id"] = rid
        if eid:
            out["event_id"] = eid
        trace = context.trace_id_of(tp)
        if trace:
            out["trace_id"] = trace
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in out:
                out[key] = "***" if _SECRET_KEYS.search(key) else _scrub(value)
        if record.exc_info:
            out["exception"] = "".join(traceback.format_exception(*record.exc_info))[-4000:]
        return json.dumps(out, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route all logging (root, gunicorn, werkzeug) to JSON lines on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("gunicorn.error", "gunicorn.access", "werkzeug"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("pika").setLevel(logging.WARNING)
