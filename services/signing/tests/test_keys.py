"""GPG keys of users and organizations, with the real gpg."""

import json

import pytest
import sqlalchemy as sa

from signing.models import GpgKey, Membership, Subject

pytestmark = pytest.mark.usefixtures("signing")


@pytest.fixture
def alice(minter):
    return minter.headers("alice", user_id="uid-alice")


def outbox(signing, type_=None):
    with signing.uow() as uow:
        rows = uow.session.execute(sa.text("SELECT type, body FROM outbox ORDER BY id")).all()
    return [(t, json.loads(b)["data"]) for t, b in rows if type_ is None or t == type_]


def test_a_key_pair_is_stored_encrypted_and_shown_without_its_private_part(client, signing, alice, keys):
    public, private, fingerprint, _ = keys.get("alice_pair")
    response = client.put("/me/keys/gpg", json={"public_key": public, "private_key": private}, headers=alice)
    assert response.status_code == 200, response.json
    shown = client.get("/me/keys/gpg", headers=alice).json
    assert shown["fingerprint"] == fingerprint and shown["key_id"] == fingerprint[-16:]
    assert shown["has_private_key"] is True and shown["passphrase_protected"] is False
    assert shown["user_ids"] == ["alice-pair <alice-pair@example.com>"] and shown["algorithm"] == "EdDSA"
    assert shown["expires"] is None and shown["created"].endswith("Z")
    assert "PRIVATE" not in json.dumps(shown)
    with signing.uow() as uow:
        key = uow.session.scalars(sa.select(GpgKey)).one()
        assert "PRIVATE KEY" not in key.private_key_ciphertext
        assert signing.vault.open(key.private_key_ciphertext) == private
    [(_, event)] = outbox(signing, "signing.key.uploaded")
    assert event == {"subject": "alice", "subject_type": "user", "fingerprint": fingerprint,
                     "key_id": fingerprint[-16:], "has_private_key": True, "passphrase_protected": False,
                     "created": shown["created"], "expires": None}
    armored = client.get("/users/alice/keys/gpg/public.key")
    assert armored.status_code == 200 and armored.content_type == "application/pgp-keys"
    assert armored.text.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")


def test_a_passphrase_protected_key_is_flagged(client, signing, alice, keys):
    public, private, _fp, _ = keys.get("alice_protected", passphrase="correct horse")
    assert client.put("/me/keys/gpg", json={"public_key": public, "private_key": private},
                      headers=alice).json["passphrase_protected"] is True
    [(_, event)] = outbox(signing, "signing.key.uploaded")
    assert event["passphrase_protected"] is True


def test_a_public_key_alone_is_stored_without_private_key(client, alice, keys):
    public, _private, _fp, _ = keys.get("alice_pair")
    shown = client.put("/me/keys/gpg", json={"public_key": public}, headers=alice).json
    assert shown["has_private_key"] is False


@pytest.mark.parametrize("case, message", [
    ("garbage", "not an ASCII-armored PGP public key"),
    ("mangled", "could not be read"),
    ("private_as_public", "holds a private key"),
    ("mismatched", "does not match"),
    ("private_garbage", "not an ASCII-armored PGP private key"),
    ("expired", "expired"),
    ("revoked", "revoked"),
])
def test_bad_keys_are_refused_with_a_clear_message_and_change_nothing(client, signing, alice, keys, case, message):
    public, private, _fp, _ = keys.get("alice_pair")
    other_public, other_private, _ofp, _ = keys.get("bob_pair")
    body = {
        "garbage": {"public_key": "hello"},
        "mangled": {"public_key": public[:60] + "AAAA" + public[64:200] + public[-40:]},
        "private_as_public": {"public_key": private},
        "mismatched": {"public_key": public, "private_key": other_private},
        "private_garbage": {"public_key": public, "private_key": "nope"},
        "expired": {"public_key": keys.get("expired", expire="1d", faked_time="20200101T000000")[0]},
        "revoked": {"public_key": keys.revoked("to_revoke")[0]},
    }[case]
    response = client.put("/me/keys/gpg", json=body, headers=alice)
    assert response.status_code == 400 and message in response.json["message"], response.json
    assert "PRIVATE KEY" not in response.json["message"]
    with signing.uow() as uow:
        assert uow.session.scalars(sa.select(GpgKey)).all() == []
    assert outbox(signing) == []


def test_anonymous_callers_get_401_and_unknown_keys_404(client, alice):
    assert client.get("/me/keys/gpg").status_code == 401
    assert client.put("/me/keys/gpg", json={"public_key": "x"}).status_code == 401
    assert client.get("/me/keys/gpg", headers=alice).status_code == 404
    assert client.get("/users/nobody/keys/gpg/public.key").status_code == 404


