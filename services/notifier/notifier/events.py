"""Events the notifier publishes on ``notifier.events`` (routing key = type).

* ``notifier.webhook_delivery.succeeded`` / ``.failed`` / ``.deactivated`` — the outcome of a
  release's call to a webhook, with the webhook's count of consecutive failed releases (catalog
  keeps ``failure_count`` from them; 7 deactivate the hook).
* ``notifier.fanout.batch_planned`` — one batch of a release's recipients, for whichever notifier
  worker takes it from ``notifier.fanout`` (the notifier is its only consumer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma

from packyard.events import EventType, format_time


class Timestamp(ma.fields.DateTime):
    def _serialize(self, value: datetime | str | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return format_time(value)


class WebhookDeliveryData(ma.Schema):
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    url = ma.fields.String(required=True, metadata={"description": "the webhook's URL"})
    failure_count = ma.fields.Integer(required=True, metadata={
        "description": "consecutive releases whose call failed (0 after a success; 7 deactivate the webhook)"})
    username = ma.fields.String(load_default=None, allow_none=True,
                                metadata={"description": "who registered the webhook"})
    webhook_id = ma.fields.String(load_default=None, allow_none=True)
    delivery_id = ma.fields.String(load_default=None, allow_none=True,
                                   metadata={"description": "the stable delivery id (webhook-id header)"})
    version = ma.fields.String(load_default=None, allow_none=True)
    response_status = ma.fields.Integer(load_default=None, allow_none=True)
    attempts = ma.fields.Integer(load_default=None, allow_none=True)
    at = Timestamp(load_default=None, allow_none=True)


def _user_ids(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(i, str) and 0 < len(i) <= 36 for i in value):
        raise ma.ValidationError("must be a list of user ids")


class ReleaseData(ma.Schema):
    event_id = ma.fields.String(required=True, metadata={"description": "the catalog.version.released event"})
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    publisher = ma.fields.String(required=True)
    released = ma.fields.String(required=True)
    release_notes = ma.fields.String(load_default=None, allow_none=True)
    private = ma.fields.Boolean(load_default=False)


class FanoutBatchData(ma.Schema):
    release = ma.fields.Nested(ReleaseData, required=True)
    batch = ma.fields.Integer(required=True, metadata={"description": "1-based number of this batch"})
    batches = ma.fields.Integer(required=True)
    # A plain list (Raw): a batch holds hundreds of ids, written and read by the notifier alone.
    recipients = ma.fields.Raw(required=True, validate=_user_ids, metadata={"description": "user ids", "type": "array",
                                                    "items": {"type": "string"}})


WEBHOOK_DELIVERY_SUCCEEDED = EventType(
    "notifier.webhook_delivery.succeeded", WebhookDeliveryData,
    description="A release's call to a webhook succeeded (the failure count is back to 0).")
WEBHOOK_DELIVERY_FAILED = EventType(
    "notifier.webhook_delivery.failed", WebhookDeliveryData,
    description="A release's call to a webhook failed after every attempt.")
WEBHOOK_DELIVERY_DEACTIVATED = EventType(
    "notifier.webhook_delivery.deactivated", WebhookDeliveryData,
    description="A webhook failed for 7 consecutive releases and is no longer called.")
FANOUT_BATCH = EventType(
    "notifier.fanout.batch_planned", FanoutBatchData,
    description="One batch of a release's recipients, for any notifier worker to tell (internal to the notifier).")

ALL: list[EventType] = [WEBHOOK_DELIVERY_SUCCEEDED, WEBHOOK_DELIVERY_FAILED, WEBHOOK_DELIVERY_DEACTIVATED,
                        FANOUT_BATCH]
