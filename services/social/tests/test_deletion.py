import sqlalchemy as sa


def test_a_deleted_account_leaves_words_of_others_and_anonymous_traces(world, client):
    world.user("alice")
    world.org("acme", owner="alice")
    world.repo("acme", "maven")
    world.package("acme", "maven", "widget")
    world.version("acme", "maven", "widget", "1.0.0")
    bob, carol = world.user("bob"), world.user("carol")
    client.put("/me/following/carol", headers=bob)
    client.put("/me/following/bob", headers=carol)
    client.put("/me/watches/acme/maven/widget", headers=bob)
    client.put("/me/blocked/carol", headers=bob)
    review_id = client.put("/packages/acme/maven/widget/reviews/mine", json={"rating": 2, "body": "meh"},
                           headers=bob).json["id"]
    client.post(f"/reviews/{review_id}/reply", json={"body": "We fixed it"}, headers=world.headers("alice"))
    client.post("/packages/acme/maven/widget/versions/1.0.0/comments", json={"body": "bob was here"}, headers=bob)
    client.delete("/me/blocked/carol", headers=bob)
    client.post("/me/messages", json={"to": "carol", "body": "secret of bob"}, headers=bob)
    client.post("/me/messages", json={"to": "bob", "body": "carol's answer"}, headers=carol)

    world.deliver("identity.user.deleted", {"user_id": world.headers and __import__("uuid").uuid5(
        __import__("uuid").NAMESPACE_URL, "bob").__str__(), "username": "bob"})

    assert client.get("/users/carol/followers").json == []
    assert client.get("/users/carol/following").json == []
    assert client.get("/packages/acme/maven/widget/watchers").json == []
    assert client.get("/users/bob/activity").status_code == 404
    stopped = world.published("social.watch.stopped")
    assert stopped[-1]["reason"] == "account_deleted" and stopped[-1]["watchers_count"] == 0
    follow_stops = world.published("social.follow.stopped")
    assert {(e["followee"], e["followers_count"]) for e in follow_stops} >= {("carol", 0), ("bob", 0)}
    reviews = client.get("/packages/acme/maven/widget/reviews").json
    [review] = reviews["reviews"]
    assert review["username"] == "deleted user" and review["body"] is None
    assert review["reply"]["body"] == "We fixed it" and reviews["rating_count"] == 1
    assert client.get("/packages/acme/maven/widget/versions/1.0.0/comments").json == []
    thread = client.get("/me/conversations", headers=carol).json
    assert thread[0]["with"] == "deleted user"
    with world.social.uow() as uow:
        from social.models import Block, Message
        bodies = [m.body for m in uow.session.scalars(sa.select(Message).order_by(Message.id))]
        assert bodies == [None, "carol's answer"]
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Block)) == 0
