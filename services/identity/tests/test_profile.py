"""The profile form, privacy of personal fields, linked accounts and user search."""

import pytest


def test_new_profile_has_the_name_given_at_sign_up_and_safe_defaults(api):
    me = api.user("alice", full_name="Alice Liddell")
    profile = api.client.get("/me/profile", headers=me).json
    assert profile["first_name"] == "Alice" and profile["last_name"] == "Liddell"
    assert profile["full_name"] == "Alice Liddell"
    assert profile["email"] == "alice@example.com"
    assert profile["show_email"] is False and profile["news_email"] is False
    assert profile["release_alerts_email"] is True
    assert profile["hidden_fields"] == [] and profile["has_avatar"] is False


def test_profile_changes_are_saved_and_announced_once_per_kind(api):
    me = api.user("alice")
    before = api.count_events()
    response = api.client.patch("/me/profile", headers=me, json={
        "first_name": " Alice ", "last_name": "Liddell", "bio": "Down the\nrabbit hole", "company": "Wonderland",
        "location": "Oxford", "website": "https://alice.example.org", "news_email": True})
    assert response.status_code == 200, response.json
    assert response.json["full_name"] == "Alice Liddell" and response.json["first_name"] == "Alice"
    assert response.json["bio"] == "Down the\nrabbit hole"
    assert api.count_events() == before + 2
    [profile] = api.event_data("identity.user.profile_updated")
    assert profile == {"user_id": profile["user_id"], "username": "alice", "full_name": "Alice Liddell",
                       "changed": ["first_name", "last_name", "bio", "company", "location", "website"]}
    [prefs] = api.event_data("identity.user.preferences_changed")
    assert prefs["show_email"] is False and prefs["news_email"] is True and prefs["release_alerts_email"] is True
    assert prefs["revision"] == 1

    api.client.patch("/me/profile", headers=me, json={"release_alerts_email": False})
    assert [e["revision"] for e in api.event_data("identity.user.preferences_changed")] == [1, 2]


def test_an_unchanged_profile_publishes_nothing(api):
    me = api.user("alice", full_name="Alice Liddell")
    before = api.count_events()
    response = api.client.patch("/me/profile", headers=me, json={"first_name": "Alice", "show_email": False})
    assert response.status_code == 200
    assert api.count_events() == before


@pytest.mark.parametrize("body", [
    {"website": "javascript:alert(1)"},
    {"website": "ftp://example.com"},
    {"first_name": "x" * 101},
    {"company": "Evil\x00Corp"},
    {"location": "two\nlines"},
    {"bio": "b" * 1001},
    {"show_email": "maybe"},
    {"hidden_fields": ["email"]},
    {"email": "not-an-address"},
])
def test_bad_profile_input_answers_400_and_changes_nothing(api, body):
    me = api.user("alice")
    before_profile = api.client.get("/me/profile", headers=me).json
    before = api.count_events()
    response = api.client.patch("/me/profile", headers=me, json=body)
    assert response.status_code == 400
    assert response.json["message"].startswith("Invalid request: ")
    assert api.client.get("/me/profile", headers=me).json == before_profile
    assert api.count_events() == before


def test_changing_the_email_needs_the_password_and_is_announced(api):
    me = api.user("alice")
    missing = api.client.patch("/me/profile", headers=me, json={"email": "new@example.com"})
    assert missing.status_code == 400 and "password" in missing.json["message"]
    wrong = api.client.patch("/me/profile", headers=me, json={"email": "new@example.com", "password": "nope nope",
                                                               "company": "Sneaky"})
    assert wrong.status_code == 400 and wrong.json["message"] == "The password is wrong"
    profile = api.client.get("/me/profile", headers=me).json
    assert profile["email"] == "alice@example.com" and profile["company"] == ""
    assert api.event_data("identity.user.email_changed") == []

    ok = api.client.patch("/me/profile", headers=me, json={"email": "New@Example.com", "password": api.PASSWORD})
    assert ok.status_code == 200 and ok.json["email"] == "New@Example.com"
    [event] = api.event_data("identity.user.email_changed")
    assert event["email"] == "New@Example.com" and event["previous_email"] == "alice@example.com"
    assert api.event_data("identity.user.profile_updated") == []
    assert api.client.post("/auth/login", json={"username": "new@example.com",
                                                "password": api.PASSWORD}).status_code == 200


def test_an_email_in_use_by_another_account_is_refused(api):
    api.signup("bob")
    me = api.user("alice")
    response = api.client.patch("/me/profile", headers=me, json={"email": "BOB@example.com",
                                                                  "password": api.PASSWORD})
    assert response.status_code == 409
    assert api.client.get("/me/profile", headers=me).json["email"] == "alice@example.com"


def test_profile_endpoints_need_authentication(api):
    for method, path in (("get", "/me/profile"), ("patch", "/me/profile"), ("get", "/me/accounts"),
                         ("put", "/me/accounts"), ("get", "/me"), ("get", "/me/orgs"), ("get", "/me/teams")):
        response = getattr(api.client, method)(path, json={})
        assert response.status_code == 401, path
        assert response.json == {"message": "This resource requires authentication"}


