"""Social's main flows through the gateway, against the whole platform: follows and the counters
identity keeps from them, watches and reviews with the counters catalog keeps, private packages,
messages and blocking, comments, the activity log and the feed."""

from __future__ import annotations

import json

import pytest

from packyard.testing import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(gw):
    """alice publishes acme-style things of her own; bob and carol are other users."""
    alice, bob, carol = gw.signup(), gw.signup(), gw.signup()
    return {"alice": (alice, gw.login(alice)), "bob": (bob, gw.login(bob)), "carol": (carol, gw.login(carol))}


def _repo_and_package(gw, user, headers, repo, package, private=False):
    name = user["username"]
    assert gw.post(f"/repos/{name}/{repo}", json={"type": "generic", "private": private},
                   headers=headers).status_code == 201
    assert gw.post(f"/packages/{name}/{repo}", json={"name": package, "licenses": ["MIT"],
                                                     "vcs_url": "https://example.com/x.git"},
                   headers=headers).status_code == 201


def _known_to_social(gw, path, headers):
    return wait_for(lambda: gw.request("PUT", path, headers=headers).status_code == 200, timeout=20,
                    message=f"social knowing {path}")


def test_following_drives_identity_followers_count(gw, people):
    (alice, _), (bob, bob_h), (carol, carol_h) = people["alice"], people["bob"], people["carol"]
    name = alice["username"]
    wait_for(lambda: gw.get(f"/users/{name}/activity").status_code == 200, timeout=15)
    assert gw.request("PUT", f"/me/following/{name}", headers=bob_h).status_code == 204
    assert gw.request("PUT", f"/me/following/{name}", headers=bob_h).status_code == 204
    assert gw.request("PUT", f"/me/following/{name}", headers=carol_h).status_code == 204
    followers = gw.get(f"/users/{name}/followers")
    assert {p["name"] for p in followers.json()} == {bob["username"], carol["username"]}
    assert followers.headers["X-RangeLimit-Total"] == "2"
    wait_for(lambda: gw.get(f"/users/{name}").json()["followers_count"] == 2, timeout=15,
             message="identity's followers_count")
    assert gw.request("DELETE", f"/me/following/{name}", headers=bob_h).status_code == 204
    wait_for(lambda: gw.get(f"/users/{name}").json()["followers_count"] == 1, timeout=15)
    assert [p["name"] for p in gw.get(f"/users/{carol['username']}/following").json()] == [name]
    # bad inputs
    assert gw.request("PUT", f"/me/following/{bob['username']}", headers=bob_h).status_code == 400
    assert gw.request("PUT", "/me/following/no-such-user-anywhere", headers=bob_h).status_code == 404
    assert gw.request("PUT", f"/me/following/{name}").status_code == 401


def test_following_an_organization(gw, people):
    (_alice, alice_h), (bob, bob_h) = people["alice"], people["bob"]
    org = gw.unique_name("org")
    assert gw.post("/orgs", json={"name": org}, headers=alice_h).status_code == 201
    _ok = wait_for(lambda: gw.request("PUT", f"/me/following/{org}", headers=bob_h).status_code == 204, timeout=15)
    assert [p["name"] for p in gw.get(f"/orgs/{org}/followers").json()] == [bob["username"]]
    wait_for(lambda: gw.get(f"/orgs/{org}").json()["followers_count"] == 1, timeout=15)
    assert "created_org" in [e["type"] for e in gw.get(f"/orgs/{org}/activity").json()]