def test_clearing_needs_the_fingerprint_as_confirmation(client, signing, alice, keys):
    public, private, fingerprint, _ = keys.get("alice_pair")
    client.put("/me/keys/gpg", json={"public_key": public, "private_key": private}, headers=alice)
    refused = client.delete("/me/keys/gpg", headers=alice)
    assert refused.status_code == 400 and fingerprint in refused.json["message"]
    assert client.delete("/me/keys/gpg", json={"fingerprint": "0" * 40}, headers=alice).status_code == 400
    assert client.get("/me/keys/gpg", headers=alice).status_code == 200
    assert client.delete("/me/keys/gpg", json={"fingerprint": fingerprint}, headers=alice).status_code == 200
    assert client.get("/me/keys/gpg", headers=alice).status_code == 404
    assert client.get("/users/alice/keys/gpg/public.key").status_code == 404
    [(_, event)] = outbox(signing, "signing.key.cleared")
    assert event == {"subject": "alice", "subject_type": "user", "fingerprint": fingerprint}


def test_only_org_admins_manage_the_org_key(client, signing, minter, deliver, identity, keys):
    org = identity.org_created("acme", owner="alice")
    deliver(org)
    public, _private, fingerprint, _ = keys.get("acme_pair")
    member = minter.headers("bob", user_id="uid-bob", orgs={"acme": "member"})
    assert client.put("/orgs/acme/keys/gpg", json={"public_key": public}, headers=member).status_code == 403
    stranger = minter.headers("carol", user_id="uid-carol")
    assert client.put("/orgs/acme/keys/gpg", json={"public_key": public}, headers=stranger).status_code == 403
    admin = minter.headers("alice", user_id="uid-alice", orgs={"acme": "admin"})
    assert client.put("/orgs/acme/keys/gpg", json={"public_key": public}, headers=admin).status_code == 200
    assert client.get("/orgs/acme/keys/gpg/public.key").text.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    # the replica of identity's member events is enough when the token carries no claims
    with signing.uow() as uow:
        uow.session.add(Membership(org_id=org.data["org_id"], username="dave", role="admin", revision=1))
        uow.commit()
    replica_admin = minter.headers("dave", user_id="uid-dave")
    assert client.get("/orgs/acme/keys/gpg", headers=replica_admin).json["fingerprint"] == fingerprint
    assert client.get("/orgs/nope/keys/gpg", headers=admin).status_code == 404


def test_a_deleted_user_loses_the_key(client, signing, deliver, identity, minter, keys):
    registered = identity.registered("erin")
    deliver(registered)
    headers = minter.headers("erin", user_id=registered.data["user_id"])
    public, _private, fingerprint, _ = keys.get("erin_pair")
    assert client.put("/me/keys/gpg", json={"public_key": public}, headers=headers).status_code == 200
    deliver(identity.deleted("erin", user_id=registered.data["user_id"]))
    with signing.uow() as uow:
        assert uow.session.scalars(sa.select(GpgKey)).all() == []
        assert uow.session.get(Subject, registered.data["user_id"]).name is None
    assert [e["fingerprint"] for _, e in outbox(signing, "signing.key.cleared")] == [fingerprint]


def test_the_platform_key_is_generated_once_and_published(client, signing):
    assert client.get("/gpg/platform/public.key").status_code == 404
    signing.after_migrate()
    signing.after_migrate()
    first = client.get("/gpg/platform/public.key")
    assert first.status_code == 200 and first.content_type == "application/pgp-keys"
    assert first.text.count("BEGIN PGP PUBLIC KEY BLOCK") == 1


def test_a_configured_platform_key_is_imported_and_becomes_the_newest(make_signing, client, signing, keys):
    signing.after_migrate()
    _public, private, fingerprint, _ = keys.get("platform_next")
    rotated = make_signing(platform_key=private)
    rotated.after_migrate()
    rotated.after_migrate()
    from signing import use_cases
    with rotated.uow() as uow:
        found = use_cases.platform_keys(uow.session)
        assert [k.fingerprint for k in found][0] == fingerprint and len(found) == 2
        assert all("PRIVATE" not in k.private_key_ciphertext for k in found)
    assert client.get("/gpg/platform/public.key").text.count("BEGIN PGP PUBLIC KEY BLOCK") == 2


def test_the_platform_key_rotates_and_old_keys_retire(client, signing, monkeypatch, database_url):
    import argparse

    from signing import commands, use_cases

    signing.after_migrate()
    with signing.uow() as uow:
        [first] = [k.fingerprint for k in use_cases.platform_keys(uow.session)]
    assert commands.rotate_platform_key(signing, argparse.Namespace(import_key=False)) == 0
    with signing.uow() as uow:
        newest, older = [k.fingerprint for k in use_cases.platform_keys(uow.session)]
    assert older == first and newest != first
    assert client.get("/gpg/platform/public.key").text.count("BEGIN PGP PUBLIC KEY BLOCK") == 2
    assert commands.retire_platform_key(signing, argparse.Namespace(fingerprint=first)) == 0
    assert client.get("/gpg/platform/public.key").text.count("BEGIN PGP PUBLIC KEY BLOCK") == 1
    from packyard.errors import Invalid
    with pytest.raises(Invalid, match="last platform key"):
        commands.retire_platform_key(signing, argparse.Namespace(fingerprint=newest))
