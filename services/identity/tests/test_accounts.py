def test_signup_creates_the_user_and_announces_it(api):
    body = api.signup("alice", "Alice@Example.com")
    assert body["name"] == "alice"
    assert body["gravatar_id"] == "c160f8cc69a4f0bf2b0362752353d060"  # md5("alice@example.com")
    assert body["registered"].endswith("Z")
    [event] = api.events("identity.user.registered")
    assert event["source"] == "/identity" and event["subject"] == "alice"
    assert event["data"]["username"] == "alice" and event["data"]["email"] == "Alice@Example.com"


def test_bad_signup_input_answers_400_and_creates_nothing(api):
    for body in ({"username": "a", "email": "x@example.com", "password": "long enough"},
                 {"username": "bob", "email": "not-an-email", "password": "long enough"},
                 {"username": "bob", "email": "bob@example.com", "password": "short"},
                 {"username": "bob", "email": "bob@example.com"},
                 {"username": "admin", "email": "bob@example.com", "password": "long enough"}):
        response = api.client.post("/auth/signup", json=body)
        assert response.status_code == 400, body
        assert response.json["message"].startswith("Invalid request")
    assert api.client.get("/users/bob").status_code == 404
    assert api.events() == []


def test_duplicate_username_or_email_answers_409_and_changes_nothing(api):
    api.signup("alice")
    for body in ({"username": "ALICE", "email": "other@example.com", "password": "long enough"},
                 {"username": "alice2", "email": "ALICE@example.com", "password": "long enough"}):
        response = api.client.post("/auth/signup", json=body)
        assert response.status_code == 409
        assert response.json["message"]
    assert len(api.events("identity.user.registered")) == 1


def test_login_gives_a_bearer_token_that_authenticates(api):
    api.signup("alice")
    response = api.client.post("/auth/login", json={"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 200
    assert response.json["expires_in"] > 0
    headers = api.as_gateway(f"Bearer {response.json['token']}")
    me = api.client.get("/users/alice", headers=headers).json
    assert "quota_used_bytes" in me  # the owner sees it


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(api):
    api.signup("alice")
    for username, password in (("alice", "wrong password"), ("nobody", "correct horse battery")):
        response = api.client.post("/auth/login", json={"username": username, "password": password})
        assert response.status_code == 401
        assert response.json == {"message": "Wrong username or password"}


def test_other_users_do_not_see_the_owner_only_fields(api):
    api.signup("alice")
    api.signup("bob")
    bob = api.as_gateway(f"Bearer {api.login('bob')}")
    assert "quota_used_bytes" not in api.client.get("/users/alice", headers=bob).json
    assert "quota_used_bytes" not in api.client.get("/users/alice").json


def test_unknown_user_answers_bintray_404(api):
    response = api.client.get("/users/ghost")
    assert response.status_code == 404
    assert response.json == {"message": "Subject 'ghost' was not found"}
