"""Ownership claims end to end: filing, the owner's consent or objection, an administrator's decision,
the transfer (files moved, old URLs redirecting, links kept), and who may see what."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from catalog.downloads import DownloadLogIngester
from catalog.models import DownloadCount

JAR = b"the real tool"
PATH = "org/tool/tool-1.0.jar"


@pytest.fixture
def world(api, client, catalog):
    """alice holds alice/main/tool (linked into hub/center); carol says it is hers and has carol/mine."""
    alice = api.user("alice")
    api.create_repo("alice", "main", alice)
    api.create_package("alice", "main", "tool", alice)
    assert api.upload("alice", "main", "tool", "1.0", PATH, JAR, alice, publish=True).status_code == 201
    carol = api.user("carol")
    api.create_repo("carol", "mine", carol)
    api.user("bob")
    api.user("olga")
    api.org("hub", "olga")
    api.create_repo("hub", "center", api.headers("olga"))
    assert client.put("/repository/hub/center/links/alice/main/tool", headers=api.headers("olga")).status_code == 201
    return api


@pytest.fixture
def admin(minter):
    return minter.headers("root", admin=True)


def file_claim(client, headers, target="carol/mine", **extra):
    body = {"reason": "I wrote it", "evidence": "https://github.com/carol/tool", "target": target, **extra}
    return client.post("/packages/alice/main/tool/claims", json=body, headers=headers)


def test_the_owner_consents_and_the_package_moves_with_its_old_urls_redirecting(world, client, catalog):
    carol, alice = world.headers("carol"), world.headers("alice")
    client.post("/webhooks/alice/main/tool", json={"url": "https://alice.example.com/hook"}, headers=alice)
    filed = file_claim(client, carol)
    assert filed.status_code == 201
    claim = filed.json
    assert claim["status"] == "pending" and claim["claimant"] == "carol" and claim["target"] == "carol/mine"
    assert (claim["owner"], claim["repo"], claim["package"]) == ("alice", "main", "tool")
    assert claim["location"] == "alice/main"
    assert [step["action"] for step in claim["history"]] == ["filed"]
    [event] = world.events("catalog.claim.filed")
    assert event["data"]["recipients"] == ["alice"] and event["data"]["reason"] == "I wrote it"
    assert event["data"]["claim_id"] == claim["id"] and event["data"]["answer_due"].endswith("Z")

    consented = client.post(f"/claims/{claim['id']}/consent", json={"message": "fair enough"}, headers=alice)
    assert consented.status_code == 200
    assert consented.json["status"] == "approved" and consented.json["location"] == "carol/mine"
    assert [s["action"] for s in consented.json["history"]] == ["filed", "consented", "transferred"]
    assert consented.json["history"][1]["message"] == "fair enough"

    # the package, its versions and files are carol's now
    package = client.get("/packages/carol/mine/tool")
    assert package.status_code == 200 and package.json["owner"] == "carol" and package.json["versions"] == ["1.0"]
    assert package.json["linked_to_repos"] == ["center"]  # links are kept
    assert client.get("/repos/alice/main/packages").json == []
    new = client.get(f"/dl/carol/mine/{PATH}")
    assert new.status_code == 200 and new.headers["X-Checksum-Sha2"] == hashlib.sha256(JAR).hexdigest()
    assert client.get(f"/dl/hub/center/{PATH}").status_code == 200
    # the old URLs redirect
    old = client.get(f"/dl/alice/main/{PATH}?x=1")
    assert old.status_code == 301 and old.headers["Location"] == f"/dl/carol/mine/{PATH}?x=1"
    api_old = client.get("/packages/alice/main/tool")
    assert api_old.status_code == 301 and api_old.headers["Location"] == "/packages/carol/mine/tool"
    assert client.get(f"/dl/alice/main/{PATH}", headers=world.headers("bob")).status_code == 301
    # the gateway leaves old paths to catalog, whose redirect the client follows
    assert client.get("/internal/downloads/decision", headers={"X-Original-URI": f"/dl/alice/main/{PATH}"}
                      ).status_code == 403
    # carol publishes there now; alice no longer can; alice's webhook went with the package
    assert world.upload("carol", "mine", "tool", "1.1", "org/tool/tool-1.1.jar", b"new", carol).status_code == 201
    assert world.upload("alice", "main", "tool", "1.2", "x.jar", b"x", alice).status_code == 404
    assert client.get("/webhooks/alice", headers=alice).json == []
    [deleted] = world.events("catalog.webhook.deleted")
    assert deleted["data"]["owner"] == "alice" and deleted["data"]["username"] == "alice"

    types = [e["type"] for e in world.events() if e["type"].startswith(("catalog.claim", "catalog.package.own"))]
    assert types == ["catalog.claim.filed", "catalog.claim.consented", "catalog.package.ownership_transferred"]
    [moved] = world.events("catalog.package.ownership_transferred")
    assert moved["subject"] == "carol/mine/tool"
    data = moved["data"]
    assert (data["owner"], data["repo"], data["previous_owner"], data["previous_repo"]) == ("carol", "mine", "alice",
                                                                                          "main")
    assert data["claim_id"] == claim["id"] and data["revision"] == 2
    assert world.events("catalog.claim.consented")[0]["data"]["recipients"] == ["carol"]


def test_downloads_logged_at_the_old_path_count_for_the_moved_file(world, client, catalog):
    claim = file_claim(client, world.headers("carol")).json
    client.post(f"/claims/{claim['id']}/consent", headers=world.headers("alice"))
    logs = catalog.storage.root.parent / "download-logs"
    logs.mkdir()
    (logs / "downloads-gw-2026-11-25.log").write_text(
        f'{{"time":"2026-11-25T10:00:00+00:00","uri":"/dl/alice/main/{PATH}","method":"GET","status":200,'
        '"bytes":13,"range":"","country":"","blob":""}\n')
    assert DownloadLogIngester(catalog.platform.engine, logs).run_once() == 1
    with catalog.platform.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.sum(DownloadCount.count))) == 1
    totals = client.post("/packages/carol/mine/tool/stats/total_downloads",
                         json={"from": "2026-11-25", "to": "2026-11-25"}, headers=world.headers("carol")).json
    assert totals["records"] == [{"version": "1.0", "count": 1}]


def test_an_objection_goes_to_an_administrator_who_decides(world, client, admin):
    claim = file_claim(client, world.headers("carol")).json
    objected = client.post(f"/claims/{claim['id']}/object", json={"message": "it is mine"},
                           headers=world.headers("alice"))
    assert objected.status_code == 200 and objected.json["status"] == "disputed"
    assert world.events("catalog.claim.objected")[0]["data"]["recipients"] == ["carol"]
    assert [c["id"] for c in client.get("/claims?status=disputed", headers=admin).json] == [claim["id"]]
    # only an administrator decides
    refused = client.post(f"/claims/{claim['id']}/decide", json={"decision": "approve"}, headers=world.headers("carol"))
    assert refused.status_code == 403
    decided = client.post(f"/claims/{claim['id']}/decide", json={"decision": "approve", "reason": "commits match"},
                          headers=admin)
    assert decided.status_code == 200 and decided.json["status"] == "approved"
    assert [s["action"] for s in decided.json["history"]] == ["filed", "objected", "approved", "transferred"]
    assert client.get("/packages/carol/mine/tool").status_code == 200
    [event] = world.events("catalog.claim.decided")
    assert event["data"]["decision"] == "approved" and event["data"]["by"] == "root"
    assert event["data"]["recipients"] == ["alice", "carol"] and event["data"]["reason"] == "commits match"


def test_a_rejected_claim_moves_nothing(world, client, admin):
    claim = file_claim(client, world.headers("carol")).json
    client.post(f"/claims/{claim['id']}/object", headers=world.headers("alice"))
    decided = client.post(f"/claims/{claim['id']}/decide", json={"decision": "reject", "reason": "no evidence"},
                          headers=admin)
    assert decided.json["status"] == "rejected"
    assert client.get("/packages/alice/main/tool").status_code == 200
    assert client.get("/packages/carol/mine/tool").status_code == 404
    assert world.events("catalog.package.ownership_transferred") == []
    again = client.post(f"/claims/{claim['id']}/consent", headers=world.headers("alice"))
    assert again.status_code == 409


def test_an_administrator_may_decide_once_the_owner_is_overdue(world, client, admin, catalog):
    claim = file_claim(client, world.headers("carol")).json
    early = client.post(f"/claims/{claim['id']}/decide", json={"decision": "approve"}, headers=admin)
    assert early.status_code == 409 and "has until" in early.json["message"]
    due = datetime.fromisoformat(claim["answer_due"].replace("Z", "+00:00"))
    assert timedelta(days=13) < due - datetime.now(UTC) <= timedelta(days=14)
    catalog.clock = lambda: due + timedelta(seconds=1)
    decided = client.post(f"/claims/{claim['id']}/decide", json={"decision": "approve"}, headers=admin)
    assert decided.status_code == 200 and decided.json["status"] == "approved"
    assert client.get("/packages/carol/mine/tool").status_code == 200


class TestResponseTime:
    @pytest.fixture
    def settings_overrides(self):
        return {"claim_owner_response_days": 3}

    def test_the_owners_time_to_answer_is_configurable(self, world, client):
        claim = file_claim(client, world.headers("carol")).json
        filed = datetime.fromisoformat(claim["filed"].replace("Z", "+00:00"))
        due = datetime.fromisoformat(claim["answer_due"].replace("Z", "+00:00"))
        assert due - filed == timedelta(days=3)


def test_the_claimant_may_withdraw(world, client):
    claim = file_claim(client, world.headers("carol")).json
    assert client.post(f"/claims/{claim['id']}/withdraw", headers=world.headers("alice")).status_code == 403
    withdrawn = client.post(f"/claims/{claim['id']}/withdraw", headers=world.headers("carol"))
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    assert world.events("catalog.claim.withdrawn")[0]["data"]["recipients"] == ["alice"]
    assert client.post(f"/claims/{claim['id']}/consent", headers=world.headers("alice")).status_code == 409
    assert file_claim(client, world.headers("carol")).status_code == 201  # may claim again


def test_only_the_parties_and_administrators_see_a_claim(world, client, admin):
    claim = file_claim(client, world.headers("carol")).json
    url = f"/claims/{claim['id']}"
    assert client.get(url).status_code == 401
    for outsider in ("bob", "olga"):
        response = client.get(url, headers=world.headers(outsider))
        assert response.status_code == 404 and response.json == {"message": f"Claim {claim['id']} was not found"}
        assert client.post(url + "/consent", headers=world.headers(outsider)).status_code == 404
        assert client.get("/me/claims", headers=world.headers(outsider)).json == []
    for party in ("alice", "carol"):
        assert client.get(url, headers=world.headers(party)).json["id"] == claim["id"]
        mine = client.get("/me/claims", headers=world.headers(party))
        assert [c["id"] for c in mine.json] == [claim["id"]] and mine.headers["X-RangeLimit-Total"] == "1"
    assert client.get(url, headers=admin).status_code == 200
    assert client.get("/claims", headers=world.headers("alice")).status_code == 403
    assert [c["id"] for c in client.get("/claims?status=pending", headers=admin).json] == [claim["id"]]
    assert client.get("/claims?status=approved", headers=admin).json == []
    assert client.get("/claims?status=lost", headers=admin).status_code == 400
    # the claimant cannot answer for the owner
    assert client.post(url + "/consent", headers=world.headers("carol")).status_code == 403
    assert client.post(url + "/object", headers=world.headers("carol")).status_code == 403


def test_an_organizations_admins_answer_for_its_packages(api, client):
    for name in ("olga", "adam", "mia", "carol"):
        api.user(name)
    api.org("acme", "olga", members=["mia"], admins=["adam"])
    api.create_repo("acme", "libs", api.headers("olga"))
    api.create_package("acme", "libs", "lib", api.headers("olga"))
    api.create_repo("carol", "mine", api.headers("carol"))
    claim = client.post("/packages/acme/libs/lib/claims", json={"reason": "mine", "evidence": "e",
                                                               "target": "carol/mine"},
                        headers=api.headers("carol")).json
    assert api.events("catalog.claim.filed")[0]["data"]["recipients"] == ["adam", "olga"]
    assert client.post(f"/claims/{claim['id']}/consent", headers=api.headers("mia")).status_code == 404
    assert [c["id"] for c in client.get("/me/claims", headers=api.headers("adam")).json] == [claim["id"]]
    assert client.post(f"/claims/{claim['id']}/consent", headers=api.headers("adam")).json["status"] == "approved"
    assert client.get("/packages/carol/mine/lib").status_code == 200


def test_bad_claims_are_refused_and_change_nothing(world, client):
    carol, alice = world.headers("carol"), world.headers("alice")
    assert file_claim(client, {}).status_code == 401
    assert client.post("/packages/alice/main/tool/claims", json={"target": "carol/mine"}, headers=carol
                       ).status_code == 400
    assert file_claim(client, carol, reason="  ").status_code == 400
    assert file_claim(client, alice, target="alice/main").status_code == 400  # already hers
    assert file_claim(client, carol, target="carol").status_code == 400
    assert file_claim(client, carol, target="carol/nowhere").status_code == 404
    assert file_claim(client, carol, target="alice/main").status_code == 403  # cannot publish there
    world.create_repo("carol", "private", carol, private=True)
    refused = file_claim(client, carol, target="carol/private")
    assert refused.status_code == 400 and "public" in refused.json["message"]
    assert client.post("/packages/alice/main/nothing/claims", json={"reason": "r", "evidence": "e",
                                                                    "target": "carol/mine"},
                       headers=carol).status_code == 404
    world.create_repo("alice", "secret", alice, private=True)
    world.create_package("alice", "secret", "hidden", alice)
    assert client.post("/packages/alice/secret/hidden/claims", json={"reason": "r", "evidence": "e",
                                                                     "target": "carol/private"},
                       headers=carol).status_code == 404  # a private package carol cannot see
    assert world.events("catalog.claim.filed") == []
    assert file_claim(client, carol).status_code == 201
    duplicate = file_claim(client, carol)
    assert duplicate.status_code == 409 and "already have an open claim" in duplicate.json["message"]
    assert client.get("/claims/99999", headers=carol).status_code == 404


def test_a_transfer_that_cannot_happen_changes_nothing(world, client):
    carol = world.headers("carol")
    world.create_package("carol", "mine", "tool", carol)  # the name is taken in carol's repository
    claim = file_claim(client, carol).json
    response = client.post(f"/claims/{claim['id']}/consent", headers=world.headers("alice"))
    assert response.status_code == 409 and "already has a package named 'tool'" in response.json["message"]
    assert client.get(f"/claims/{claim['id']}", headers=carol).json["status"] == "pending"
    assert world.events("catalog.claim.consented") == []
    assert client.get(f"/dl/alice/main/{PATH}").status_code == 200


def test_a_file_path_taken_in_the_target_blocks_the_transfer(world, client):
    carol = world.headers("carol")
    world.create_package("carol", "mine", "other", carol)
    world.upload("carol", "mine", "other", "1", PATH, b"clash", carol)
    claim = file_claim(client, carol).json
    response = client.post(f"/claims/{claim['id']}/consent", headers=world.headers("alice"))
    assert response.status_code == 409 and PATH in response.json["message"]


@pytest.fixture
def rival(world):
    """dave also says alice's package is his, and has dave/his to take it."""
    dave = world.user("dave")
    world.create_repo("dave", "his", dave)
    return dave


