"""Signing's own behaviour, with the real gpg and PostgreSQL: whose key signs, automatic signing
and its retries. Catalog is replaced by an in-memory stand-in here (catalog itself, through the
gateway, is in tests/e2e/test_signing.py)."""

import hashlib
import io
import json
import subprocess
import tempfile
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from packyard.auth import Principal
from packyard.consumer import Outcome
from packyard.errors import Forbidden, Invalid, NotFound
from packyard.events import CloudEvent
from signing.catalog import CatalogUnavailable
from signing.models import Membership, SigningJob
from signing.signatures import SignRequest


class FakeCatalog:
    """Catalog's internal API as signing sees it: files, bytes, and the signatures handed back."""

    def __init__(self):
        self.files = {}  # (owner, repo, path) -> (package, version, bytes, published)
        self.signatures = {}
        self.down = False
        self.publishers = {}  # (owner, repo) -> usernames who may publish

    def add(self, owner, repo, package, version, path, data, published=True):
        self.files[(owner, repo, path)] = (package, version, data, published)
        self.publishers.setdefault((owner, repo), {owner})

    def _check(self, owner, repo, actor):
        if self.down:
            raise CatalogUnavailable()
        if (owner, repo) not in self.publishers:
            raise NotFound(f"Repo '{repo}' was not found")
        if actor is not None and actor not in self.publishers[(owner, repo)]:
            raise Forbidden("no publish permission")

    def _json(self, path, package, version, data, published):
        return {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "published": published,
                "package": package, "version": version, "private": False}

    def version(self, owner, repo, package, version, actor, bearer=None):
        self._check(owner, repo, actor)
        files = [self._json(p, *v) for (o, r, p), v in sorted(self.files.items())
                 if (o, r) == (owner, repo) and v[:2] == (package, version)]
        if not files:
            raise NotFound("Version not found")
        return {"package": package, "version": version, "private": False, "files": files}

    def file(self, owner, repo, path, actor, bearer=None):
        self._check(owner, repo, actor)
        if (owner, repo, path) not in self.files:
            raise NotFound(f"File '{path}' was not found")
        signed = self.signatures.get((owner, repo, path))
        return {**self._json(path, *self.files[(owner, repo, path)]),
                "signature_fingerprint": signed[1] if signed else None}

    @contextmanager
    def content(self, owner, repo, path):
        self._check(owner, repo, None)
        yield io.BytesIO(self.files[(owner, repo, path)][2])

    def put_signature(self, owner, repo, path, signature, *, fingerprint, actor, bearer=None):
        self._check(owner, repo, actor)
        self.signatures[(owner, repo, path)] = (signature, fingerprint)
        return {}


@pytest.fixture
def catalog(signing):
    fake = FakeCatalog()
    signing.__dict__["catalog"] = fake  # the cached_property, replaced before the signer is built
    return fake


def verify(public, data, signature):
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "h"
        home.mkdir(mode=0o700)
        def run(*args, **kwargs):
            return subprocess.run(["gpg", "--homedir", str(home), "--batch", *args], capture_output=True, **kwargs)
        run("--import", input=public.encode())
        (Path(tmp) / "f").write_bytes(data)
        (Path(tmp) / "f.asc").write_bytes(signature)
        ok = run("--verify", str(Path(tmp) / "f.asc"), str(Path(tmp) / "f")).returncode == 0
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)
        return ok


def outbox(signing, type_):
    with signing.uow() as uow:
        rows = uow.session.execute(sa.text("SELECT type, body FROM outbox ORDER BY id")).all()
    return [json.loads(b)["data"] for t, b in rows if t == type_]


def store(client, minter, username, key, private=True):
    public, secret, _fp, _home = key
    body = {"public_key": public, **({"private_key": secret} if private else {})}
    response = client.put("/me/keys/gpg", json=body, headers=minter.headers(username, user_id=f"uid-{username}"))
    assert response.status_code == 200, response.json


