"""Packages: Bintray's endpoints and JSON, licenses, pagination, attributes, readme and release notes."""

from __future__ import annotations

PACKAGE_KEYS = ["name", "repo", "owner", "desc", "labels", "attribute_names", "licenses", "custom_licenses",
                "followers_count", "created", "website_url", "issue_tracker_url", "github_repo",
                "github_release_notes_file", "public_download_numbers", "public_stats", "linked_to_repos",
                "versions", "latest_version", "updated", "rating", "rating_count", "system_ids", "vcs_url",
                "maturity"]
PUBLISHER_ONLY = {"github_repo", "github_release_notes_file", "public_download_numbers", "public_stats"}


def test_a_package_is_created_with_bintrays_json(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "main", alice)
    response = client.post("/packages/alice/main", headers=alice, json={
        "name": "tool", "desc": "A tool", "labels": ["cli"], "licenses": ["apache-2.0"],
        "vcs_url": "https://github.com/alice/tool.git", "website_url": "https://tool.example.com",
        "github_repo": "alice/tool", "public_download_numbers": True, "unknown_field": 1})
    assert response.status_code == 201
    body = response.json
    assert list(body) == PACKAGE_KEYS
    assert body["licenses"] == ["Apache-2.0"] and body["versions"] == [] and body["latest_version"] is None
    assert body["github_repo"] == "alice/tool" and body["public_download_numbers"] is True
    anonymous = client.get("/packages/alice/main/tool").json
    assert list(anonymous) == [k for k in PACKAGE_KEYS if k not in PUBLISHER_ONLY]
    assert client.get("/packages/alice/main/tool", headers=alice).json == body
    assert client.head("/packages/alice/main/tool").status_code == 200
    assert client.head("/packages/alice/main/nope").status_code == 404
    [event] = api.events("catalog.package.created")
    assert event["subject"] == "alice/main/tool"
    assert event["data"]["package"] == "tool" and event["data"]["licenses"] == ["Apache-2.0"]


def test_public_packages_need_an_oss_license_and_a_vcs_url(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "main", alice)
    cases = [({"name": "p", "vcs_url": "https://github.com/a/b"}, "Package license is mandatory"),
             ({"name": "p", "licenses": ["Made-Up"], "vcs_url": "https://github.com/a/b"},
              "License 'Made-Up' does not exist"),
             ({"name": "p", "licenses": ["MIT"]}, "Please enter a valid VCS URL for your OSS package."),
             ({"name": "p", "licenses": ["MIT"], "vcs_url": "not a url"},
              "Please enter a valid VCS URL for your OSS package.")]
    for body, message in cases:
        response = client.post("/packages/alice/main", json=body, headers=alice)
        assert response.status_code == 400 and response.json == {"message": message}
    assert client.get("/packages/alice/main/p").status_code == 404
    assert api.events("catalog.package.created") == []


def test_private_packages_need_neither(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "corp", alice, private=True)
    response = client.post("/packages/alice/corp", json={"name": "internal", "custom_licenses": ["Corp-EULA"]},
                           headers=alice)
    assert response.status_code == 201 and response.json["licenses"] == []


def test_bad_package_input_answers_400(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "main", alice)
    for body in ({}, {"name": ""}, {"name": "bad/name"}, {"name": "ok", "licenses": "MIT"},
                 {"name": "ok", "licenses": ["MIT"], "vcs_url": "https://x.org/y", "maturity": "Ancient"},
                 {"name": "ok", "licenses": ["MIT"], "vcs_url": "https://x.org/y", "website_url": "ftp://x"}):
        response = client.post("/packages/alice/main", json=body, headers=alice)
        assert response.status_code == 400, (body, response.json)
    assert client.get("/repos/alice/main/packages").json == []


def test_a_duplicate_package_answers_409(api, client, alice):
    response = client.post("/packages/alice/main", headers=alice,
                           json={"name": "tool", "licenses": ["MIT"], "vcs_url": "https://github.com/a/b"})
    assert response.status_code == 409 and response.json == {"message": "Package 'tool' already exists"}


