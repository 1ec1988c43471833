"""The token keys' answer is the one its OpenAPI document describes (fuzzing found it documented as an error)."""

from __future__ import annotations


def test_the_jwks_answer_matches_its_documented_200(client):
    operation = client.get("/openapi/identity.json").json["paths"]["/.well-known/jwks.json"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    answer = client.get("/.well-known/jwks.json")
    assert answer.status_code == 200
    assert set(schema["required"]) <= set(answer.json) <= set(schema["properties"])
    assert schema["properties"]["keys"]["type"] == "array" and answer.json["keys"]