def test_a_transfer_closes_the_other_open_claims_and_tells_their_claimants(world, rival, client, admin):
    carols = file_claim(client, world.headers("carol")).json
    daves = file_claim(client, rival, target="dave/his").json
    assert client.post(f"/claims/{daves['id']}/consent", headers=world.headers("alice")).status_code == 200
    assert client.get("/packages/dave/his/tool").status_code == 200

    closed = client.get(f"/claims/{carols['id']}", headers=world.headers("carol")).json
    assert closed["status"] == "closed" and closed["location"] == "dave/his"
    assert [s["action"] for s in closed["history"]] == ["filed", "closed"]
    [event] = world.events("catalog.claim.closed")
    assert event["subject"] == "alice/main/tool"
    data = event["data"]
    assert data["claim_id"] == carols["id"] and data["recipients"] == ["carol"] and data["claimant"] == "carol"
    assert (data["closed_by_claim"], data["now_owner"], data["now_repo"]) == (daves["id"], "dave", "his")
    assert [c["id"] for c in client.get("/claims?status=closed", headers=admin).json] == [carols["id"]]

    # the stale claim can no longer move dave's package, whoever answers it
    for url, headers, body in ((f"/claims/{carols['id']}/consent", world.headers("alice"), None),
                               (f"/claims/{carols['id']}/object", world.headers("alice"), None),
                               (f"/claims/{carols['id']}/decide", admin, {"decision": "approve"})):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 409 and response.json["message"] == f"Claim {carols['id']} is closed", url
    assert client.get("/packages/dave/his/tool").status_code == 200
    assert client.get("/packages/carol/mine/tool").status_code == 404