def test_watching_reviewing_and_private_packages(gw, people):
    (alice, alice_h), (bob, bob_h), (carol, carol_h) = people["alice"], people["bob"], people["carol"]
    name = alice["username"]
    _repo_and_package(gw, alice, alice_h, "main", "tool")
    _repo_and_package(gw, alice, alice_h, "secret", "hidden", private=True)
    _known_to_social(gw, f"/me/watches/{name}/main/tool", bob_h)
    watch = gw.request("PUT", f"/me/watches/{name}/main/tool", headers=carol_h,
                       json={"filter": {"kind": "regex", "pattern": r"^1\.\d+$"}})
    assert watch.status_code == 200 and watch.json()["filter"]["kind"] == "regex"
    assert {w["name"] for w in gw.get(f"/packages/{name}/main/tool/watchers").json()} == {
        bob["username"], carol["username"]}
    wait_for(lambda: gw.get(f"/packages/{name}/main/tool").json()["followers_count"] == 2, timeout=15,
             message="catalog's followers_count")
    bad = gw.request("PUT", f"/me/watches/{name}/main/tool", headers=carol_h,
                     json={"filter": {"kind": "regex", "pattern": "(a+)+$"}})
    assert bad.status_code in (400, 422) and "repetition" in bad.json()["message"]
    # a private package is not there for strangers, whatever they try
    wait_for(lambda: gw.get(f"/packages/{name}/secret/hidden/watchers", headers=alice_h).status_code == 200,
             timeout=15)
    for method, path in (("PUT", f"/me/watches/{name}/secret/hidden"),
                         ("GET", f"/packages/{name}/secret/hidden/watchers"),
                         ("GET", f"/packages/{name}/secret/hidden/reviews"),
                         ("PUT", f"/packages/{name}/secret/hidden/reviews/mine")):
        response = gw.request(method, path, headers=bob_h, json={"rating": 3} if method == "PUT" else None)
        assert response.status_code == 404, (method, path, response.text)
    # reviews: catalog's rating_count follows
    review = gw.request("PUT", f"/packages/{name}/main/tool/reviews/mine", headers=bob_h,
                        json={"rating": 4, "title": "Good", "body": "Does the job"})
    assert review.status_code == 201, review.text
    assert gw.request("PUT", f"/packages/{name}/main/tool/reviews/mine", headers=carol_h,
                      json={"rating": 2}).status_code == 201
    assert gw.request("PUT", f"/packages/{name}/main/tool/reviews/mine", headers=alice_h,
                      json={"rating": 5}).status_code == 403
    for body in ({"rating": 0}, {"rating": 6}, {"rating": "x"}, {}):
        assert gw.request("PUT", f"/packages/{name}/main/tool/reviews/mine", headers=bob_h,
                          json=body).status_code in (400, 422)
    assert gw.request("PUT", f"/packages/{name}/main/tool/reviews/mine", json={"rating": 3}).status_code == 401
    summary = gw.get(f"/packages/{name}/main/tool/reviews").json()
    assert summary["rating"] == 3.0 and summary["rating_count"] == 2
    wait_for(lambda: gw.get(f"/packages/{name}/main/tool").json()["rating_count"] == 2, timeout=15,
             message="catalog's rating_count")
    assert gw.get(f"/packages/{name}/main/tool").json()["rating"] == 3.0  # the average, as on social's summary
    reply = gw.post(f"/reviews/{review.json()['id']}/reply", json={"body": "Thanks!"}, headers=alice_h)
    assert reply.status_code == 201 and reply.json()["reply"]["body"] == "Thanks!"
    assert gw.post(f"/reviews/{review.json()['id']}/report", json={"reason": "spam"},
                   headers=carol_h).status_code == 202
    assert gw.request("DELETE", f"/me/watches/{name}/main/tool", headers=bob_h).status_code == 204
    wait_for(lambda: gw.get(f"/packages/{name}/main/tool").json()["followers_count"] == 1, timeout=15)


