"""Signatures of files: catalog's internal API for signing, the file JSON, deletes, and gpg_use_owner_key."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from packyard.testing import free_port

SIGNATURE = b"-----BEGIN PGP SIGNATURE-----\n\niHUEABYIAB0WIQ\n=abcd\n-----END PGP SIGNATURE-----\n"
FINGERPRINT = "3EA78F7B2E2570911515B63575CD272554B3ED00"


@pytest.fixture
def settings_overrides(tmp_path):
    return {"signing_url": f"http://127.0.0.1:{free_port()}"}  # nothing listens there: signing is away


@pytest.fixture
def released(api, alice):
    api.upload("alice", "main", "tool", "1.0", "tool-1.0.jar", b"jar bytes", alice, publish=True)
    api.upload("alice", "main", "tool", "1.0", "tool-1.0.pom", b"pom bytes", alice, publish=True)
    return alice


def put_signature(client, path, actor="alice", body=SIGNATURE, fingerprint=FINGERPRINT, **headers):
    return client.put(f"/internal/signing/signatures/alice/main/{path}", data=body,
                      headers={"X-Signing-Fingerprint": fingerprint, "X-Signing-Actor": actor, **headers})


def files(client, alice):
    return {f["path"]: f for f in client.get("/packages/alice/main/tool/versions/1.0/files", headers=alice).json}


def test_internal_endpoints_refuse_calls_without_the_service_credential(client, released):
    response = client.get("/internal/signing/versions/alice/main/tool/1.0", headers={"X-Service-Token": "wrong"})
    assert response.status_code == 401


def test_signing_reads_a_version_and_its_bytes(client, released):
    version = client.get("/internal/signing/versions/alice/main/tool/1.0?actor=alice").json
    assert version["private"] is False and version["owner_type"] == "user"
    assert [(f["path"], f["size"], f["published"]) for f in version["files"]] == [
        ("tool-1.0.jar", 9, True), ("tool-1.0.pom", 9, True)]
    assert client.get("/internal/signing/versions/alice/main/tool/1.0").status_code == 200  # automatic signing
    content = client.get("/internal/signing/content/alice/main/tool-1.0.jar")
    assert content.status_code == 200 and content.data == b"jar bytes"
    one = client.get("/internal/signing/files/alice/main/tool-1.0.pom?actor=alice").json
    assert (one["package"], one["version"], one["sha256"]) == ("tool", "1.0", version["files"][1]["sha256"])


def test_someone_who_cannot_publish_gets_403_or_404(api, client, released):
    api.user("mallory")
    assert client.get("/internal/signing/versions/alice/main/tool/1.0?actor=mallory").status_code == 403
    assert client.get("/internal/signing/files/alice/main/tool-1.0.jar?actor=nobody").status_code == 404
    assert put_signature(client, "tool-1.0.jar", actor="mallory").status_code == 403
    assert "signed" not in [k for k, v in files(client, released)["tool-1.0.jar"].items() if v is True]


def test_a_signature_becomes_a_published_file_and_the_file_says_it_is_signed(api, client, released):
    response = put_signature(client, "tool-1.0.jar")
    assert response.status_code == 200, response.json
    assert response.json["signature_path"] == "tool-1.0.jar.asc" and response.json["published"] is True
    listed = files(client, released)
    assert listed["tool-1.0.jar"]["signed"] is True
    assert listed["tool-1.0.jar"]["signature_fingerprint"] == FINGERPRINT
    assert listed["tool-1.0.jar"]["signed_at"].endswith("Z")
    assert listed["tool-1.0.jar.asc"]["size"] == len(SIGNATURE) and listed["tool-1.0.pom"]["signed"] is False
    download = client.get("/dl/alice/main/tool-1.0.jar.asc")
    assert download.status_code == 200
    published = [e["data"]["path"] for e in api.events("catalog.file.published")]
    assert published.count("tool-1.0.jar.asc") == 1
    # signing again replaces the signature
    newer = SIGNATURE.replace(b"abcd", b"efgh")
    assert put_signature(client, "tool-1.0.jar", body=newer).status_code == 200
    listed = files(client, released)
    assert listed["tool-1.0.jar.asc"]["size"] == len(newer)
    assert len([p for p in listed if p.endswith(".asc")]) == 1


@pytest.mark.parametrize("body, fingerprint, message", [
    (b"not a signature", FINGERPRINT, "armored PGP signature"),
    (SIGNATURE, "", "fingerprint"),
    (SIGNATURE, "zz; drop", "fingerprint"),
])
def test_bad_signatures_are_refused_and_change_nothing(client, released, body, fingerprint, message):
    response = put_signature(client, "tool-1.0.jar", body=body, fingerprint=fingerprint)
    assert response.status_code == 400 and message in response.json["message"]
    assert "tool-1.0.jar.asc" not in files(client, released)
    assert files(client, released)["tool-1.0.jar"]["signed"] is False


def test_deleting_a_file_deletes_its_signature(api, client, released):
    put_signature(client, "tool-1.0.jar")
    assert client.delete("/content/alice/main/tool-1.0.jar", headers=released).status_code == 200
    assert set(files(client, released)) == {"tool-1.0.pom"}
    deleted = [e["data"]["path"] for e in api.events("catalog.file.deleted")]
    assert sorted(deleted) == ["tool-1.0.jar", "tool-1.0.jar.asc"]


def test_new_bytes_for_a_signed_file_drop_the_old_signature(api, client, released):
    put_signature(client, "tool-1.0.jar")
    api.upload("alice", "main", "tool", "1.0", "tool-1.0.jar", b"other bytes", released, publish=True, override=True)
    listed = files(client, released)
    assert "tool-1.0.jar.asc" not in listed and listed["tool-1.0.jar"]["signed"] is False


def key_event(api, kind, subject="alice", *, private=True, protected=False, time="2026-12-01T10:00:00.000Z"):
    data = {"subject": subject, "subject_type": "user", "fingerprint": FINGERPRINT}
    if kind == "uploaded":
        data.update(key_id=FINGERPRINT[-16:], has_private_key=private, passphrase_protected=protected,
                    created=time, expires=None)
    api.bus.deliver(f"signing.key.{kind}", data, time=time)


def test_gpg_use_owner_key_needs_a_stored_private_key_without_passphrase(api, client, alice):
    refused = client.patch("/repos/alice/main", json={"gpg_use_owner_key": True}, headers=alice)
    assert refused.status_code == 400 and "private key" in refused.json["message"]
    key_event(api, "uploaded", protected=True)
    refused = client.patch("/repos/alice/main", json={"gpg_use_owner_key": True}, headers=alice)
    assert refused.status_code == 400 and "passphrase" in refused.json["message"]
    key_event(api, "uploaded", private=False, time="2026-12-01T10:01:00.000Z")
    assert client.patch("/repos/alice/main", json={"gpg_use_owner_key": True}, headers=alice).status_code == 400
    key_event(api, "uploaded", time="2026-12-01T10:02:00.000Z")
    key_event(api, "uploaded", protected=True, time="2026-12-01T09:00:00.000Z")  # older, arriving late
    accepted = client.patch("/repos/alice/main", json={"gpg_use_owner_key": True}, headers=alice)
    assert accepted.status_code == 200 and accepted.json["gpg_use_owner_key"] is True
    key_event(api, "cleared", time="2026-12-01T10:03:00.000Z")
    response = client.post("/repos/alice/other", json={"gpg_use_owner_key": True}, headers=alice)
    assert response.status_code == 400


def test_an_upload_with_a_passphrase_says_when_signing_could_not_sign(api, client, alice):
    response = api.upload("alice", "main", "tool", "1.0", "tool-1.0.zip", b"zip", alice, publish=True,
                          extra_headers={"X-GPG-PASSPHRASE": "secret words"})
    # signing is not running in this test: the upload stands, unsigned, and says why
    assert response.status_code == 201 and response.json["signed"] is False
    assert "signing" in response.json["signing_error"].lower()
    assert "secret words" not in str(api.events())


def test_signatures_of_one_version_stored_side_by_side_all_land(api, app, client, alice, catalog):
    paths = [f"part-{i}.bin" for i in range(6)]
    for path in paths:
        api.upload("alice", "main", "tool", "1.0", path, path.encode(), alice, publish=True)
    token = catalog.settings.service_token

    def store(path):
        own = app.test_client()
        own.environ_base["HTTP_X_SERVICE_TOKEN"] = token
        return put_signature(own, path).status_code

    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        assert list(pool.map(store, paths)) == [200] * len(paths)
    listed = files(client, alice)
    assert all(listed[p]["signed"] and p + ".asc" in listed for p in paths)


def test_deleting_a_signature_leaves_its_file_unsigned(client, released):
    put_signature(client, "tool-1.0.jar")
    assert client.delete("/content/alice/main/tool-1.0.jar.asc", headers=released).status_code == 200
    listed = files(client, released)
    assert "tool-1.0.jar.asc" not in listed and listed["tool-1.0.jar"]["signed"] is False
    assert listed["tool-1.0.jar"]["signature_fingerprint"] is None