def test_a_claim_answers_409_once_its_package_is_no_longer_where_it_found_it(world, rival, client, admin, catalog):
    """Even a claim left open (the transfer closes them; here one is reopened behind its back) cannot move a
    package that changed hands after it was filed."""
    carols = file_claim(client, world.headers("carol")).json
    daves = file_claim(client, rival, target="dave/his").json
    client.post(f"/claims/{daves['id']}/consent", headers=world.headers("alice"))
    with catalog.platform.engine.begin() as conn:
        conn.execute(sa.text("UPDATE claims SET status = 'pending', answer_due = filed WHERE id = :id"),
                     {"id": carols["id"]})
    for url, headers, body in ((f"/claims/{carols['id']}/consent", world.headers("alice"), None),
                               (f"/claims/{carols['id']}/object", world.headers("alice"), None),
                               (f"/claims/{carols['id']}/decide", admin, {"decision": "approve"})):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 409 and "no longer in repository 'alice/main'" in response.json["message"]
    assert client.get("/packages/dave/his/tool").status_code == 200
    assert client.get(f"/claims/{carols['id']}", headers=world.headers("carol")).json["status"] == "pending"


def test_a_claim_on_a_deleted_package_answers_409(world, client):
    claim = file_claim(client, world.headers("carol")).json
    assert client.delete("/packages/alice/main/tool", headers=world.headers("alice")).status_code == 200
    response = client.post(f"/claims/{claim['id']}/consent", headers=world.headers("alice"))
    assert response.status_code == 409 and "no longer exists" in response.json["message"]