def test_comments_activity_and_feed(gw, people):
    (alice, alice_h), (_bob, bob_h) = people["alice"], people["bob"]
    name = alice["username"]
    _repo_and_package(gw, alice, alice_h, "main", "lib")
    assert gw.post(f"/packages/{name}/main/lib/versions", json={"name": "1.0"}, headers=alice_h).status_code == 201
    path = f"/packages/{name}/main/lib/versions/1.0/comments"
    posted = wait_for(lambda: (r := gw.post(path, json={"body": "**great** <script>x</script>"}, headers=bob_h))
                      .status_code == 201 and r, timeout=15, message="social knowing version 1.0")
    assert "<strong>great</strong>" in posted.json()["html"] and "<script" not in posted.json()["html"]
    assert gw.post(path, json={"body": "x"}).status_code == 401
    assert gw.post(path, json={"body": ""}, headers=bob_h).status_code in (400, 422)
    assert [c["body"] for c in gw.get(path).json()] == ["**great** <script>x</script>"]
    comment_id = posted.json()["id"]
    assert gw.request("PUT", f"{path}/{comment_id}", json={"body": "edited"}, headers=bob_h).status_code == 200
    assert gw.request("DELETE", f"{path}/{comment_id}", headers=alice_h).status_code == 204

    assert gw.request("PUT", f"/me/following/{name}", headers=bob_h).status_code == 204
    kinds = {e["type"] for e in gw.get(f"/users/{name}/activity").json()}
    assert {"joined", "created_repo", "created_package"} <= kinds
    feed = gw.get("/me/feed", headers=bob_h)
    assert feed.status_code == 200 and {"created_repo", "created_package"} <= {e["type"] for e in feed.json()}
    assert gw.get("/me/feed").status_code == 401


def test_messages_blocking_and_limits(gw, people):
    (alice, alice_h), (bob, bob_h) = people["alice"], people["bob"]
    a, b = alice["username"], bob["username"]
    wait_for(lambda: gw.get(f"/users/{b}/activity").status_code == 200, timeout=15)
    sent = gw.post("/me/messages", json={"to": b, "subject": "Hi", "body": "Hello Bob"}, headers=alice_h)
    assert sent.status_code == 201, sent.text
    [conversation] = gw.get("/me/conversations", headers=bob_h).json()
    assert conversation["with"] == a and conversation["unread"] == 1
    assert [m["body"] for m in gw.get(f"/me/conversations/{a}", headers=bob_h).json()] == ["Hello Bob"]
    assert gw.post(f"/me/conversations/{a}/read", headers=bob_h).status_code == 204
    assert gw.get("/me/conversations", headers=bob_h).json()[0]["unread"] == 0
    assert gw.post("/me/messages", json={"to": b, "body": "x" * 10001}, headers=alice_h).status_code == 413
    assert gw.post("/me/messages", json={"to": a, "body": "me"}, headers=alice_h).status_code == 400
    assert gw.post("/me/messages", json={"to": b, "body": "anon"}).status_code == 401
    assert gw.request("PUT", f"/me/blocked/{a}", headers=bob_h).status_code == 204
    assert [p["name"] for p in gw.get("/me/blocked", headers=bob_h).json()] == [a]
    refused = gw.post("/me/messages", json={"to": b, "body": "let me in"}, headers=alice_h)
    assert refused.status_code == 403
    assert len(gw.get(f"/me/conversations/{a}", headers=bob_h).json()) == 1
    assert gw.request("DELETE", f"/me/blocked/{a}", headers=bob_h).status_code == 204
    assert gw.request("DELETE", f"/me/conversations/{a}", headers=bob_h).status_code == 204
    assert gw.get("/me/conversations", headers=bob_h).json() == []
    assert len(gw.get(f"/me/conversations/{b}", headers=alice_h).json()) == 1
    # new conversations per hour: the platform's default limit, then 429 with Retry-After
    limit = int(gw.platform.service_env("social").get("NEW_CONVERSATIONS_PER_HOUR", "10"))
    others = [gw.signup() for _ in range(limit)]
    wait_for(lambda: gw.get(f"/users/{others[-1]['username']}/activity").status_code == 200, timeout=15)
    answers = [gw.post("/me/messages", json={"to": o["username"], "body": "hi"}, headers=alice_h).status_code
               for o in others]
    assert answers[:limit - 1] == [201] * (limit - 1) and answers[-1] == 429
    limited = gw.post("/me/messages", json={"to": others[-1]["username"], "body": "hi"}, headers=alice_h)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_a_deleted_account_leaves_the_others_their_words(gw, people):
    (alice, alice_h), (bob, bob_h), (carol, carol_h) = people["alice"], people["bob"], people["carol"]
    a, b, c = alice["username"], bob["username"], carol["username"]
    _repo_and_package(gw, alice, alice_h, "main", "kit")
    _known_to_social(gw, f"/me/watches/{a}/main/kit", carol_h)
    assert gw.request("PUT", f"/me/following/{b}", headers=carol_h).status_code == 204
    assert gw.request("PUT", f"/packages/{a}/main/kit/reviews/mine", json={"rating": 1, "body": "bad"},
                      headers=carol_h).status_code == 201
    assert gw.post("/me/messages", json={"to": b, "body": "from carol"}, headers=carol_h).status_code == 201
    assert gw.post("/me/messages", json={"to": c, "body": "from bob"}, headers=bob_h).status_code == 201
    wait_for(lambda: gw.get(f"/users/{b}").json()["followers_count"] == 1, timeout=15)

    assert gw.request("DELETE", "/me", json={"password": carol["password"]}, headers=carol_h).status_code == 200
    wait_for(lambda: gw.get(f"/users/{c}/activity").status_code == 404, timeout=15, message="social forgetting carol")
    assert gw.get(f"/users/{b}/followers").json() == []
    assert gw.get(f"/packages/{a}/main/kit/watchers").json() == []
    [review] = gw.get(f"/packages/{a}/main/kit/reviews").json()["reviews"]
    assert review["username"] == "deleted user" and review["body"] is None
    [conversation] = gw.get("/me/conversations", headers=bob_h).json()
    assert conversation["with"] == "deleted user" and conversation["latest"]["body"] == "from bob"
    wait_for(lambda: gw.get(f"/users/{b}").json()["followers_count"] == 0, timeout=15)
    wait_for(lambda: gw.get(f"/packages/{a}/main/kit").json()["followers_count"] == 0, timeout=15)


