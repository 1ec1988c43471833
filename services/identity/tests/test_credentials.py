"""Passwords, password resets, login throttling, the API key's protections, account deletion, admins."""

import io

import jwt
import pytest
from cryptography.fernet import Fernet

NEW_PASSWORD = "a brand new secret phrase"


def claims(headers):
    return jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})


# --- password change ---------------------------------------------------------------------------

def test_changing_the_password_refuses_older_bearer_tokens_and_returns_a_new_one(api):
    api.signup("alice")
    old_token = api.login()
    me = api.as_gateway(f"Bearer {old_token}")
    response = api.client.put("/me/password", headers=me, json={
        "old_password": api.PASSWORD, "new_password": NEW_PASSWORD, "retype_password": NEW_PASSWORD})
    assert response.status_code == 200, response.json
    assert response.json["message"] == "success" and response.json["expires_in"] > 0
    assert api.authn(f"Bearer {old_token}").status_code == 401
    assert api.authn(f"Bearer {response.json['token']}").status_code == 200
    assert api.client.post("/auth/login", json={"username": "alice", "password": api.PASSWORD}).status_code == 401
    api.login("alice", NEW_PASSWORD)


@pytest.mark.parametrize("body, message", [
    ({"old_password": "wrong password", "new_password": NEW_PASSWORD, "retype_password": NEW_PASSWORD},
     "The old password is wrong"),
    ({"old_password": "correct horse battery", "new_password": NEW_PASSWORD, "retype_password": NEW_PASSWORD + "!"},
     "The new password and its retyped copy do not match"),
    ({"old_password": "correct horse battery", "new_password": "password123", "retype_password": "password123"},
     "Password is too common: choose one that is harder to guess"),
    ({"old_password": "correct horse battery", "new_password": "xx-alice-xx", "retype_password": "xx-alice-xx"},
     "Password must not contain your username"),
    ({"old_password": "correct horse battery", "new_password": "abababababab", "retype_password": "abababababab"},
     "Password must use at least 5 different characters"),
    ({"old_password": "correct horse battery", "new_password": "correct horse battery",
      "retype_password": "correct horse battery"}, "The new password must differ from the old one"),
    ({"old_password": "correct horse battery", "new_password": "short", "retype_password": "short"},
     "Invalid request: new_password: must be at least 8 characters long"),
    ({"old_password": "correct horse battery", "new_password": NEW_PASSWORD}, None),
])
def test_a_refused_password_change_says_why_and_changes_nothing(api, body, message):
    api.signup("alice")
    token = api.login()
    me = api.as_gateway(f"Bearer {token}")
    response = api.client.put("/me/password", headers=me, json=body)
    assert response.status_code == 400
    assert message in response.json["message"] if message else response.json["message"].startswith("Invalid")
    assert api.authn(f"Bearer {token}").status_code == 200
    api.login("alice", api.PASSWORD)


def test_sign_up_applies_the_password_policy(api):
    response = api.client.post("/auth/signup", json={"username": "alice", "email": "alice@example.com",
                                                     "password": "Sunshine2024!"})
    assert response.status_code == 400
    assert response.json["message"] == "Password is too common: choose one that is harder to guess"
    assert api.client.get("/users/alice").status_code == 404
    assert api.events() == []


def test_credential_endpoints_need_authentication(api):
    for method, path in (("put", "/me/password"), ("delete", "/me"), ("get", "/me/apikey")):
        response = getattr(api.client, method)(path, json={"password": "x", "old_password": "x",
                                                           "new_password": NEW_PASSWORD, "retype_password": "x"})
        assert response.status_code == 401
        assert response.json == {"message": "This resource requires authentication"}


# --- password reset ----------------------------------------------------------------------------

# --- logout ------------------------------------------------------------------------------------

def test_logging_out_refuses_that_login_token_at_once_and_keeps_the_others(api, clock):
    api.signup("alice")
    token, other = api.login(), api.login()
    response = api.client.post("/auth/logout", headers=api.as_gateway(f"Bearer {token}"))
    assert response.status_code == 200 and response.json == {"message": "success"}
    assert api.authn(f"Bearer {token}").status_code == 401
    assert api.authn(f"Bearer {other}").status_code == 200
    [row] = api.rows("revoked_logins")
    assert row["jti"] == jwt.decode(token, options={"verify_signature": False})["jti"]
    assert api.count_events() == 1  # the sign-up's only: logging out is identity's own business


