"""Finding files: package and version listings, search by name or checksum, file_package/file_version."""

from __future__ import annotations

import hashlib

FILE_KEYS = ["name", "path", "repo", "package", "version", "owner", "created", "size", "sha1", "sha256", "signed",
             "signature_fingerprint", "signed_at"]


def test_file_search_by_name_with_wildcards(api, client, alice):
    for path in ("lib/tool-1.0.jar", "lib/tool-1.0.pom", "lib/tool_x.jar", "docs/readme.txt"):
        api.upload("alice", "main", "tool", "1.0", path, path.encode(), alice, publish=True)
    assert sorted(f["name"] for f in client.get("/search/file?name=tool-*.jar").json) == ["tool-1.0.jar"]
    assert sorted(f["name"] for f in client.get("/search/file?name=tool*").json) == \
        ["tool-1.0.jar", "tool-1.0.pom", "tool_x.jar"]
    assert [f["name"] for f in client.get("/search/file?name=tool?x.jar").json] == ["tool_x.jar"]
    assert client.get("/search/file?name=tool%25").json == []  # % is not a wildcard
    response = client.get("/search/file?name=*.jar&subject=alice&repo=main")
    assert len(response.json) == 2 and response.headers["X-RangeLimit-Total"] == "2"
    assert list(response.json[0]) == FILE_KEYS
    assert client.get("/search/file?name=*.jar&subject=bob").json == []
    assert client.get("/search/file?name=*.jar&created_after=2100-01-01T00:00:00.000Z").json == []
    assert len(client.get("/search/file?name=*.jar&created_after=2000-01-01T00:00:00Z").json) == 2


def test_file_search_by_sha1(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "a.bin", b"needle", alice, publish=True)
    sha1 = hashlib.sha1(b"needle").hexdigest()
    [found] = client.get(f"/search/file?sha1={sha1.upper()}").json
    assert found["path"] == "a.bin" and found["sha1"] == sha1
    assert client.get("/search/file?sha1=xyz").status_code == 400
    assert client.get("/search/file").status_code == 400


def test_file_search_never_shows_private_or_unpublished_files(api, client, alice):
    api.create_repo("alice", "secret", alice, private=True)
    client.post("/packages/alice/secret", json={"name": "hidden"}, headers=alice)
    api.upload("alice", "secret", "hidden", "1.0", "secret.jar", b"s", alice, publish=True)
    api.upload("alice", "main", "tool", "1.0", "draft.jar", b"d", alice)
    assert client.get("/search/file?name=*.jar", headers=alice).json == []
    sha1 = hashlib.sha1(b"s").hexdigest()
    assert client.get(f"/search/file?sha1={sha1}", headers=alice).json == []


def test_file_package_and_file_version_name_the_owners_of_a_path(api, client, alice):
    api.upload("alice", "main", "tool", "2.1", "bin/tool", b"t", alice, publish=True)
    package = client.get("/file_package/alice/main/bin/tool")
    assert package.status_code == 200 and package.json["name"] == "tool" and package.json["versions"] == ["2.1"]
    version = client.get("/file_version/alice/main/bin/tool")
    assert version.json["name"] == "2.1" and version.json["package"] == "tool" and version.json["published"] is True
    assert client.get("/file_version/alice/main/bin/nothing").json == {"message": "File 'bin/nothing' was not found"}


def test_listings_show_files_of_the_package_or_one_version(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "t-1.0.jar", b"1", alice, publish=True)
    api.upload("alice", "main", "tool", "2.0", "t-2.0.jar", b"2", alice, publish=True)
    assert [f["path"] for f in client.get("/packages/alice/main/tool/files").json] == ["t-2.0.jar", "t-1.0.jar"]
    assert [f["version"] for f in client.get("/packages/alice/main/tool/versions/1.0/files").json] == ["1.0"]
    assert client.get("/packages/alice/main/nope/files").status_code == 404
