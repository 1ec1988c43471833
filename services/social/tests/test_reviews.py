import pytest


@pytest.fixture
def acme(world):
    world.user("alice")
    world.org("acme", owner="alice")
    world.repo("acme", "maven")
    world.package("acme", "maven", "widget")
    world.repo("acme", "secret", private=True)
    world.package("acme", "secret", "gizmo", private=True)
    return world


def _review(client, headers, rating=4, **body):
    return client.put("/packages/acme/maven/widget/reviews/mine", json={"rating": rating, **body}, headers=headers)


def test_reviews_are_posted_edited_and_summarised(acme, client):
    bob, carol = acme.user("bob"), acme.user("carol")
    posted = _review(client, bob, 4, title="Solid", body="Works well")
    assert posted.status_code == 201, posted.json
    assert posted.json["username"] == "bob" and posted.json["rating"] == 4
    assert _review(client, carol, 5).status_code == 201
    assert _review(client, bob, 2, title="Changed my mind", body="Broke").status_code == 200  # one per user
    listed = client.get("/packages/acme/maven/widget/reviews")
    assert listed.status_code == 200 and listed.headers["X-RangeLimit-Total"] == "2"
    assert listed.json["rating"] == 3.5 and listed.json["rating_count"] == 2
    assert listed.json["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert [r["username"] for r in listed.json["reviews"]] == ["carol", "bob"]  # newest first
    events = acme.published()
    assert [(e["username"], e["rating_count"], e["average_rating"], e["revision"], e["count_revision"])
            for e in events] == [("bob", 1, 4.0, 1, 1), ("carol", 2, 4.5, 1, 2), ("bob", 2, 3.5, 2, 3)]
    assert client.delete("/packages/acme/maven/widget/reviews/mine", headers=bob).status_code == 204
    assert client.delete("/packages/acme/maven/widget/reviews/mine", headers=bob).status_code == 204
    deleted = acme.published("social.review.deleted")
    assert len(deleted) == 1 and deleted[0]["rating_count"] == 1 and deleted[0]["average_rating"] == 5.0
    assert [r["username"] for r in client.get("/packages/acme/maven/widget/reviews").json["reviews"]] == ["carol"]


@pytest.mark.parametrize("body", [{"rating": 0}, {"rating": 6}, {"rating": "5"}, {"rating": 4.5}, {},
                                  {"rating": 3, "body": "x" * 10001}, {"rating": 3, "title": "t" * 201}])
def test_invalid_reviews_are_refused(acme, client, body):
    bob = acme.user("bob")
    response = client.put("/packages/acme/maven/widget/reviews/mine", json=body, headers=bob)
    assert response.status_code in (400, 422) and response.json["message"]
    assert acme.published() == []


def test_who_may_not_review(acme, client):
    bob = acme.user("bob")
    assert client.put("/packages/acme/maven/widget/reviews/mine", json={"rating": 3}).status_code == 401
    assert _review(client, acme.headers("alice")).status_code == 403  # the owner of acme
    acme.member("acme", "pub")
    acme.user("pub")
    acme.team("acme", "publishers", ["pub"])
    acme.permission("acme", "maven", "publishers", "publish")
    assert _review(client, acme.headers("pub")).status_code == 403  # a publisher of the package
    response = client.put("/packages/acme/secret/gizmo/reviews/mine", json={"rating": 3}, headers=bob)
    assert response.status_code == 404
    assert client.get("/packages/acme/secret/gizmo/reviews", headers=bob).status_code == 404
    assert client.get("/packages/acme/maven/nothing/reviews").status_code == 404
    assert acme.published() == []


def test_the_owner_replies_once_and_anyone_may_report(acme, client):
    bob, carol = acme.user("bob"), acme.user("carol")
    review_id = _review(client, bob, 1, body="Useless").json["id"]
    assert client.post(f"/reviews/{review_id}/reply", json={"body": "Sorry"}, headers=carol).status_code == 403
    replied = client.post(f"/reviews/{review_id}/reply", json={"body": "Fixed in 1.1"}, headers=acme.headers("alice"))
    assert replied.status_code == 201 and replied.json["reply"]["body"] == "Fixed in 1.1"
    assert client.post(f"/reviews/{review_id}/reply", json={"body": "Again"},
                       headers=acme.headers("alice")).status_code == 409
    [event] = acme.published("social.review.replied")
    assert event == {"review_id": review_id, "owner": "acme", "repo": "maven", "package": "widget",
                     "reviewer": "bob", "replier": "alice", "body": "Fixed in 1.1"}
    assert client.post(f"/reviews/{review_id}/report", json={"reason": "rude"}, headers=carol).status_code == 202
    assert client.post(f"/reviews/{review_id}/report", json={"reason": "rude"}, headers=carol).status_code == 202
    assert client.post(f"/reviews/{review_id}/report", json={}, headers=carol).status_code in (400, 422)
    assert client.post("/reviews/999/report", json={"reason": "x"}, headers=carol).status_code == 404
    assert client.post(f"/reviews/{review_id}/report", json={"reason": "x"}).status_code == 401
    assert client.get("/reviews/reports", headers=carol).status_code == 403

    admin = acme.headers("root", admin=True)
    acme.user("root")
    [report] = client.get("/reviews/reports", headers=admin).json
    assert report["reason"] == "rude" and report["reporter"] == "carol" and report["review"]["id"] == review_id
    assert client.put(f"/reviews/{review_id}/hidden", headers=carol).status_code == 403
    assert client.put(f"/reviews/{review_id}/hidden", headers=admin).status_code == 200
    summary = client.get("/packages/acme/maven/widget/reviews").json
    assert summary["reviews"] == [] and summary["rating_count"] == 0 and summary["rating"] is None
    assert acme.published("social.review.updated")[-1]["rating_count"] == 0
    assert client.get("/reviews/reports", headers=admin).json == []
    assert client.delete(f"/reviews/{review_id}/hidden", headers=admin).status_code == 200
    assert client.get("/packages/acme/maven/widget/reviews").json["rating_count"] == 1


def test_ids_no_review_can_have_answer_404(acme, client):
    carol = acme.user("carol")
    for review_id in ("99999999999999999999", "0", "-1", "abc"):
        response = client.post(f"/reviews/{review_id}/report", json={"reason": "x"}, headers=carol)
        assert response.status_code == 404, review_id
    path = "/packages/acme/maven/widget/versions/1.0.0/comments/99999999999999999999"
    assert client.put(path, json={"body": "x"}, headers=carol).status_code == 404
