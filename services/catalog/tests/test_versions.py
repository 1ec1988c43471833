"""Versions: Bintray's endpoints and field types, _latest, -SNAPSHOT, and their events."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

VERSION_KEYS = ["name", "desc", "package", "repo", "owner", "labels", "published", "attribute_names", "created",
                "updated", "released", "ordinal", "github_release_notes_file", "github_use_tag_release_notes",
                "vcs_tag", "rating_count"]


def test_a_version_is_created_with_the_field_types_clients_expect(api, client, alice):
    response = client.post("/packages/alice/main/tool/versions", headers=alice, json={
        "name": "1.0", "desc": "First", "vcs_tag": "v1.0", "github_use_tag_release_notes": True})
    assert response.status_code == 201
    body = response.json
    assert list(body) == VERSION_KEYS
    assert body["released"] == "" and body["published"] is False
    assert isinstance(body["ordinal"], float) and body["ordinal"] == 1.0
    assert b'"ordinal":1.0' in client.get("/packages/alice/main/tool/versions/1.0").data
    assert body["vcs_tag"] == "v1.0" and body["github_use_tag_release_notes"] is True
    second = client.post("/packages/alice/main/tool/versions", headers=alice, json={"name": "1.1"}).json
    assert second["ordinal"] == 2.0
    [first_event, _] = api.events("catalog.version.created")
    assert first_event["subject"] == "alice/main/tool/1.0"
    assert first_event["data"]["version"] == "1.0" and first_event["data"]["creator"] == "alice"


def test_a_release_date_given_is_kept(api, client, alice):
    body = client.post("/packages/alice/main/tool/versions", headers=alice,
                       json={"name": "2.0", "released": "2016-12-22T01:05:37.451Z"}).json
    assert body["released"] == "2016-12-22T01:05:37.451Z"


def test_snapshots_and_bad_names_are_refused(api, client, alice):
    for name in ("1.0-SNAPSHOT", "2.0-snapshot", "", "a/b", "_latest", ".."):
        response = client.post("/packages/alice/main/tool/versions", headers=alice, json={"name": name})
        assert response.status_code == 400, name
    assert client.post("/packages/alice/main/tool/versions", headers=alice,
                       json={"name": "1.0", "released": "someday"}).status_code == 400
    assert client.get("/packages/alice/main/tool").json["versions"] == []
    assert api.events("catalog.version.created") == []


def test_a_duplicate_version_answers_409(api, client, alice):
    client.post("/packages/alice/main/tool/versions", headers=alice, json={"name": "1.0"})
    response = client.post("/packages/alice/main/tool/versions", headers=alice, json={"name": "1.0"})
    assert response.status_code == 409 and response.json == {"message": "Version '1.0' already exists"}


def test_latest_is_missing_until_something_is_published(api, client, alice):
    client.post("/packages/alice/main/tool/versions", headers=alice, json={"name": "1.0"})
    response = client.get("/packages/alice/main/tool/versions/_latest")
    assert response.status_code == 404 and response.json == {"message": "Version '_latest' was not found"}
    api.upload("alice", "main", "tool", "1.0", "tool-1.0.jar", b"x", alice, publish=True)
    latest = client.get("/packages/alice/main/tool/versions/_latest?attribute_values=1").json
    assert latest["name"] == "1.0" and latest["published"] is True and latest["released"].endswith("Z")
    assert latest["attributes"] == []


def test_a_published_version_carries_a_ready_share_link(api, client, alice, catalog):
    client.post("/packages/alice/main/tool/versions", headers=alice, json={"name": "1.0"})
    assert "share_url" not in client.get("/packages/alice/main/tool/versions/1.0", headers=alice).json
    api.upload("alice", "main", "tool", "1.0", "tool-1.0.jar", b"x", alice, publish=True)
    share = urlsplit(client.get("/packages/alice/main/tool/versions/1.0").json["share_url"])
    assert (share.scheme, share.netloc, share.path) == ("https", "twitter.com", "/intent/tweet")
    page = f"{catalog.settings.public_base_url}/ui/packages/alice/main/tool/versions/1.0"
    assert parse_qs(share.query) == {"text": ["tool 1.0 is out"], "url": [page]}


def test_versions_are_updated_and_deleted(api, client, alice):
    client.post("/packages/alice/main/tool/versions", headers=alice, json={"name": "1.0"})
    response = client.patch("/packages/alice/main/tool/versions/1.0", headers=alice,
                            json={"desc": "Fixed", "vcs_tag": "v1", "github_release_notes_file": "NOTES.md"})
    assert response.status_code == 200
    assert response.json["desc"] == "Fixed" and response.json["github_release_notes_file"] == "NOTES.md"
    api.upload("alice", "main", "tool", "1.0", "tool-1.0.jar", b"x", alice, publish=True)
    assert client.delete("/packages/alice/main/tool/versions/1.0", headers=alice).json == {"message": "success"}
    assert client.get("/packages/alice/main/tool/versions/1.0").json == {"message": "Version '1.0' was not found"}
    assert client.get("/dl/alice/main/tool-1.0.jar").status_code == 404
    [event] = api.events("catalog.version.deleted")
    assert event["data"] == {"owner": "alice", "repo": "main", "private": False, "package": "tool",
                             "version": "1.0"}


def test_version_changes_need_the_publish_permission(api, client, alice):
    bob = api.user("bob")
    assert client.post("/packages/alice/main/tool/versions", json={"name": "1.0"}).status_code == 401
    assert client.post("/packages/alice/main/tool/versions", headers=bob, json={"name": "1.0"}).status_code == 403
    client.post("/packages/alice/main/tool/versions", headers=alice, json={"name": "1.0"})
    assert client.patch("/packages/alice/main/tool/versions/1.0", headers=bob, json={"desc": "x"}).status_code == 403
    assert client.delete("/packages/alice/main/tool/versions/1.0", headers=bob).status_code == 403
    assert client.get("/packages/alice/main/tool/versions/1.0", headers=bob).json["desc"] is None


def test_version_attributes_and_release_notes(api, client, alice):
    client.post("/packages/alice/main/tool/versions", headers=alice, json={"name": "1.0"})
    base = "/packages/alice/main/tool/versions/1.0"
    client.post(f"{base}/attributes", headers=alice, json=[{"name": "built", "values": ["2016-01-01T00:00:00Z"],
                                                             "type": "date"}])
    assert client.get(base).json["attribute_names"] == ["built"]
    notes = client.post(f"{base}/release_notes", headers=alice, json={"bintray": {"content": "Fixes"}})
    assert notes.json == {"owner": "alice", "repo": "main", "package": "tool", "version": "1.0",
                          "bintray": {"syntax": "markdown", "content": "Fixes"}}
    api.upload("alice", "main", "tool", "1.0", "tool-1.0.jar", b"x", alice, publish=True)
    [released] = api.events("catalog.version.released")
    assert released["data"]["release_notes"] == "Fixes"