def test_logging_out_drops_the_rows_of_expired_tokens_and_needs_a_login_token(api, clock):
    api.signup("alice")
    ttl = api.identity.settings.login_token_ttl
    clock.shift(seconds=-(ttl - 60))  # a token that expires a minute from now
    expiring = api.login()
    clock.shift(seconds=ttl - 60)
    assert api.client.post("/auth/logout", headers=api.as_gateway(f"Bearer {expiring}")).status_code == 200
    assert len(api.rows("revoked_logins")) == 1
    later = api.login()
    headers = api.as_gateway(f"Bearer {later}")
    clock.shift(seconds=120)  # the first token has expired by now: its row goes
    assert api.client.post("/auth/logout", headers=headers).status_code == 200
    assert [r["jti"] for r in api.rows("revoked_logins")] == [
        jwt.decode(later, options={"verify_signature": False})["jti"]]
    clock.shift(seconds=-120)
    with_key, _ = api.api_key_headers(api.as_gateway(f"Bearer {api.login()}"), "alice")
    response = api.client.post("/auth/logout", headers=with_key)
    assert response.status_code == 400 and "login token" in response.json["message"]
    assert api.client.post("/auth/logout").status_code == 401


def reset_token(api, index=-1):
    event = api.event_data("identity.user.password_reset_requested")[index]
    return Fernet(api.MAIL_TOKEN_KEY.encode()).decrypt(event["token_ciphertext"].encode()).decode()


