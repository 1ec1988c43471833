from packyard.consumer import Outcome


def test_following_a_user_lists_them_both_ways_and_publishes_the_count(world, client):
    alice, bob = world.user("alice", full_name="Alice Liddell"), world.user("bob")
    world.user("carol")
    assert client.put("/me/following/alice", headers=bob).status_code == 204
    assert client.put("/me/following/alice", headers=bob).status_code == 204  # idempotent
    followers = client.get("/users/alice/followers")
    assert followers.status_code == 200 and followers.headers["X-RangeLimit-Total"] == "1"
    [entry] = followers.json
    assert entry["name"] == "bob" and entry["full_name"] == "Bob" and len(entry["gravatar_id"]) == 32
    assert entry["avatar_url"] == "/users/bob/avatar"
    assert [p["name"] for p in client.get("/users/bob/following").json] == ["alice"]
    assert [p["name"] for p in client.get("/me/following", headers=bob).json] == ["alice"]
    [started] = world.published("social.follow.started")
    assert started == {"follower": "bob", "followee": "alice", "followee_type": "user", "followers_count": 1,
                       "revision": 1, "count_revision": 1}
    assert client.delete("/me/following/alice", headers=bob).status_code == 204
    assert client.delete("/me/following/alice", headers=bob).status_code == 204
    assert client.get("/users/alice/followers").json == []
    [stopped] = world.published("social.follow.stopped")
    assert stopped["followers_count"] == 0 and stopped["revision"] == 2 and stopped["count_revision"] == 2
    assert alice


def test_two_followers_make_the_count_revision_grow_for_the_followee(world, client):
    world.user("alice")
    bob, carol = world.user("bob"), world.user("carol")
    client.put("/me/following/alice", headers=bob)
    client.put("/me/following/alice", headers=carol)
    client.delete("/me/following/alice", headers=bob)
    events = world.published()
    assert [(e["follower"], e["followers_count"], e["revision"], e["count_revision"]) for e in events] == [
        ("bob", 1, 1, 1), ("carol", 2, 1, 2), ("bob", 1, 2, 3)]
    # keeping the highest count_revision gives the right count in any delivery order
    latest = max(events, key=lambda e: e["count_revision"])
    assert latest["followers_count"] == 1


def test_organizations_can_be_followed(world, client):
    world.user("alice")
    bob = world.user("bob")
    world.org("acme", owner="alice")
    assert client.put("/me/following/acme", headers=bob).status_code == 204
    assert [p["name"] for p in client.get("/orgs/acme/followers").json] == ["bob"]
    following = client.get("/users/bob/following").json
    assert following[0]["name"] == "acme" and following[0]["type"] == "org"
    assert world.published("social.follow.started")[0]["followee_type"] == "org"
    assert client.get("/orgs/alice/followers").status_code == 404  # a user, not an organization


def test_bad_follows_answer_4xx_and_change_nothing(world, client):
    bob = world.user("bob")
    response = client.put("/me/following/bob", headers=bob)
    assert response.status_code == 400 and response.json == {"message": "You cannot follow yourself"}
    response = client.put("/me/following/ghost", headers=bob)
    assert response.status_code == 404 and response.json == {"message": "Subject 'ghost' was not found"}
    assert client.put("/me/following/bob").status_code == 401
    assert client.delete("/me/following/bob").status_code == 401
    assert client.get("/users/ghost/followers").status_code == 404
    assert client.get("/orgs/ghost/followers").status_code == 404
    assert world.published() == []


def test_followers_are_paged_like_bintray(world, client):
    world.user("star")
    for n in range(53):
        client.put("/me/following/star", headers=world.user(f"fan{n:02d}"))
    first = client.get("/users/star/followers")
    assert len(first.json) == 50 and first.headers["X-RangeLimit-Total"] == "53"
    second = client.get("/users/star/followers?start_pos=50")
    assert len(second.json) == 3 and second.headers["X-RangeLimit-EndPos"] == "52"


def test_a_follow_event_redelivered_by_identity_is_processed_once(world):
    assert world.deliver("identity.user.registered", {"user_id": "u1", "username": "dora"},
                         event_id="e-1") == Outcome.PROCESSED
    assert world.deliver("identity.user.registered", {"user_id": "u1", "username": "dora"},
                         event_id="e-1") == Outcome.DUPLICATE


def test_a_new_user_can_follow_before_their_registration_reaches_social(world, client):
    world.user("alice")
    early = world.headers("newbie")  # identity's token; the registration event is still on its way
    assert client.put("/me/following/alice", headers=early).status_code == 204
    assert [p["name"] for p in client.get("/users/alice/followers").json] == ["newbie"]
    world.user("newbie")  # the registration arrives: one joined entry, the follow kept
    assert [e["type"] for e in client.get("/users/newbie/activity").json] == ["followed", "joined"] or \
        sorted(e["type"] for e in client.get("/users/newbie/activity").json) == ["followed", "joined"]
    world.deliver("identity.user.deleted", {"user_id": world.headers and __import__("uuid").uuid5(
        __import__("uuid").NAMESPACE_URL, "newbie").__str__(), "username": "newbie"})
    assert client.put("/me/following/alice", headers=early).status_code == 404  # deleted stays deleted


def test_a_private_repository_of_a_user_is_read_by_the_users_teams(world, client):
    world.user("alice")
    bob = world.user("bob")
    world.repo("alice", "private", private=True)
    world.package("alice", "private", "tool", private=True)
    assert client.get("/packages/alice/private/tool/watchers", headers=bob).status_code == 404
    world.deliver("identity.team.created", {"subject": "alice", "subject_type": "user", "team": "friends",
                                            "members": ["bob"], "allow_repo_creation": False, "revision": 1})
    world.permission("alice", "private", "friends", "read")
    assert client.get("/packages/alice/private/tool/watchers", headers=bob).status_code == 200


def test_two_identical_follows_at_the_same_instant_make_one_follow(world, social):
    import threading

    from social.app import create_app
    world.user("alice")
    bob = world.user("bob")
    clients = [create_app(social).test_client() for _ in range(4)]
    barrier, answers = threading.Barrier(4), []

    def follow(c):
        barrier.wait()
        answers.append(c.put("/me/following/alice", headers=bob).status_code)
    threads = [threading.Thread(target=follow, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [204] * 4
    assert [e["followers_count"] for e in world.published("social.follow.started")] == [1]
