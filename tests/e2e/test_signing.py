"""Signing end to end with the real gpg: keys, Bintray's signing calls, automatic signing, and signatures
that stock ``gpg --verify`` accepts using only the public keys Packyard publishes."""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from packyard.testing import wait_for

pytestmark = pytest.mark.e2e

PASSPHRASE = "correct horse battery staple"


def gpg(home: Path, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--yes", "--pinentry-mode", "loopback", *args],
                          input=input, capture_output=True, check=check)


def new_key(name: str, passphrase: str = "") -> dict:
    """A fresh Ed25519 signing key made by the real gpg: armored public and private parts."""
    home = Path(tempfile.mkdtemp(prefix="e2e-key-"))
    gpg(home, "--passphrase", passphrase, "--quick-generate-key", f"{name} <{name}@example.com>", "ed25519", "sign",
        "0")
    fingerprint = gpg(home, "--list-keys", "--with-colons").stdout.decode().split("fpr:::::::::")[1].split(":")[0]
    return {"fingerprint": fingerprint,
            "public": gpg(home, "--armor", "--export", fingerprint).stdout.decode(),
            "private": gpg(home, "--passphrase", passphrase, "--armor", "--export-secret-keys",
                           fingerprint).stdout.decode()}


def verifies(public_key: bytes, data: bytes, signature: bytes) -> bool:
    """``gpg --verify`` in an empty keyring holding only ``public_key``."""
    with tempfile.TemporaryDirectory(prefix="e2e-verify-") as tmp:
        home, folder = Path(tmp) / "home", Path(tmp)
        home.mkdir(mode=0o700)
        gpg(home, "--import", input=public_key)
        (folder / "file").write_bytes(data)
        (folder / "file.asc").write_bytes(signature)
        result = gpg(home, "--verify", str(folder / "file.asc"), str(folder / "file"), check=False)
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)
        return result.returncode == 0


class Publisher:
    """A user with a repository, a package and a released version of two files."""

    def __init__(self, gw, *, repo_flags: dict | None = None, files: dict[str, bytes] | None = None) -> None:
        self.gw = gw
        self.user = gw.signup()
        self.name = self.user["username"]
        self.headers = gw.login(self.user)
        self.repo = "main"
        response = gw.post(f"/repos/{self.name}/{self.repo}", json={"type": "generic", **(repo_flags or {})},
                           headers=self.headers)
        assert response.status_code == 201, response.text
        response = gw.post(f"/packages/{self.name}/{self.repo}", json={"name": "tool", "licenses": ["MIT"],
                                                                       "vcs_url": "https://example.com/tool.git"},
                           headers=self.headers)
        assert response.status_code == 201, response.text
        self.files = files if files is not None else {"tool-1.0.jar": b"jar bytes " * 100,
                                                      "docs/tool-1.0.pom": b"<project/>"}
        for path, data in self.files.items():
            self.upload(path, data)

    def upload(self, path: str, data: bytes, version: str = "1.0", **headers: str):
        response = self.gw.request("PUT", f"/content/{self.name}/{self.repo}/tool/{version}/{path}?publish=1",
                                   data=data, headers={**self.headers, **headers})
        assert response.status_code == 201, response.text
        return response

    def store_key(self, key: dict, private: bool = True):
        body = {"public_key": key["public"], **({"private_key": key["private"]} if private else {})}
        return self.gw.request("PUT", "/me/keys/gpg", json=body, headers=self.headers)

    def download(self, path: str):
        return self.gw.get(f"/dl/{self.name}/{self.repo}/{path}")


