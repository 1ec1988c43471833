

def _send(client, headers, to, body="hello", **extra):
    return client.post("/me/messages", json={"to": to, "body": body, **extra}, headers=headers)


def test_a_conversation_from_both_sides(world, client):
    alice, bob = world.user("alice"), world.user("bob")
    sent = _send(client, alice, "bob", "Hi Bob", subject="About widget")
    assert sent.status_code == 201, sent.json
    _send(client, bob, "alice", "Hi Alice")
    _send(client, alice, "bob", "How are you?")
    [event, *_] = world.published("social.message.sent")
    assert event["sender"] == "alice" and event["recipient"] == "bob" and event["conversation_with"] == "alice"
    assert event["subject"] == "About widget" and event["body"] == "Hi Bob" and event["sent"].endswith("Z")
    [conversation] = client.get("/me/conversations", headers=bob).json
    assert conversation["with"] == "alice" and conversation["unread"] == 1  # replying read the first one
    assert conversation["latest"]["body"] == "How are you?"
    thread = client.get("/me/conversations/alice", headers=bob)
    assert [m["body"] for m in thread.json] == ["Hi Bob", "Hi Alice", "How are you?"]  # oldest first
    assert thread.headers["X-RangeLimit-Total"] == "3"
    assert client.post("/me/conversations/alice/read", headers=bob).status_code == 204
    assert client.get("/me/conversations", headers=bob).json[0]["unread"] == 0
    assert client.get("/me/conversations", headers=alice).json[0]["unread"] == 0
    # deleting is for oneself only
    assert client.delete("/me/conversations/alice", headers=bob).status_code == 204
    assert client.get("/me/conversations", headers=bob).json == []
    assert client.get("/me/conversations/alice", headers=bob).json == []
    assert len(client.get("/me/conversations/bob", headers=alice).json) == 3
    _send(client, alice, "bob", "Still there?")
    assert [m["body"] for m in client.get("/me/conversations/alice", headers=bob).json] == ["Still there?"]


def test_bad_messages_are_refused(world, client):
    alice = world.user("alice")
    world.user("bob")
    assert _send(client, {}, "bob").status_code == 401
    assert _send(client, alice, "alice").status_code == 400
    assert _send(client, alice, "ghost").status_code == 404
    assert client.post("/me/messages", json={"to": "bob"}, headers=alice).status_code in (400, 422)
    assert _send(client, alice, "bob", "").status_code in (400, 422)
    too_long = _send(client, alice, "bob", "x" * 10001)
    assert too_long.status_code == 413 and "10000" in too_long.json["message"]
    assert client.get("/me/conversations").status_code == 401
    assert client.get("/me/conversations/ghost", headers=alice).status_code == 404
    assert world.published() == []


def test_a_blocked_sender_is_refused_and_the_recipient_never_learns(world, client):
    alice, bob = world.user("alice"), world.user("bob")
    assert client.put("/me/blocked/alice", headers=bob).status_code == 204
    assert client.put("/me/blocked/alice", headers=bob).status_code == 204
    assert client.put("/me/blocked/bob", headers=bob).status_code == 400
    assert client.put("/me/blocked/ghost", headers=bob).status_code == 404
    assert [p["name"] for p in client.get("/me/blocked", headers=bob).json] == ["alice"]
    refused = _send(client, alice, "bob")
    assert refused.status_code == 403 and refused.json == {"message": "You cannot send messages to this user"}
    assert client.get("/me/conversations", headers=bob).json == [] and world.published() == []
    assert _send(client, bob, "alice").status_code == 201  # blocking is one way
    assert client.delete("/me/blocked/alice", headers=bob).status_code == 204
    assert _send(client, alice, "bob").status_code == 201


def test_new_conversations_are_limited_per_hour_with_retry_after(make_social, minter, world):
    from social.app import create_app
    limited = make_social(new_conversations_per_hour=2)
    client = create_app(limited).test_client()
    alice = world.user("alice")
    for name in ("bob", "carol", "dave"):
        world.user(name)
    assert _send(client, alice, "bob").status_code == 201
    assert _send(client, alice, "carol").status_code == 201
    assert _send(client, alice, "bob").status_code == 201  # not a new conversation
    refused = _send(client, alice, "dave")
    assert refused.status_code == 429 and "2 new conversations" in refused.json["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3601


def test_messages_are_limited_per_hour(make_social, world):
    from social.app import create_app
    client = create_app(make_social(messages_per_hour=3)).test_client()
    alice = world.user("alice")
    world.user("bob")
    for _ in range(3):
        assert _send(client, alice, "bob").status_code == 201
    refused = _send(client, alice, "bob")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