def test_others_see_only_what_the_owner_shows(api):
    me = api.user("alice", full_name="Alice Liddell")
    api.client.patch("/me/profile", headers=me, json={"bio": "hi", "company": "Wonderland", "location": "Oxford",
                                                       "website": "https://alice.example.org",
                                                       "hidden_fields": ["company", "github"]})
    api.client.put("/me/accounts", headers=me, json={"github": "alice-l", "twitter": "alice"})
    bob = api.user("bob")

    for viewer in (bob, None):
        seen = api.client.get("/users/alice", headers=viewer).json
        assert seen["full_name"] == "Alice Liddell" and seen["avatar_url"] == "/users/alice/avatar"
        assert seen["bio"] == "hi" and seen["location"] == "Oxford"
        assert "company" not in seen and "email" not in seen and "quota_used_bytes" not in seen
        assert seen["accounts"] == {"twitter": "alice", "google": "", "bitbucket": ""}

    own = api.client.get("/users/alice", headers=me).json
    assert own["company"] == "Wonderland" and own["email"] == "alice@example.com"
    assert own["accounts"]["github"] == "alice-l" and "quota_used_bytes" in own
    assert api.client.get("/me", headers=me).json == own

    api.client.patch("/me/profile", headers=me, json={"show_email": True})
    assert api.client.get("/users/alice", headers=bob).json["email"] == "alice@example.com"


def test_linked_accounts_are_validated_for_each_service(api):
    me = api.user("alice")
    response = api.client.put("/me/accounts", headers=me, json={
        "twitter": "@alice_l", "github": "alice-l", "google": "alice.liddell", "bitbucket": "alice_l"})
    assert response.status_code == 200
    assert response.json == {"twitter": "alice_l", "github": "alice-l", "google": "alice.liddell",
                             "bitbucket": "alice_l"}
    [event] = api.event_data("identity.user.profile_updated")
    assert event["changed"] == ["twitter", "github", "google", "bitbucket"]

    for body in ({"twitter": "way_too_long_for_twitter"}, {"twitter": "no-dashes"}, {"github": "-alice"},
                 {"github": "al--ice"}, {"github": "a" * 40}, {"google": "short"}, {"google": "alice..l"},
                 {"bitbucket": "al ice"}, {"github": 7}):
        bad = api.client.put("/me/accounts", headers=me, json=body)
        assert bad.status_code == 400, body
        assert bad.json["message"].startswith("Invalid request: ")
    assert api.client.get("/me/accounts", headers=me).json["github"] == "alice-l"

    cleared = api.client.put("/me/accounts", headers=me, json={"github": "alice-l"})
    assert cleared.json == {"twitter": "", "github": "alice-l", "google": "", "bitbucket": ""}
    assert api.event_data("identity.user.profile_updated")[-1]["changed"] == ["twitter", "google", "bitbucket"]


def test_search_finds_users_by_username_or_name_page_by_page(api):
    api.signup("alice", full_name="Alice Liddell")
    api.signup("bob", full_name="Bob Alison")
    api.signup("carol", full_name="Carol")
    response = api.client.get("/search/users?name=ALI")
    assert response.status_code == 200
    assert [u["name"] for u in response.json] == ["alice", "bob"]
    assert response.headers["X-RangeLimit-Total"] == "2"
    assert response.headers["X-RangeLimit-StartPos"] == "0" and response.headers["X-RangeLimit-EndPos"] == "1"
    second = api.client.get("/search/users?name=ali&start_pos=1")
    assert [u["name"] for u in second.json] == ["bob"] and second.headers["X-RangeLimit-EndPos"] == "1"
    assert api.client.get("/search/users?name=%25").json == []  # LIKE wildcards are literal
    assert "email" not in response.json[0]


def test_search_pages_hold_fifty_users(api, identity):
    from identity.models import SubjectName, User
    now = identity.clock()
    with identity.uow() as uow:
        for n in range(60):
            uow.session.add(User(id=f"id-{n}", username=f"user{n:02d}", username_key=f"user{n:02d}",
                                 email=f"u{n}@example.com", email_key=f"u{n}@example.com", password_hash="x",
                                 full_name="", is_admin=False, created_at=now, token_generation=0,
                                 followers_count=0))
            uow.session.add(SubjectName(name_key=f"user{n:02d}", kind="user", created_at=now))
        uow.commit()
    first = api.client.get("/search/users?name=user")
    assert len(first.json) == 50 and first.headers["X-RangeLimit-Total"] == "60"
    assert first.headers["X-RangeLimit-EndPos"] == "49"
    rest = api.client.get("/search/users?name=user&start_pos=50")
    assert [u["name"] for u in rest.json] == [f"user{n}" for n in range(50, 60)]


def test_search_needs_a_name(api):
    for query in ("", "?name=", "?name=a&start_pos=-1", "?name=a&start_pos=x"):
        response = api.client.get(f"/search/users{query}")
        assert response.status_code == 400, query
        assert response.json["message"].startswith("Invalid request")