def test_creating_packages_needs_credentials_and_the_publish_permission(api, client, alice):
    body = {"name": "x", "licenses": ["MIT"], "vcs_url": "https://github.com/a/b"}
    assert client.post("/packages/alice/main", json=body).status_code == 401
    assert client.post("/packages/alice/main", json=body, headers=api.user("bob")).status_code == 403
    assert client.patch("/packages/alice/main/tool", json={"desc": "x"}, headers=api.headers("bob")).status_code == 403
    assert client.delete("/packages/alice/main/tool", headers=api.headers("bob")).status_code == 403
    assert client.get("/repos/alice/main/packages").json == [{"name": "tool", "linked": False}]


def test_a_package_is_updated_and_deleted(api, client, alice):
    response = client.patch("/packages/alice/main/tool", headers=alice,
                            json={"desc": "Better", "labels": ["x"], "maturity": "Stable"})
    assert response.status_code == 200
    assert response.json["desc"] == "Better" and response.json["maturity"] == "Stable"
    assert client.patch("/packages/alice/main/tool", headers=alice, json={"licenses": []}).json == \
        {"message": "Package license is mandatory"}
    [updated] = api.events("catalog.package.updated")
    assert updated["data"]["desc"] == "Better" and updated["data"]["revision"] == 2
    assert client.delete("/packages/alice/main/tool", headers=alice).json == {"message": "success"}
    assert client.get("/packages/alice/main/tool").json == {"message": "Package 'tool' was not found"}
    [deleted] = api.events("catalog.package.deleted")
    assert deleted["data"] == {"owner": "alice", "repo": "main", "private": False, "package": "tool"}


def test_package_lists_are_paginated_with_bintrays_headers(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "main", alice, private=True)
    for i in range(55):
        client.post("/packages/alice/main", json={"name": f"pkg-{i:02d}"}, headers=alice)
    client.post("/packages/alice/main", json={"name": "other"}, headers=alice)
    first = client.get("/repos/alice/main/packages", headers=alice)
    assert len(first.json) == 50 and first.json[0] == {"name": "other", "linked": False}
    assert (first.headers["X-RangeLimit-Total"], first.headers["X-RangeLimit-StartPos"],
            first.headers["X-RangeLimit-EndPos"]) == ("56", "0", "49")
    second = client.get("/repos/alice/main/packages?start_pos=50", headers=alice)
    assert len(second.json) == 6 and second.headers["X-RangeLimit-EndPos"] == "55"
    prefixed = client.get("/repos/alice/main/packages?start_name=pkg-5", headers=alice)
    assert [p["name"] for p in prefixed.json] == [f"pkg-5{i}" for i in range(5)]
    assert client.get("/repos/alice/main/packages?start_pos=-1", headers=alice).status_code == 400


def test_latest_version_is_the_latest_published_not_the_highest(api, client, alice):
    for version in ("2.0", "1.0", "3.0"):
        client.post("/packages/alice/main/tool/versions", json={"name": version}, headers=alice)
    api.upload("alice", "main", "tool", "2.0", "t-2.0", b"2", alice, publish=True)
    api.upload("alice", "main", "tool", "1.0", "t-1.0", b"1", alice, publish=True)
    body = client.get("/packages/alice/main/tool").json
    assert body["versions"] == ["3.0", "1.0", "2.0"]  # newest first
    assert body["latest_version"] == "1.0"
    assert client.get("/packages/alice/main/tool/versions/_latest").json["name"] == "1.0"


def test_package_search_finds_public_packages(api, client, alice):
    api.create_package("alice", "main", "other-thing", alice, desc="Does things")
    api.create_repo("alice", "corp", alice, private=True)
    client.post("/packages/alice/corp", json={"name": "tool-secret"}, headers=alice)
    assert [p["name"] for p in client.get("/search/packages?name=tool").json] == ["tool"]
    assert [p["name"] for p in client.get("/search/packages?desc=THINGS").json] == ["other-thing"]
    by_subject = client.get("/search/packages?subject=alice&repo=main")
    assert [p["name"] for p in by_subject.json] == ["other-thing", "tool"]
    assert by_subject.headers["X-RangeLimit-Total"] == "2"
    assert list(by_subject.json[0]) == [k for k in PACKAGE_KEYS if k not in PUBLISHER_ONLY]
    assert client.get("/search/packages").status_code == 400