def test_a_version_signed_with_my_key_verifies_with_only_my_published_public_key(gw):
    me = Publisher(gw)
    key = new_key(me.name, PASSPHRASE)
    stored = me.store_key(key)
    assert stored.status_code == 200 and stored.json()["passphrase_protected"] is True, stored.text
    shown = gw.get("/me/keys/gpg", headers=me.headers).json()
    assert shown["fingerprint"] == key["fingerprint"] and "private_key" not in shown

    signed = gw.post(f"/gpg/{me.name}/main/tool/versions/1.0", headers={**me.headers, "X-GPG-PASSPHRASE": PASSPHRASE})
    assert signed.status_code == 200, signed.text
    assert sorted(signed.json()["files"]) == sorted(me.files)

    public = gw.get(f"/users/{me.name}/keys/gpg/public.key")
    assert public.status_code == 200 and public.headers["Content-Type"].startswith("application/pgp-keys")
    for path, data in me.files.items():  # downloadable at once, through the gateway
        file, signature = me.download(path), me.download(path + ".asc")
        assert file.status_code == 200 and signature.status_code == 200, (path, signature.status_code)
        assert file.content == data and signature.content.startswith(b"-----BEGIN PGP SIGNATURE-----")
        assert verifies(public.content, file.content, signature.content)
        assert not verifies(public.content, file.content + b"tampered", signature.content)

    listed = {f["path"]: f for f in gw.get(f"/packages/{me.name}/main/tool/versions/1.0/files").json()}
    assert listed["tool-1.0.jar"]["signed"] is True
    assert listed["tool-1.0.jar"]["signature_fingerprint"] == key["fingerprint"]
    assert listed["tool-1.0.jar.asc"]["signed"] is False

    # one file, with the passphrase in the body; signing again replaces the signature
    before = me.download("tool-1.0.jar.asc").content
    again = gw.post(f"/gpg/{me.name}/main/tool-1.0.jar", json={"passphrase": PASSPHRASE}, headers=me.headers)
    assert again.status_code == 200 and again.json()["files"] == ["tool-1.0.jar"], again.text
    after = wait_for(lambda: (me.download("tool-1.0.jar.asc").content != before) and me.download("tool-1.0.jar.asc"),
                     timeout=5, message="the new signature served")
    assert verifies(public.content, me.files["tool-1.0.jar"], after.content)
    names = [f["path"] for f in gw.get(f"/packages/{me.name}/main/tool/versions/1.0/files").json()]
    assert names.count("tool-1.0.jar.asc") == 1

    # deleting a file deletes its signature
    assert gw.request("DELETE", f"/content/{me.name}/main/tool-1.0.jar", headers=me.headers).status_code == 200
    names = [f["path"] for f in gw.get(f"/packages/{me.name}/main/tool/versions/1.0/files").json()]
    assert "tool-1.0.jar.asc" not in names
    # the gateway may reuse its download decision for DOWNLOAD_DECISION_TTL seconds
    wait_for(lambda: me.download("tool-1.0.jar.asc").status_code == 404, timeout=10, interval=0.5,
             message="the signature gone with its file")

    events = [json.loads(b)["data"] for (b,) in gw.query("signing", "SELECT body FROM outbox WHERE type = "
                                                                    "'signing.version.signed'")]
    mine = [e for e in events if e["owner"] == me.name]
    assert mine and mine[0]["fingerprint"] == key["fingerprint"] and mine[0]["signed_by"] == me.name
    assert mine[0]["automatic"] is False and mine[0]["platform_key"] is False


def test_a_key_sent_with_the_request_signs_without_being_stored(gw):
    me = Publisher(gw, files={"a.txt": b"a"})
    key = new_key(me.name)
    signed = gw.post(f"/gpg/{me.name}/main/a.txt", json={"private_key": key["private"]}, headers=me.headers)
    assert signed.status_code == 200, signed.text
    assert verifies(key["public"].encode(), b"a", me.download("a.txt.asc").content)
    assert gw.get("/me/keys/gpg", headers=me.headers).status_code == 404


def test_the_platform_key_signs_releases_of_repositories_that_ask(gw):
    me = Publisher(gw, repo_flags={"gpg_sign_files": True})
    platform_key = gw.get("/gpg/platform/public.key")
    assert platform_key.status_code == 200 and platform_key.headers["Content-Type"].startswith("application/pgp-keys")
    for path, data in me.files.items():
        signature = wait_for(lambda p=path: me.download(p + ".asc").status_code == 200 and me.download(p + ".asc"),
                             timeout=30, message=f"automatic signature of {path}")
        assert verifies(platform_key.content, data, signature.content)
        assert not verifies(platform_key.content, data[:-1], signature.content)
    [(body,)] = gw.query("signing", "SELECT body FROM outbox WHERE type = 'signing.version.signed' AND subject = :s",
                         s=f"{me.name}/main/tool/1.0")
    data = json.loads(body)["data"]
    assert data["automatic"] is True and data["platform_key"] is True and data["signed_by"] is None
    # a file published later into the released version is signed too
    me.upload("late.txt", b"published after the release")
    late = wait_for(lambda: me.download("late.txt.asc").status_code == 200 and me.download("late.txt.asc"),
                    timeout=30, interval=0.25, message="automatic signature of a file published after the release")
    assert verifies(platform_key.content, b"published after the release", late.content)


