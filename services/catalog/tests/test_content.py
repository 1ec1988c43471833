"""Uploads in Bintray's three forms, publishing, discarding and deleting content."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC

import pytest

from catalog.storage import blob_key


def blobs(catalog):
    root = catalog.storage.root
    return sorted(p.name for p in root.glob("??/??/*"))


def leftovers(catalog):
    incoming = catalog.storage.root / ".incoming"
    return list(incoming.iterdir()) if incoming.exists() else []


def test_upload_by_path_creates_the_version_and_stores_the_file(api, client, alice, catalog):
    response = api.upload("alice", "main", "tool", "1.0", "com/acme/tool-1.0.jar", b"jar bytes", alice)
    assert response.status_code == 201 and response.json == {"message": "success"}
    sha256 = hashlib.sha256(b"jar bytes").hexdigest()
    assert (catalog.storage.root / blob_key(sha256)).read_bytes() == b"jar bytes"
    assert client.get("/packages/alice/main/tool/versions/1.0").json["published"] is False
    [file] = client.get("/packages/alice/main/tool/versions/1.0/files?include_unpublished=1", headers=alice).json
    assert file == {"name": "tool-1.0.jar", "path": "com/acme/tool-1.0.jar", "repo": "main", "package": "tool",
                    "version": "1.0", "owner": "alice", "created": file["created"], "size": 9,
                    "sha1": hashlib.sha1(b"jar bytes").hexdigest(), "sha256": sha256,
                    "signed": False, "signature_fingerprint": None, "signed_at": None}
    types = [e["type"] for e in api.events()]
    assert types[-2:] == ["catalog.version.created", "catalog.usage.changed"]  # nothing published yet


def test_upload_with_bintray_headers(api, client, alice):
    response = client.put("/content/alice/main/dir/tool-2.0.zip", data=b"zip", headers={
        **alice, "X-Bintray-Package": "tool", "X-Bintray-Version": "2.0", "X-Bintray-Publish": "1"})
    assert response.status_code == 201
    assert client.get("/dl/alice/main/dir/tool-2.0.zip").status_code == 200
    assert client.get("/file_version/alice/main/dir/tool-2.0.zip").json["name"] == "2.0"


def test_upload_with_matrix_parameters(api, client, alice):
    response = client.put("/content/alice/main/dir/tool-3.0.tgz;bt_package=tool;bt_version=3.0;publish=1",
                          data=b"tgz", headers=alice)
    assert response.status_code == 201
    [file] = client.get("/packages/alice/main/tool/versions/3.0/files").json
    assert file["path"] == "dir/tool-3.0.tgz" and file["version"] == "3.0"


def test_publish_and_override_come_from_the_query_headers_or_matrix(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "a.txt", b"one", alice)
    again = client.put("/content/alice/main/a.txt;bt_package=tool;bt_version=1.0;override=1", data=b"two",
                       headers=alice)
    assert again.status_code == 201
    third = client.put("/content/alice/main/a.txt", data=b"three", headers={
        **alice, "X-Bintray-Package": "tool", "X-Bintray-Version": "1.0", "X-Bintray-Override": "1"})
    assert third.status_code == 201
    bad = client.put("/content/alice/main/a.txt", data=b"x", headers={
        **alice, "X-Bintray-Package": "tool", "X-Bintray-Version": "1.0", "X-Bintray-Override": "maybe"})
    assert bad.status_code == 400


def test_an_upload_needs_credentials_and_the_publish_permission(api, client, alice, catalog):
    assert api.upload("alice", "main", "tool", "1.0", "a.jar", b"x", {}).status_code == 401
    assert api.upload("alice", "main", "tool", "1.0", "a.jar", b"x", api.user("bob")).status_code == 403
    assert client.get("/packages/alice/main/tool").json["versions"] == []
    assert blobs(catalog) == []


def test_uploads_to_missing_things_answer_404(api, client, alice):
    assert api.upload("alice", "main", "nope", "1.0", "a.jar", b"x", alice).json == \
        {"message": "Package 'nope' was not found"}
    assert api.upload("alice", "gone", "tool", "1.0", "a.jar", b"x", alice).json == \
        {"message": "Repo 'gone' was not found"}


def test_a_wrong_checksum_answers_409_and_stores_nothing(api, client, alice, catalog):
    response = api.upload("alice", "main", "tool", "1.0", "a.jar", b"content", alice,
                          extra_headers={"X-Checksum-Sha2": hashlib.sha256(b"other").hexdigest()})
    assert response.status_code == 409 and "Checksum mismatch" in response.json["message"]
    assert blobs(catalog) == [] and leftovers(catalog) == []
    assert client.get("/packages/alice/main/tool").json["versions"] == []
    good = api.upload("alice", "main", "tool", "1.0", "a.jar", b"content", alice,
                      extra_headers={"X-Checksum-Sha2": hashlib.sha256(b"content").hexdigest().upper()})
    assert good.status_code == 201
    assert api.upload("alice", "main", "tool", "1.0", "b.jar", b"x", alice,
                      extra_headers={"X-Checksum-Sha2": "nothex"}).status_code == 400


def test_an_existing_path_answers_409_unless_overridden(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "a/b.zip", b"one", alice, publish=True)
    response = api.upload("alice", "main", "tool", "1.0", "a/b.zip", b"two", alice)
    assert response.status_code == 409
    assert response.json == {"message": "Unable to upload files: An artifact with the path 'a/b.zip' already exists"}
    assert api.upload("alice", "main", "tool", "1.0", "a/b.zip", b"two", alice, override=True,
                      publish=True).status_code == 201
    [file] = client.get("/packages/alice/main/tool/files").json
    assert file["sha256"] == hashlib.sha256(b"two").hexdigest()
    deleted = api.events("catalog.file.deleted")
    assert [e["data"]["sha256"] for e in deleted] == [hashlib.sha256(b"one").hexdigest()]


def test_a_path_of_another_version_is_never_overwritten(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "shared.txt", b"v1", alice, publish=True)
    api.create_package("alice", "main", "other", alice)
    for package, version in (("tool", "2.0"), ("other", "1.0")):
        response = api.upload("alice", "main", package, version, "shared.txt", b"v2", alice, override=True)
        assert response.status_code == 409 and "another version" in response.json["message"]
    assert client.get("/file_version/alice/main/shared.txt").json["name"] == "1.0"
    assert client.get("/packages/alice/main/tool").json["versions"] == ["1.0"]


@pytest.mark.parametrize("path", ["../escape.jar", "a/../../b.jar", "%2E%2E/x.jar", "a/%2e%2e/b.jar", "/abs.jar",
                                  "a//b.jar", "a/./b.jar", "a\\b.jar", "a%5Cb.jar", "a/b\x01.jar", "a/b%00.jar",
                                  "dir/"])
def test_paths_that_could_escape_are_refused(api, client, alice, catalog, path):
    response = client.put(f"/content/alice/main/tool/1.0/{path}", data=b"x", headers=alice)
    assert response.status_code == 400 and response.json["message"]
    assert client.get(f"/dl/alice/main/a/{path}").status_code == 400
    assert client.get("/packages/alice/main/tool").json["versions"] == []
    assert blobs(catalog) == []


def test_a_path_with_control_characters_is_refused_by_catalog(api, client, alice):
    response = client.put("/content/alice/main/tool/1.0/a/b%01c.jar", data=b"x", headers=alice)
    assert response.status_code == 400 and "control characters" in response.json["message"]
    response = client.put("/content/alice/main/tool/1.0/a/..%2F..%2Fb.jar", data=b"x", headers=alice)
    assert response.status_code == 400


@pytest.fixture
def settings_overrides():
    return {"max_upload_bytes": 1000}


def test_uploads_larger_than_the_limit_are_refused(api, client, alice, catalog):
    response = api.upload("alice", "main", "tool", "1.0", "big.bin", b"x" * 1001, alice)
    assert response.status_code == 413 and response.json["message"]
    # a stream that does not say its length up front (chunked) is cut off at the limit
    response = client.put("/content/alice/main/tool/1.0/big.bin", input_stream=io.BytesIO(b"y" * 5000),
                          headers=alice, environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert blobs(catalog) == [] and leftovers(catalog) == []
    assert api.upload("alice", "main", "tool", "1.0", "ok.bin", b"x" * 1000, alice).status_code == 201


def test_identical_content_is_stored_once(api, client, alice, catalog):
    for i in range(3):
        assert api.upload("alice", "main", "tool", "1.0", f"copy-{i}.bin", b"same bytes", alice).status_code == 201
    assert blobs(catalog) == [hashlib.sha256(b"same bytes").hexdigest()]
    mode = os.stat(catalog.storage.root / blob_key(blobs(catalog)[0])).st_mode & 0o777
    assert mode == 0o644  # readable by the gateway


def test_publishing_a_version_publishes_its_files_and_releases_it_once(api, client, alice, catalog):
    api.upload("alice", "main", "tool", "1.0", "tool-1.0.jar", b"jar", alice)
    api.upload("alice", "main", "tool", "1.0", "tool-1.0.pom", b"pom", alice)
    assert client.get("/dl/alice/main/tool-1.0.jar").status_code == 404  # unpublished: publishers only
    response = api.publish("alice", "main", "tool", "1.0", alice, discard=False, publish_wait_for_secs=-1)
    assert response.status_code == 200 and response.json == {"files": 2}
    assert client.get("/dl/alice/main/tool-1.0.jar").status_code == 200
    assert api.publish("alice", "main", "tool", "1.0", alice).json == {"files": 0}
    [released] = api.events("catalog.version.released")
    data = released["data"]
    assert released["subject"] == "alice/main/tool/1.0"
    assert (data["owner"], data["repo"], data["package"], data["version"]) == ("alice", "main", "tool", "1.0")
    assert data["publisher"] == "alice" and data["released"].endswith("Z") and data["private"] is False
    assert data["files"] == [
        {"path": f"tool-1.0.{ext}", "size": 3, "sha1": hashlib.sha1(ext.encode()).hexdigest(),
         "sha256": hashlib.sha256(ext.encode()).hexdigest(),
         "download_url": f"https://packyard.test/dl/alice/main/tool-1.0.{ext}"} for ext in ("jar", "pom")]
    assert [e["data"]["path"] for e in api.events("catalog.file.published")] == ["tool-1.0.jar", "tool-1.0.pom"]
    # a later file of the same version is published without a second release
    api.upload("alice", "main", "tool", "1.0", "tool-1.0-sources.jar", b"src", alice, publish=True)
    assert len(api.events("catalog.version.released")) == 1
    assert len(api.events("catalog.file.published")) == 3
    version = client.get("/packages/alice/main/tool/versions/1.0").json
    assert version["published"] is True and version["released"] == data["released"]


def test_discarding_removes_unpublished_files_only(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "kept.jar", b"kept", alice, publish=True)
    api.upload("alice", "main", "tool", "1.0", "draft.jar", b"draft", alice)
    response = api.publish("alice", "main", "tool", "1.0", alice, discard=True)
    assert response.json == {"files": 1}
    files = client.get("/packages/alice/main/tool/versions/1.0/files?include_unpublished=1", headers=alice).json
    assert [f["path"] for f in files] == ["kept.jar"]


def test_publishing_needs_credentials_and_the_publish_permission(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "a.jar", b"x", alice)
    assert api.publish("alice", "main", "tool", "1.0", {}).status_code == 401
    assert api.publish("alice", "main", "tool", "1.0", api.user("bob")).status_code == 403
    assert api.publish("alice", "main", "tool", "9.9", alice).json == {"message": "Version '9.9' was not found"}
    assert client.post("/content/alice/main/tool/1.0/publish", json={"discard": "perhaps"},
                       headers=alice).status_code == 400
    assert api.events("catalog.file.published") == []


def test_unpublished_files_are_visible_only_to_publishers(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "draft.jar", b"draft", alice)
    bob = api.user("bob")
    for headers in ({}, bob):
        assert client.get("/packages/alice/main/tool/files?include_unpublished=1", headers=headers).json == []
        assert client.get("/file_package/alice/main/draft.jar", headers=headers).status_code in (401, 404)
    assert client.get("/dl/alice/main/draft.jar", headers=bob).status_code == 404
    assert client.get("/packages/alice/main/tool/files", headers=alice).json == []  # only when asked
    assert len(client.get("/packages/alice/main/tool/files?include_unpublished=1", headers=alice).json) == 1
    assert client.get("/dl/alice/main/draft.jar", headers=alice).status_code == 200
    assert client.get("/search/file?name=draft.jar").json == []


def test_deleting_content_removes_the_file_and_announces_it(api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "dir/a.jar", b"a", alice, publish=True)
    assert client.delete("/content/alice/main/dir/a.jar").status_code == 401
    assert client.delete("/content/alice/main/dir/a.jar", headers=api.user("bob")).status_code == 403
    assert client.delete("/content/alice/main/dir/a.jar", headers=alice).json == {"message": "success"}
    assert client.get("/dl/alice/main/dir/a.jar").status_code == 404
    assert client.delete("/content/alice/main/dir/a.jar", headers=alice).status_code == 404
    [event] = api.events("catalog.file.deleted")
    assert event["data"]["path"] == "dir/a.jar" and event["data"]["version"] == "1.0"
    assert api.upload("alice", "main", "tool", "2.0", "dir/a.jar", b"a2", alice).status_code == 201  # free again


def test_uploading_explodes_nothing(api, client, alice):
    response = client.put("/content/alice/main/tool/1.0/a.zip?explode=1", data=b"zip", headers=alice)
    assert response.status_code == 400
    assert client.put("/content/alice/main/tool", data=b"x", headers=alice).status_code == 400
    assert client.put("/content/alice/main/a.jar", data=b"x",
                      headers={**alice, "X-Bintray-Package": "tool"}).status_code == 400
    assert client.put("/content/alice/main/a.jar", data=b"x", headers={
        **alice, "X-Bintray-Package": "to ol", "X-Bintray-Version": "1.0"}).status_code == 400


def test_a_version_is_released_once_when_two_publishes_race(api, alice, catalog):
    import threading
    from datetime import datetime

    import sqlalchemy as sa

    from catalog.use_cases import content
    from packyard.auth import Principal
    from packyard.testing import wait_for

    api.upload("alice", "main", "tool", "1.0", "a.jar", b"a", alice)
    actor = Principal(username="alice", user_id="uid-alice")
    holding, go_on = threading.Event(), threading.Event()

    def publish_call():
        with catalog.uow() as uow:
            content.publish_version(uow, actor, "alice", "main", "tool", "1.0", discard=False,
                                    now=datetime.now(UTC), base_url="https://packyard.test")
            holding.set()
            go_on.wait(10)
            uow.commit()

    def upload_and_publish():
        content.upload(catalog.uow, catalog.storage, actor,
                       content.Upload("alice", "main", "tool", "1.0", "c.jar", publish=True), io.BytesIO(b"c"),
                       limit=100, base_url="https://packyard.test", clock=catalog.clock)

    first = threading.Thread(target=publish_call)
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=upload_and_publish)
    second.start()

    def waiting_on_a_lock():
        with catalog.platform.engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND datname = current_database()")).scalar_one() > 0
    wait_for(waiting_on_a_lock, timeout=10, message="the second publish waiting for the first")
    go_on.set()
    first.join(10)
    second.join(10)
    assert [e["data"]["files"][0]["path"] for e in api.events("catalog.version.released")] == ["a.jar"]
    assert sorted(e["data"]["path"] for e in api.events("catalog.file.published")) == ["a.jar", "c.jar"]