def test_a_watcher_who_loses_access_through_catalog_stops_watching(gw, people):
    (_alice, alice_h), (bob, bob_h) = people["alice"], people["bob"]
    org = gw.unique_name("org")
    assert gw.post("/orgs", json={"name": org}, headers=alice_h).status_code == 201
    assert gw.post(f"/orgs/{org}/members", json={"username": bob["username"]}, headers=alice_h).status_code == 201
    assert gw.post(f"/orgs/{org}/teams", json={"name": "readers", "members": [bob["username"]]},
                   headers=alice_h).status_code == 201
    assert gw.post(f"/repos/{org}/vault", json={"type": "generic", "private": True},
                   headers=alice_h).status_code == 201
    assert gw.post(f"/packages/{org}/vault", json={"name": "gold", "licenses": ["MIT"]},
                   headers=alice_h).status_code == 201
    assert gw.request("PUT", f"/repos/{org}/vault/permissions", json={"team": "readers", "permission": "read"},
                      headers=alice_h).status_code == 200
    # bob's fresh token carries his teams; social's replica catches up with catalog's permission
    _known_to_social(gw, f"/me/watches/{org}/vault/gold", gw.login(bob))
    assert [w["package"] for w in gw.get("/me/watches", headers=bob_h).json()] == ["gold"]
    assert gw.request("PUT", f"/me/watches/{org}/vault/gold", headers=people["carol"][1]).status_code == 404

    assert gw.request("DELETE", f"/repos/{org}/vault/permissions/readers", headers=alice_h).status_code == 200
    wait_for(lambda: gw.get("/me/watches", headers=gw.login(bob)).json() == [], timeout=20,
             message="the watch ending once bob cannot read the package")
    stopped = gw.query("social", "SELECT body FROM outbox WHERE type = 'social.watch.stopped' AND subject = :s",
                       s=f"{org}/vault/gold")
    assert stopped and json.loads(stopped[-1][0])["data"]["reason"] == "access_lost"
    assert gw.get(f"/packages/{org}/vault/gold/watchers", headers=gw.login(bob)).status_code == 404
