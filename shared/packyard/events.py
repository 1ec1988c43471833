"""CloudEvents 1.0 envelope (structured JSON mode) and event type declarations.

Every event Packyard puts on the bus is a CloudEvent serialized as one JSON object with
``content_type = application/cloudevents+json``::

    {"specversion": "1.0", "id": "<uuid>", "source": "/identity",
     "type": "identity.user.registered", "time": "2026-11-25T10:00:00.123Z",
     "subject": "alice", "datacontenttype": "application/json",
     "dataversion": "1", "traceparent": "00-…-…-01", "data": {…}}

``dataversion`` is the version of the ``data`` schema: a version may only gain optional
fields; a breaking change is published as a new version beside the old one.

A publishing service declares each event it emits as an :class:`EventType` — a string
constant for the wire name plus the marshmallow schema that validates the data before it
is written to the outbox. Wire names are never derived from class names.

Consumers never import another service's declarations: they parse the envelope with
:func:`parse_envelope` and read ``data`` with their own tolerant schema.
"""

from __future__ import annotations

import builtins
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import marshmallow

__all__ = [
    "CONTENT_TYPE",
    "CloudEvent",
    "EventType",
    "EnvelopeError",
    "parse_envelope",
    "format_time",
    "event_time",
    "new_traceparent",
]

CONTENT_TYPE = "application/cloudevents+json"
_TYPE_RE = re.compile(r"^[a-z]+\.[a-z_]+\.[a-z_]+$")
_TRACEPARENT_RE = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


class EnvelopeError(ValueError):
    """The bytes received are not a valid CloudEvent of ours."""


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` (the Bintray timestamp format)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def new_traceparent(trace_id: str | None = None) -> str:
    """A W3C ``traceparent`` continuing ``trace_id`` (or starting a new trace)."""
    trace_id = trace_id or uuid.uuid4().hex
    return f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"


@dataclass(frozen=True)
class EventType:
    """A declared event: its wire name, data schema version and marshmallow schema.

    ``schema`` validates the ``data`` the publisher hands in; publishing data that does not
    validate raises :class:`marshmallow.ValidationError` before anything is written.
    """

    type: str
    schema: builtins.type[marshmallow.Schema]  # builtins: the field ``type`` shadows it here
    version: str = "1"
    description: str = ""

    def __post_init__(self) -> None:
        if not _TYPE_RE.match(self.type):
            raise ValueError(f"event type {self.type!r} is not <service>.<aggregate>.<past_tense_verb>")

    @property
    def service(self) -> str:
        return self.type.split(".", 1)[0]

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        """Serialize ``data`` through the schema and validate the result.

        Returns the JSON-ready payload (only the declared fields; datetimes as ISO 8601).
        Raises :class:`marshmallow.ValidationError` when a required field is missing or a
        value does not validate, before anything is written anywhere.
        """
        schema = self.schema()
        try:
            dumped = json.loads(json.dumps(schema.dump(data), default=_json_default))
        except (TypeError, ValueError, AttributeError) as exc:
            raise marshmallow.ValidationError(f"{self.type}: cannot serialize data: {exc}") from None
        errors = schema.validate(dumped)
        if errors:
            raise marshmallow.ValidationError(errors)
        return dumped


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@dataclass(frozen=True)
class CloudEvent:
    """One event, as published and as received."""

    type: str
    source: str
    data: dict[str, Any]
    subject: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: str = field(default_factory=lambda: format_time(datetime.now(UTC)))
    dataversion: str = "1"
    traceparent: str | None = None
    specversion: str = "1.0"
    datacontenttype: str = "application/json"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "datacontenttype": self.datacontenttype,
            "dataversion": self.dataversion,
        }
        if self.subject is not None:
            body["subject"] = self.subject
        if self.traceparent:
            body["traceparent"] = self.traceparent
        body["data"] = self.data
        return body

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), default=_json_default)


class _EnvelopeSchema(marshmallow.Schema):
    class Meta:
        unknown = marshmallow.INCLUDE  # extension attributes are allowed by the spec

    specversion = marshmallow.fields.String(required=True, validate=marshmallow.validate.Equal("1.0"))
    id = marshmallow.fields.String(required=True, validate=marshmallow.validate.Length(min=1, max=200))
    source = marshmallow.fields.String(required=True, validate=marshmallow.validate.Length(min=1))
    type = marshmallow.fields.String(required=True, validate=marshmallow.validate.Length(min=1))
    time = marshmallow.fields.String(load_default=None)
    subject = marshmallow.fields.String(load_default=None, allow_none=True)
    datacontenttype = marshmallow.fields.String(load_default="application/json")
    dataversion = marshmallow.fields.String(load_default="1")
    traceparent = marshmallow.fields.String(load_default=None, allow_none=True)
    data = marshmallow.fields.Dict(load_default=dict)


def event_time(event: CloudEvent, fallback: datetime | None = None) -> datetime:
    """When the publisher recorded ``event`` (its ``time``, in UTC when it names no zone).

    Consumers order changes by it where the publisher carries no revision. A time that does not
    parse gives ``fallback`` — the present moment when there is none — rather than failing the
    delivery: the event's data still counts.
    """
    try:
        moment = datetime.fromisoformat(str(event.time).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return fallback if fallback is not None else datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_envelope(body: bytes | str) -> CloudEvent:
    """Parse a structured-mode CloudEvent; raise :class:`EnvelopeError` when it is not one."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"body is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise EnvelopeError("body is not a JSON object")
    try:
        loaded = _EnvelopeSchema().load(raw)
    except marshmallow.ValidationError as exc:
        raise EnvelopeError(f"not a CloudEvent: {exc.messages}") from None
    traceparent = loaded.get("traceparent")
    if traceparent and not _TRACEPARENT_RE.match(traceparent):
        traceparent = None
    return CloudEvent(
        type=loaded["type"],
        source=loaded["source"],
        data=loaded["data"],
        subject=loaded.get("subject"),
        id=loaded["id"],
        time=loaded.get("time") or format_time(datetime.now(UTC)),
        dataversion=loaded.get("dataversion") or "1",
        traceparent=traceparent,
        datacontenttype=loaded.get("datacontenttype") or "application/json",
    )
