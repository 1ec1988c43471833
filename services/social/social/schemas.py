"""Request and response schemas of social's HTTP API (marshmallow, documented in OpenAPI)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma


class ActivitySchema(ma.Schema):
    """One entry of an activity log; kinds of entries add their own fields beside these."""

    type = ma.fields.String(required=True, metadata={"description": "what happened, e.g. joined"})
    actor = ma.fields.String(required=True, allow_none=True,
                             metadata={"description": "who did it (null once their account is deleted)"})
    created = ma.fields.String(required=True)

    @ma.post_dump(pass_original=True)
    def _keep_kind_fields(self, data: dict[str, Any], original: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        for key, value in original.items():
            data.setdefault(key, value)
        return data
