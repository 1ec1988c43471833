"""Answers carry only what the OpenAPI document describes (fuzzing found file lists with undocumented fields)."""

from __future__ import annotations


def test_file_lists_match_the_documented_file_schema(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "dir/a.jar", b"a", alice, publish=True)
    doc = client.get("/openapi/catalog.json").json
    documented = set(doc["components"]["schemas"]["File"]["properties"])
    for path in ("/packages/alice/main/tool/files", "/packages/alice/main/tool/versions/1.0/files"):
        [item] = client.get(path, headers=alice).json
        assert set(item) <= documented, (path, set(item) - documented)


def test_a_version_with_its_attribute_values_matches_the_documented_version_schema(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "dir/a.jar", b"a", alice, publish=True)
    documented = set(client.get("/openapi/catalog.json").json["components"]["schemas"]["Version"]["properties"])
    answer = client.get("/packages/alice/main/tool/versions/1.0?attribute_values=1", headers=alice).json
    assert "attributes" in answer and set(answer) <= documented, set(answer) - documented