def test_the_owners_unattended_key_signs_releases_and_a_failure_is_announced(gw):
    me = Publisher(gw, files={})
    protected = new_key(me.name, PASSPHRASE)
    assert me.store_key(protected).status_code == 200
    def set_flag():
        return gw.request("PATCH", f"/repos/{me.name}/main", json={"gpg_use_owner_key": True}, headers=me.headers)

    wait_for(lambda: "passphrase" in set_flag().json()["message"], timeout=15,
             message="catalog refusing the flag for a passphrase-protected key")
    key = new_key(me.name)
    assert me.store_key(key).status_code == 200
    accepted = wait_for(lambda: (r := set_flag()).status_code == 200 and r, timeout=15,
                        message="catalog learning of the unattended key")
    assert accepted.json()["gpg_use_owner_key"] is True
    me.upload("b.bin", b"b" * 1000)
    signature = wait_for(lambda: me.download("b.bin.asc").status_code == 200 and me.download("b.bin.asc"),
                         timeout=30, message="automatic signature with the owner's key")
    assert verifies(gw.get(f"/users/{me.name}/keys/gpg/public.key").content, b"b" * 1000, signature.content)

    # the key goes away: the next release cannot be signed, and the publisher is told
    cleared = gw.request("DELETE", "/me/keys/gpg", json={"fingerprint": key["fingerprint"]}, headers=me.headers)
    assert cleared.status_code == 200
    me.upload("c.bin", b"c", version="2.0")
    failed = wait_for(lambda: gw.query("signing", "SELECT body FROM outbox WHERE type = "
                                                  "'signing.version.signing_failed' AND subject = :s",
                                       s=f"{me.name}/main/tool/2.0"), timeout=30, message="the failure announced")
    data = json.loads(failed[0][0])["data"]
    assert data["recipients"] == [me.name] and data["automatic"] is True and "key" in data["reason"]


def test_an_upload_with_x_gpg_passphrase_is_signed_with_the_owners_key(gw):
    me = Publisher(gw, files={})
    key = new_key(me.name, PASSPHRASE)
    assert me.store_key(key).status_code == 200
    response = me.upload("up.zip", b"zip bytes", **{"X-GPG-PASSPHRASE": PASSPHRASE})
    assert response.json() == {"message": "success", "signed": True}
    assert verifies(key["public"].encode(), b"zip bytes", me.download("up.zip.asc").content)
    wrong = me.upload("up2.zip", b"zip 2", **{"X-GPG-PASSPHRASE": "not it"})
    assert wrong.json()["signed"] is False and "passphrase" in wrong.json()["signing_error"].lower()
    assert me.download("up2.zip").status_code == 200 and me.download("up2.zip.asc").status_code == 404


def test_bad_signing_requests_get_a_clear_4xx_and_change_nothing(gw):
    me = Publisher(gw, files={"x.txt": b"x"})
    url = f"/gpg/{me.name}/main/tool/versions/1.0"
    no_key = gw.post(url, headers=me.headers)
    assert no_key.status_code == 400 and "no GPG key" in no_key.json()["message"]
    key = new_key(me.name, PASSPHRASE)
    assert me.store_key(key, private=False).status_code == 200
    public_only = gw.post(url, headers={**me.headers, "X-GPG-PASSPHRASE": PASSPHRASE})
    assert public_only.status_code == 400 and "private key" in public_only.json()["message"]
    assert me.store_key(key).status_code == 200
    missing = gw.post(url, headers=me.headers)
    assert missing.status_code == 400 and "X-GPG-PASSPHRASE" in missing.json()["message"]
    wrong = gw.post(url, headers={**me.headers, "X-GPG-PASSPHRASE": "wrong"})
    assert wrong.status_code == 400 and "passphrase is wrong" in wrong.json()["message"]
    garbage = gw.post(url, json={"private_key": "-----BEGIN PGP PRIVATE KEY BLOCK-----\nnope"}, headers=me.headers)
    assert garbage.status_code == 400
    stranger = Publisher(gw, files={"s.txt": b"s"})
    assert gw.post(url, headers={**stranger.headers, "X-GPG-PASSPHRASE": PASSPHRASE}).status_code == 403
    other_key = gw.post(f"/gpg/{stranger.name}/main/tool/versions/1.0", json={"subject": me.name},
                        headers=stranger.headers)
    assert other_key.status_code == 403 and "may not sign with the GPG key" in other_key.json()["message"]
    assert gw.post(url).status_code == 401
    assert gw.post(f"/gpg/{me.name}/nope/tool/versions/1.0", headers=me.headers).status_code == 404
    no_confirmation = gw.request("DELETE", "/me/keys/gpg", headers=me.headers)
    assert no_confirmation.status_code == 400 and key["fingerprint"] in no_confirmation.json()["message"]
    assert me.download("x.txt.asc").status_code == 404
    for response in (no_key, public_only, missing, wrong, garbage):
        assert PASSPHRASE not in response.text and "PRIVATE KEY" not in response.text