def test_two_owners_answers_at_once_move_the_package_once(world, rival, app, catalog):
    carols = file_claim(app.test_client(), world.headers("carol")).json
    daves = file_claim(app.test_client(), rival, target="dave/his").json
    barrier = threading.Barrier(2)
    answers = {}

    def consent(claim_id):
        client = app.test_client()
        barrier.wait()
        answers[claim_id] = client.post(f"/claims/{claim_id}/consent", headers=world.headers("alice")).status_code

    threads = [threading.Thread(target=consent, args=(c["id"],)) for c in (carols, daves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answers.values()) == [200, 409]
    assert len(world.events("catalog.package.ownership_transferred")) == 1
    assert len(world.events("catalog.claim.closed")) == 1


def test_owners_are_told_of_every_claim_filed_against_their_packages(world, rival, client):
    file_claim(client, world.headers("carol"))
    file_claim(client, rival, target="dave/his")
    filed = world.events("catalog.claim.filed")
    assert [(e["data"]["claimant"], e["data"]["recipients"]) for e in filed] == [("carol", ["alice"]),
                                                                                ("dave", ["alice"])]


def test_a_transfer_removes_the_links_that_no_longer_pass_the_link_rules(api, client):
    """A private package linked into another private repository of its owner cannot stay linked there once it
    belongs to someone else: the link goes, with its event, and its files no longer download through it."""
    alice, carol = api.user("alice"), api.user("carol")
    api.create_repo("alice", "secret", alice, private=True)
    api.create_repo("alice", "shelf", alice, private=True)
    api.create_repo("alice", "mirror", alice, private=True)
    api.create_repo("carol", "vault", carol, private=True)
    api.create_package("alice", "secret", "hidden", alice)
    assert api.upload("alice", "secret", "hidden", "1", "h/hidden-1.bin", b"h", alice, publish=True).status_code == 201
    for shelf in ("shelf", "mirror"):
        assert client.put(f"/repository/alice/{shelf}/links/alice/secret/hidden", headers=alice).status_code == 201
    assert client.get("/dl/alice/shelf/h/hidden-1.bin", headers=alice).status_code == 200
    claim = client.post("/packages/alice/secret/hidden/claims", json={"reason": "mine", "evidence": "e",
                                                                      "target": "carol/vault"}, headers=alice)
    assert claim.status_code == 400  # alice cannot claim her own package: carol must see it first
    api.bus.deliver("identity.team.created", {"subject": "alice", "subject_type": "user", "team": "friends",
                                              "members": ["carol"], "allow_repo_creation": False, "revision": 1})
    assert client.put("/repos/alice/secret/permissions", json={"team": "friends", "permission": "read"},
                      headers=alice).status_code in (200, 201)
    claim = client.post("/packages/alice/secret/hidden/claims", json={"reason": "mine", "evidence": "e",
                                                                      "target": "carol/vault"}, headers=carol)
    assert claim.status_code == 201, claim.json
    assert client.post(f"/claims/{claim.json['id']}/consent", headers=alice).status_code == 200
    assert client.get("/packages/carol/vault/hidden", headers=carol).json["linked_to_repos"] == []
    unlinked = api.events("catalog.package.unlinked")
    assert sorted(e["data"]["target_repo"] for e in unlinked) == ["mirror", "shelf"]
    assert {(e["data"]["owner"], e["data"]["repo"], e["data"]["actor"]) for e in unlinked} == {("alice", "secret",
                                                                                                "alice")}
    types = [e["type"] for e in api.events() if e["type"] in ("catalog.package.unlinked",
                                                             "catalog.package.ownership_transferred")]
    assert types[-1] == "catalog.package.ownership_transferred"  # unlinked where it was, then moved
    for shelf in ("shelf", "mirror"):
        assert client.get(f"/dl/alice/{shelf}/h/hidden-1.bin", headers=alice).status_code == 404
    assert client.get("/dl/carol/vault/h/hidden-1.bin", headers=carol).status_code == 200
