"""Activity entries and people lists are documented as open objects, as they are served (each kind of entry
adds its own fields; fuzzing found them documented with additionalProperties false)."""

from __future__ import annotations


def test_open_answer_schemas_are_documented_as_open(client):
    schemas = client.get("/openapi/social.json").json["components"]["schemas"]
    for name in ("Activity", "Person"):
        assert schemas[name].get("additionalProperties", True) is not False, name