def test_while_catalog_is_down_signing_answers_503_and_catches_up_after(gw):
    me = Publisher(gw, files={"y.txt": b"y"})
    key = new_key(me.name)
    assert me.store_key(key).status_code == 200
    auto = Publisher(gw, repo_flags={"gpg_sign_files": True}, files={})
    gw.platform.kill("signing-worker", signal.SIGTERM)
    try:
        auto.upload("late.bin", b"late")  # released while signing's worker is away
        gw.platform.kill("catalog-api")
        try:
            down = gw.post(f"/gpg/{me.name}/main/y.txt", headers=me.headers)
            assert down.status_code == 503 and "catalog" in down.json()["message"].lower()
            assert PASSPHRASE not in down.text
            gw.platform.restart("signing-worker")
            wait_for(lambda: gw.query("signing", "SELECT 1 FROM signing_jobs WHERE owner = :o AND attempts > 0",
                                      o=auto.name), timeout=30, message="an automatic signing waiting for catalog")
        finally:
            gw.platform.restart("catalog-api")
    finally:
        gw.platform.restart("signing-worker")
    assert gw.post(f"/gpg/{me.name}/main/y.txt", headers=me.headers).status_code == 200
    wait_for(lambda: auto.download("late.bin.asc").status_code == 200, timeout=60, message="signed after the outage")
    wait_for(lambda: not gw.query("signing", "SELECT 1 FROM signing_jobs WHERE owner = :o", o=auto.name),
             timeout=30, interval=0.25, message="every automatic signing done")


def test_no_private_key_or_passphrase_is_stored_logged_or_published_in_plaintext(gw):
    me = Publisher(gw, files={"z.txt": b"z"})
    secret = "a passphrase nobody may ever read " + me.name
    key = new_key(me.name, secret)
    assert me.store_key(key).status_code == 200
    assert gw.post(f"/gpg/{me.name}/main/z.txt", headers={**me.headers, "X-GPG-PASSPHRASE": secret}).status_code == 200
    me.upload("z2.txt", b"z2", **{"X-GPG-PASSPHRASE": secret})
    assert gw.post(f"/gpg/{me.name}/main/z.txt", headers={**me.headers, "X-GPG-PASSPHRASE": "wrong " + secret}
                   ).status_code == 400
    wait_for(lambda: gw.query("catalog", "SELECT 1 FROM gpg_keys WHERE subject = :s", s=me.name), timeout=15)
    private_body = "".join(key["private"].splitlines()[2:6])  # a stretch of the armored key material
    needles = [secret, private_body, "PRIVATE KEY BLOCK"]
    for service in ("identity", "social", "catalog", "notifier", "signing"):
        tables = [t for (t,) in gw.query(service, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        for table in tables:
            rows = gw.query(service, f'SELECT CAST(t AS text) FROM "{table}" AS t')
            text = "\n".join(r[0] for r in rows)
            for needle in needles:
                assert needle not in text, f"{needle[:20]}... found in {service}.{table}"
    # every log line of every process, the gateway's files, and whatever the throwaway GnuPG homes left
    for path in gw.platform.var_dir.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 64 * 1024 * 1024:
            data = path.read_bytes()
            for needle in needles:
                assert needle.encode() not in data, f"{needle[:20]}... found in {path}"
    for queue in ("signing.dlq", "catalog.dlq", "social.dlq", "notifier.dlq", "identity.dlq"):
        for _props, body in gw.queue_messages(queue):
            assert all(needle.encode() not in body for needle in needles)