def test_a_version_is_signed_with_the_stored_key_and_announced(client, signing, catalog, minter, keys):
    key = keys.get("alice_signing", passphrase="s3cret words")
    store(client, minter, "alice", key)
    catalog.add("alice", "main", "tool", "1.0", "a.jar", b"a" * 5000)
    catalog.add("alice", "main", "tool", "1.0", "a.jar.asc", b"old signature")
    signed = signing.signer.sign_request(Principal("alice", "uid-alice"), SignRequest(
        owner="alice", repo="main", package="tool", version="1.0", passphrase="s3cret words"))
    assert signed == ["a.jar"]
    signature, fingerprint = catalog.signatures[("alice", "main", "a.jar")]
    assert fingerprint == key[2] and verify(key[0], b"a" * 5000, signature)
    [event] = outbox(signing, "signing.version.signed")
    assert event["files"] == ["a.jar"] and event["signed_by"] == "alice" and event["automatic"] is False
    assert outbox(signing, "signing.file.signed")[0]["signature_path"] == "a.jar.asc"


def test_whose_key_may_sign(client, signing, catalog, minter, keys, deliver, identity):
    deliver(identity.org_created("acme", owner="alice"))
    store(client, minter, "bob", keys.get("bob_pair"))
    catalog.add("carol", "main", "tool", "1.0", "c.bin", b"c")
    catalog.publishers[("carol", "main")].add("dave")
    carol = Principal("carol", "uid-carol")
    with pytest.raises(Forbidden, match="may not sign with the GPG key of 'bob'"):
        signing.signer.sign_request(carol, SignRequest(owner="carol", repo="main", path="c.bin", subject="bob"))
    with pytest.raises(Invalid, match="'acme' has no GPG key"):  # an org key: for its admins only; acme has none
        with signing.uow() as uow:
            org_id = uow.session.execute(sa.text("SELECT id FROM subjects WHERE name = 'acme'")).scalar()
            uow.session.add(Membership(org_id=org_id, username="carol", role="admin", revision=1))
            uow.commit()
        signing.signer.sign_request(carol, SignRequest(owner="carol", repo="main", path="c.bin", subject="acme"))
    with pytest.raises(Forbidden):  # dave publishes to the repo but is no admin of acme
        signing.signer.sign_request(Principal("dave", "uid-dave"),
                                    SignRequest(owner="carol", repo="main", path="c.bin", subject="acme"))
    with pytest.raises(Forbidden):  # catalog says who may publish
        signing.signer.sign_request(Principal("eve", "uid-eve"), SignRequest(owner="carol", repo="main", path="c.bin",
                                                                             private_key=keys.get("bob_pair")[1]))
    assert catalog.signatures == {}


def test_catalog_down_answers_503_and_changes_nothing(client, signing, catalog, minter, keys):
    store(client, minter, "alice", keys.get("alice_pair"))
    catalog.add("alice", "main", "tool", "1.0", "a.jar", b"a")
    catalog.down = True
    with pytest.raises(CatalogUnavailable) as raised:
        signing.signer.sign_request(Principal("alice", "uid-alice"), SignRequest(owner="alice", repo="main",
                                                                                 path="a.jar"))
    assert raised.value.status == 503
    assert outbox(signing, "signing.file.signed") == []


def released(owner="alice", version="1.0", **flags):
    data = {"owner": owner, "repo": "main", "package": "tool", "version": version, "private": False,
            "publisher": "bob", "released": "2026-12-01T10:00:00.000Z", "files": [], "release_notes": None,
            "gpg_sign_files": False, "gpg_use_owner_key": False, **flags}
    return CloudEvent(type="catalog.version.released", source="/catalog", data=data, subject=f"{owner}/main/tool")


@pytest.fixture
def deliver_release(signing):
    runner = signing.platform.consumer(signing.consumer_queues)
    return lambda event: runner.process("signing.releases", event.to_json().encode())