def test_a_reset_link_sets_a_new_password_once(api):
    api.signup("alice")
    old_token = api.login()
    response = api.client.post("/auth/password-reset", json={"email": "ALICE@example.com"})
    assert response.status_code == 202
    [event] = api.event_data("identity.user.password_reset_requested")
    assert event["username"] == "alice" and event["email"] == "alice@example.com"
    assert event["expires_at"].endswith("Z")
    token = reset_token(api)
    assert token not in str(api.rows("password_resets")) and token not in str(api.events())

    confirm = api.client.post("/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert confirm.status_code == 200 and confirm.json == {"message": "success"}
    assert api.authn(f"Bearer {old_token}").status_code == 401
    api.login("alice", NEW_PASSWORD)
    again = api.client.post("/auth/password-reset/confirm", json={"token": token, "new_password": "another one 42"})
    assert again.status_code == 400
    assert again.json == {"message": "This password-reset link is invalid or has expired: ask for a new one"}
    api.login("alice", NEW_PASSWORD)


def test_asking_for_a_reset_answers_the_same_for_unknown_addresses(api):
    api.signup("alice")
    known = api.client.post("/auth/password-reset", json={"email": "alice@example.com"})
    unknown = api.client.post("/auth/password-reset", json={"email": "nobody@example.com"})
    assert (known.status_code, known.json) == (unknown.status_code, unknown.json)
    assert len(api.event_data("identity.user.password_reset_requested")) == 1
    bad = api.client.post("/auth/password-reset", json={"email": "nope"})
    assert bad.status_code == 400


def test_reset_links_expire(api, clock):
    api.signup("alice")
    clock.shift(hours=-2)
    api.client.post("/auth/password-reset", json={"email": "alice@example.com"})
    clock.shift(hours=2)
    response = api.client.post("/auth/password-reset/confirm",
                               json={"token": reset_token(api), "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    api.login("alice", api.PASSWORD)


def test_a_weak_new_password_keeps_the_link_usable(api):
    api.signup("alice")
    api.client.post("/auth/password-reset", json={"email": "alice@example.com"})
    token = reset_token(api)
    weak = api.client.post("/auth/password-reset/confirm", json={"token": token, "new_password": "password1"})
    assert weak.status_code == 400 and "too common" in weak.json["message"]
    ok = api.client.post("/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert ok.status_code == 200


def test_only_a_few_reset_links_are_sent_per_hour(api):
    api.signup("alice")
    answers = [api.client.post("/auth/password-reset", json={"email": "alice@example.com"}) for _ in range(5)]
    assert {a.status_code for a in answers} == {202}
    assert len(api.event_data("identity.user.password_reset_requested")) == 3


def test_a_password_change_kills_outstanding_reset_links(api):
    me = api.user("alice")
    api.client.post("/auth/password-reset", json={"email": "alice@example.com"})
    api.client.put("/me/password", headers=me, json={"old_password": api.PASSWORD, "new_password": NEW_PASSWORD,
                                                      "retype_password": NEW_PASSWORD})
    response = api.client.post("/auth/password-reset/confirm",
                               json={"token": reset_token(api), "new_password": "yet another phrase"})
    assert response.status_code == 400


# --- throttling ------------------------------------------------------------------------------

def fail_login(api, username="alice", address="203.0.113.7"):
    return api.client.post("/auth/login", json={"username": username, "password": "wrong password"},
                           headers={"X-Forwarded-For": address})


def test_repeated_failures_for_a_username_answer_429_to_the_failing_address_even_with_the_right_password(
        api, clock):
    api.signup("alice")
    assert [fail_login(api).status_code for _ in range(5)] == [401] * 5
    blocked = api.client.post("/auth/login", json={"username": "alice", "password": api.PASSWORD},
                              headers={"X-Forwarded-For": "203.0.113.7"})
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == "30"
    assert blocked.json == {"message": "Too many failed attempts: try again in 30 seconds"}
    clock.shift(seconds=31)
    api.client.post("/auth/login", json={"username": "alice", "password": api.PASSWORD},
                    headers={"X-Forwarded-For": "203.0.113.7"})  # a success clears that address's count
    assert fail_login(api).status_code == 401


def test_the_wait_doubles_with_each_further_failure_up_to_a_cap(api, clock, identity):
    api.signup("alice")
    for _ in range(5):
        fail_login(api)
    waits = []
    for _ in range(8):
        response = fail_login(api)
        assert response.status_code == 429
        waits.append(int(response.headers["Retry-After"]))
        clock.shift(seconds=waits[-1] + 1)
        assert fail_login(api).status_code == 401
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]
    assert max(waits) == identity.settings.login_max_lockout


def test_failures_from_one_address_throttle_every_username_from_it(api):
    api.signup("alice")
    for n in range(20):
        assert fail_login(api, f"guess{n}", address="198.51.100.1").status_code == 401
    assert fail_login(api, "alice", address="198.51.100.1").status_code == 429
    assert api.client.post("/auth/login", json={"username": "alice", "password": api.PASSWORD},
                           headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200


def test_the_address_is_the_one_the_gateway_appended(api):
    for n in range(20):
        fail_login(api, f"guess{n}", address=f"10.9.9.{n}, 198.51.100.1")
    assert fail_login(api, "someone", address="10.0.0.1, 198.51.100.1").status_code == 429


def test_wrong_passwords_on_sensitive_changes_count_as_failures(api):
    me = api.user("alice")
    for _ in range(5):
        response = api.client.put("/me/password", headers=me, json={
            "old_password": "not my password", "new_password": NEW_PASSWORD, "retype_password": NEW_PASSWORD})
        assert response.status_code == 400
    assert api.client.delete("/me", headers=me, json={"password": api.PASSWORD}).status_code == 429
    # from the same address, a client that never logged into the account waits too
    assert api.client.application.test_client().post(
        "/auth/login", json={"username": "alice", "password": api.PASSWORD}).status_code == 429


# --- the API key --------------------------------------------------------------------------------

def test_showing_or_generating_the_api_key_needs_a_recent_password_login(api, clock):
    api.signup("alice")
    clock.shift(minutes=-16)
    old_login = api.login()
    clock.shift(minutes=16)
    stale = api.as_gateway(f"Bearer {old_login}")  # a valid access token for a login 16 minutes ago
    refused = api.client.post("/me/apikey", headers=stale)
    assert refused.status_code == 403
    assert refused.json["message"] == \
        "Generating an API key needs a password login from the last 15 minutes: log in again"
    fresh = api.as_gateway(f"Bearer {api.login()}")
    key = api.client.post("/me/apikey", headers=fresh).json["api_key"]
    assert api.client.get("/me/apikey", headers=stale).status_code == 403
    with_key = api.as_gateway(api.basic("alice", key))
    assert claims(with_key)["amr"] == "apikey"
    shown = api.client.get("/me/apikey", headers=with_key)
    assert shown.status_code == 403 and key not in shown.get_data(as_text=True)
    assert api.client.get("/me/apikey", headers=fresh).json == {"api_key": key}


def test_revoking_with_the_key_itself_refuses_it_at_once(api):
    me = api.user("alice")
    with_key, key = api.api_key_headers(me, "alice")
    assert api.client.delete("/me/apikey", headers=with_key).json == {"message": "success"}
    assert api.authn(api.basic("alice", key)).status_code == 401


# --- account deletion ---------------------------------------------------------------------------

def test_deleting_my_account_needs_my_password_and_makes_everyone_forget_me(api):
    me = api.user("alice")
    token = api.login()
    _, key = api.api_key_headers(me, "alice")
    wrong = api.client.delete("/me", headers=me, json={"password": "not it at all"})
    assert wrong.status_code == 400 and wrong.json == {"message": "The password is wrong"}
    assert api.client.get("/users/alice").status_code == 200
    assert api.client.delete("/me", headers=me, json={}).status_code == 400

    response = api.client.delete("/me", headers=me, json={"password": api.PASSWORD})
    assert response.status_code == 200 and response.json == {"message": "success"}
    [event] = api.event_data("identity.user.deleted")
    assert event["username"] == "alice" and event["user_id"]
    assert api.client.get("/users/alice").status_code == 404
    assert api.authn(f"Bearer {token}").status_code == 401
    assert api.authn(api.basic("alice", key)).status_code == 401
    assert api.client.get("/me/profile", headers=me).status_code == 401
    assert api.rows("users") == [] and api.rows("api_keys") == []


def test_a_deleted_name_is_never_given_to_anyone_else(api):
    me = api.user("alice")
    api.client.delete("/me", headers=me, json={"password": api.PASSWORD})
    again = api.client.post("/auth/signup", json={"username": "Alice", "email": "other@example.com",
                                                  "password": api.PASSWORD})
    assert again.status_code == 409
    bob = api.user("bob")
    assert api.client.post("/orgs", headers=bob, json={"name": "alice"}).status_code == 409
    api.signup("alice2", email="alice@example.com")  # the address is free again


def test_the_only_owner_of_an_organization_cannot_delete_their_account(api):
    me = api.user("alice")
    api.client.post("/orgs", headers=me, json={"name": "wonderland"})
    response = api.client.delete("/me", headers=me, json={"password": api.PASSWORD})
    assert response.status_code == 409
    assert "'wonderland'" in response.json["message"]
    assert api.client.get("/users/alice").status_code == 200


def test_deleting_an_account_takes_it_out_of_its_organizations_and_teams(api):
    owner = api.user("alice")
    bob = api.user("bob")
    api.client.post("/orgs", headers=owner, json={"name": "wonderland"})
    api.client.post("/orgs/wonderland/members", headers=owner, json={"username": "bob"})
    api.client.post("/orgs/wonderland/teams", headers=owner, json={"name": "devs", "members": ["alice", "bob"]})
    api.client.post("/users/bob/teams", headers=bob, json={"name": "mine", "members": ["alice"]})
    api.client.post("/users/alice/teams", headers=owner, json={"name": "friends", "members": ["bob"]})

    assert api.client.delete("/me", headers=bob, json={"password": api.PASSWORD}).status_code == 200
    types = [e["type"] for e in api.events()]
    tail = types[types.index("identity.team.created", types.index("identity.team.created") + 2) + 1:]
    assert tail == ["identity.team.updated", "identity.member.removed", "identity.team.deleted",
                    "identity.team.updated", "identity.user.deleted"]
    devs = api.event_data("identity.team.updated")[0]
    assert devs["subject"] == "wonderland" and devs["members"] == ["alice"]
    friends = api.event_data("identity.team.updated")[1]
    assert friends["subject"] == "alice" and friends["members"] == []
    assert api.event_data("identity.team.deleted")[0]["subject"] == "bob"
    org = api.client.get("/orgs/wonderland", headers=owner).json
    assert org["members"] == [{"name": "alice", "type": "owner"}]


# --- platform administrators --------------------------------------------------------------------

def test_create_admin_makes_an_administrator_whose_tokens_say_so(api, identity, monkeypatch):
    from identity.__main__ import run

    settings = identity.settings
    for name, value in {"DATABASE_URL": settings.database_url, "AMQP_URL": settings.amqp_url,
                        "SECRET_KEY": settings.secret_key, "MAIL_TOKEN_KEY": settings.mail_token_key}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdin", io.StringIO("an admin pass phrase\n"))
    assert run(["create-admin", "root-admin", "--email", "root@example.com", "--password-stdin"]) == 0
    admin = api.as_gateway(f"Bearer {api.login('root-admin', 'an admin pass phrase')}")
    assert claims(admin)["adm"] is True
    assert api.event_data("identity.user.registered")[-1]["username"] == "root-admin"

    api.signup("alice")
    user = api.as_gateway(f"Bearer {api.login('alice')}")
    assert claims(user)["adm"] is False
    assert run(["create-admin", "alice"]) == 0
    assert claims(api.as_gateway(f"Bearer {api.login('alice')}"))["adm"] is True
    monkeypatch.setattr("sys.stdin", io.StringIO("an admin pass phrase\n"))
    assert run(["create-admin", "nobody-yet", "--password-stdin"]) == 1  # a new account needs an email
    assert api.client.get("/users/nobody-yet").status_code == 404


def test_administrators_see_every_field_of_a_user(api):
    api.user("alice")
    api.client.patch("/me/profile", headers=api.as_gateway(f"Bearer {api.login('alice')}"),
                     json={"hidden_fields": ["company"], "company": "Wonderland"})
    from identity.models import User
    api.signup("root-admin")
    with api.identity.uow() as uow:
        uow.session.query(User).filter(User.username == "root-admin").update({"is_admin": True})
        uow.commit()
    admin = api.as_gateway(f"Bearer {api.login('root-admin')}")
    seen = api.client.get("/users/alice", headers=admin).json
    assert seen["company"] == "Wonderland" and seen["email"] == "alice@example.com"