def test_attributes_are_set_updated_read_and_deleted(api, client, alice):
    url = "/packages/alice/main/tool/attributes"
    response = client.post(url, headers=alice, json=[
        {"name": "stage", "values": ["beta"]}, {"name": "count", "values": [1, 2.5]},
        {"name": "_internal", "values": [True], "type": "boolean"}])
    assert response.status_code == 200
    assert response.json == [{"name": "_internal", "values": [True], "type": "boolean"},
                             {"name": "count", "values": [1, 2.5], "type": "number"},
                             {"name": "stage", "values": ["beta"], "type": "string"}]
    assert [a["name"] for a in client.get(url).json] == ["count", "stage"]  # "_" ones only to publishers
    assert client.get(f"{url}?names=stage").json == [{"name": "stage", "values": ["beta"], "type": "string"}]
    client.patch(url, headers=alice, json=[{"name": "stage", "values": ["ga"]}])
    assert client.get(f"{url}?names=stage,count").json[1]["values"] == ["ga"]
    assert client.get("/packages/alice/main/tool").json["attribute_names"] == ["count", "stage"]
    with_values = client.get("/packages/alice/main/tool?attribute_values=1").json
    assert [a["name"] for a in with_values["attributes"]] == ["count", "stage"]
    assert client.delete(f"{url}?names=count", headers=alice).json == {"message": "success"}
    assert [a["name"] for a in client.get(url, headers=alice).json] == ["_internal", "stage"]
    client.delete(url, headers=alice)
    assert client.get(url, headers=alice).json == []


def test_bad_attributes_answer_400_and_change_nothing(api, client, alice):
    url = "/packages/alice/main/tool/attributes"
    client.post(url, headers=alice, json=[{"name": "keep", "values": ["me"]}])
    for body in ([{"name": "mixed", "values": [1, "a"]}], [{"name": "n", "values": ["x"], "type": "number"}],
                 [{"name": "d", "values": ["yesterday"], "type": "date"}], [{"values": ["x"]}],
                 [{"name": "a", "values": [1]}, {"name": "a", "values": [2]}], {"name": "notalist"}):
        response = client.post(url, headers=alice, json=body)
        assert response.status_code == 400, body
    assert client.get(url).json == [{"name": "keep", "values": ["me"], "type": "string"}]
    assert client.post(url, json=[{"name": "x", "values": [1]}]).status_code == 401
    assert client.post(url, json=[{"name": "x", "values": [1]}], headers=api.user("bob")).status_code == 403


def test_readme_and_release_notes_are_stored_and_read(api, client, alice):
    readme = client.post("/packages/alice/main/tool/readme", headers=alice,
                         json={"bintray": {"syntax": "markdown", "content": "# Tool"}})
    assert readme.status_code == 200
    assert readme.json == {"owner": "alice", "repo": "main", "package": "tool",
                           "bintray": {"syntax": "markdown", "content": "# Tool"}}
    assert client.get("/packages/alice/main/tool/readme").json == readme.json
    notes = client.post("/packages/alice/main/tool/release_notes", headers=alice, json={
        "package": "tool", "repo": "main", "owner": "alice", "bintray": {"syntax": "plain_text", "content": "All"}})
    assert notes.json["bintray"] == {"syntax": "plain_text", "content": "All"}
    github = client.post("/packages/alice/main/tool/readme", headers=alice,
                         json={"github": {"github_repo": "alice/tool"}})
    assert github.json["github"] == {"github_repo": "alice/tool"} and "bintray" not in github.json
    assert client.delete("/packages/alice/main/tool/readme", headers=alice).json == {"message": "success"}
    assert client.get("/packages/alice/main/tool/readme").status_code == 404
    assert client.post("/packages/alice/main/tool/readme", headers=alice, json={}).status_code == 400
    assert client.post("/packages/alice/main/tool/readme", headers=alice,
                       json={"bintray": {"syntax": "rtf", "content": "x"}}).status_code == 400
    assert client.post("/packages/alice/main/tool/readme", json={"bintray": {"content": "x"}}).status_code == 401


def test_the_oss_license_list_is_bintrays(client):
    response = client.get("/licenses/oss_licenses")
    assert response.status_code == 200
    licenses = {entry["name"]: entry for entry in response.json}
    assert {"Apache-2.0", "MIT", "GPL-3.0", "BSD 3-Clause", "AGPL-V3", "Public Domain"} <= set(licenses)
    assert list(licenses["MIT"]) == ["name", "longname", "url"]
    assert licenses["Apache-2.0"]["longname"] == "The Apache Software License, Version 2.0"