def jobs(signing):
    """(attempts, next_attempt) of the automatic signings waiting."""
    with signing.uow() as uow:
        return [(j.attempts, j.next_attempt) for j in uow.session.scalars(sa.select(SigningJob)).all()]


def test_a_release_of_a_repository_without_signing_flags_is_left_alone(signing, deliver_release):
    assert deliver_release(released()) == Outcome.PROCESSED
    assert jobs(signing) == []


def test_automatic_signing_waits_for_catalog_and_catches_up(signing, catalog, deliver_release, client):
    signing.after_migrate()
    platform_key = client.get("/gpg/platform/public.key").text
    catalog.add("alice", "main", "tool", "1.0", "a.jar", b"jar")
    catalog.add("alice", "main", "tool", "1.0", "b.jar", b"unpublished", published=False)
    event = released(gpg_sign_files=True)
    assert deliver_release(event) == Outcome.PROCESSED
    assert deliver_release(event) == Outcome.DUPLICATE
    catalog.down = True
    assert signing.signer.run_due_jobs() == 0
    [(attempts, next_attempt)] = jobs(signing)
    assert attempts == 1 and next_attempt > signing.clock()
    catalog.down = False
    with signing.uow() as uow:  # time passes
        uow.session.execute(sa.update(SigningJob).values(next_attempt=signing.clock() - timedelta(seconds=1)))
        uow.commit()
    assert signing.signer.run_due_jobs() == 1
    assert jobs(signing) == []
    signature, _fp = catalog.signatures[("alice", "main", "a.jar")]
    assert verify(platform_key, b"jar", signature) and ("alice", "main", "b.jar") not in catalog.signatures
    [done] = outbox(signing, "signing.version.signed")
    assert done["automatic"] is True and done["platform_key"] is True and done["signed_by"] is None


def test_an_owner_key_that_cannot_sign_unattended_is_reported_to_the_people_concerned(
        signing, catalog, deliver_release, deliver, identity, client, minter, keys):
    deliver(identity.org_created("acme", owner="alice"))
    with signing.uow() as uow:
        org_id = uow.session.execute(sa.text("SELECT id FROM subjects WHERE name = 'acme'")).scalar()
        uow.session.add_all([Membership(org_id=org_id, username="alice", role="owner", revision=1),
                             Membership(org_id=org_id, username="carol", role="admin", revision=1),
                             Membership(org_id=org_id, username="dave", role="member", revision=1)])
        uow.commit()
    admin = minter.headers("alice", user_id="uid-alice", orgs={"acme": "owner"})
    public, secret, _fp, _ = keys.get("acme_protected", passphrase="pw")
    assert client.put("/orgs/acme/keys/gpg", json={"public_key": public, "private_key": secret},
                      headers=admin).status_code == 200
    catalog.add("acme", "main", "tool", "1.0", "a.jar", b"jar")
    deliver_release(released(owner="acme", gpg_use_owner_key=True))
    assert signing.signer.run_due_jobs() == 1
    [failed] = outbox(signing, "signing.version.signing_failed")
    assert failed["recipients"] == ["bob", "alice", "carol"] and failed["automatic"] is True
    assert "passphrase" in failed["reason"] and "pw" not in failed["reason"].split()
    assert jobs(signing) == [] and catalog.signatures == {}


def test_membership_events_keep_the_latest_role(deliver, identity, signing):
    org = identity.org_created("acme")
    deliver(org)
    member = {"org_id": org.data["org_id"], "org": "acme", "user_id": "u1", "username": "bob"}
    deliver(identity.event("identity.member.role_changed", {**member, "role": "admin", "revision": 3}))
    deliver(identity.event("identity.member.added", {**member, "role": "member", "revision": 1}))
    with signing.uow() as uow:
        assert uow.session.get(Membership, (org.data["org_id"], "bob")).role == "admin"
    deliver(identity.event("identity.member.removed", {**member, "revision": 4}))
    with signing.uow() as uow:
        assert uow.session.get(Membership, (org.data["org_id"], "bob")).role is None


def catalog_event(type_, **data):
    return CloudEvent(type=type_, source="/catalog", data=data, subject=f"{data['owner']}/{data['repo']}")


def test_a_file_published_after_the_release_is_signed_too(signing, catalog, deliver_release, client):
    signing.after_migrate()
    platform_key = client.get("/gpg/platform/public.key").text
    flags = {"private": False, "type": "generic", "desc": None, "labels": [], "gpg_sign_metadata": False,
             "created": "2026-12-01T10:00:00.000Z", "updated": "2026-12-01T10:00:00.000Z"}
    deliver_release(catalog_event("catalog.repo.created", owner="alice", repo="main", gpg_sign_files=False,
                                  gpg_use_owner_key=False, revision=1, **flags))
    deliver_release(catalog_event("catalog.repo.updated", owner="alice", repo="main", gpg_sign_files=True,
                                  gpg_use_owner_key=False, revision=3, **flags))
    deliver_release(catalog_event("catalog.repo.updated", owner="alice", repo="main", gpg_sign_files=False,
                                  gpg_use_owner_key=False, revision=2, **flags))  # older, arriving late

    def published(path, repo="main"):
        return catalog_event("catalog.file.published", owner="alice", repo=repo, private=False, package="tool",
                             version="1.0", path=path, size=1, sha1="0" * 40, sha256="0" * 64,
                             download_url=f"http://x/dl/alice/{repo}/{path}", publisher="alice",
                             published="2026-12-01T11:00:00.000Z")

    catalog.add("alice", "main", "tool", "1.0", "late.jar", b"late")
    deliver_release(published("late.jar"))
    deliver_release(published("late.jar.asc"))  # a signature is never signed
    deliver_release(published("other.jar", repo="unsigned"))  # a repository that does not ask
    assert [a for a, _ in jobs(signing)] == [0]
    assert signing.signer.run_due_jobs() == 1
    signature, _fp = catalog.signatures[("alice", "main", "late.jar")]
    assert verify(platform_key, b"late", signature)
    [event] = outbox(signing, "signing.file.signed")
    assert event["path"] == "late.jar" and event["automatic"] is True
    assert outbox(signing, "signing.version.signed") == []
    # already signed (with the release, say): nothing to do
    deliver_release(published("late.jar"))
    assert signing.signer.run_due_jobs() == 1 and len(outbox(signing, "signing.file.signed")) == 1


def test_the_files_of_a_release_are_signed_once_with_their_version(signing, catalog, deliver_release):
    signing.after_migrate()
    flags = {"private": False, "type": "generic", "desc": None, "labels": [], "gpg_sign_metadata": False,
             "created": "2026-12-01T10:00:00.000Z", "updated": "2026-12-01T10:00:00.000Z"}
    deliver_release(catalog_event("catalog.repo.created", owner="alice", repo="main", gpg_sign_files=True,
                                  gpg_use_owner_key=False, revision=1, **flags))
    catalog.add("alice", "main", "tool", "1.0", "a.jar", b"a")
    catalog.add("alice", "main", "tool", "1.0", "b.jar", b"b")
    for path in ("a.jar", "b.jar"):  # as catalog publishes a release: its files, then the release
        deliver_release(catalog_event("catalog.file.published", owner="alice", repo="main", private=False,
                                      package="tool", version="1.0", path=path, size=1, sha1="0" * 40,
                                      sha256="0" * 64, download_url="http://x", publisher="alice",
                                      published="2026-12-01T11:00:00.000Z"))
    deliver_release(released(gpg_sign_files=True))
    assert len(jobs(signing)) == 1
    assert signing.signer.run_due_jobs() == 1
    assert sorted(e["path"] for e in outbox(signing, "signing.file.signed")) == ["a.jar", "b.jar"]
