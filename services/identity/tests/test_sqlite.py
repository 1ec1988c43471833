"""The flows that lean on database specifics also work on SQLite, the embedded database of a local run:
insert-or-nothing and timestamps without zones (throttling, reset expiry), savepoints (name
conflicts), and cascades (account deletion)."""

from cryptography.fernet import Fernet


def test_throttling_and_expiring_reset_links_on_sqlite(sqlite_api, clock):
    api = sqlite_api
    api.signup("alice")
    for _ in range(5):
        assert api.client.post("/auth/login", json={"username": "alice", "password": "wrong password"}).status_code \
            == 401
    blocked = api.client.post("/auth/login", json={"username": "alice", "password": api.PASSWORD})
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "30"
    clock.shift(seconds=31)
    api.login()

    clock.shift(hours=-2)
    api.client.post("/auth/password-reset", json={"email": "alice@example.com"})
    clock.shift(hours=2)
    ciphertext = api.event_data("identity.user.password_reset_requested")[-1]["token_ciphertext"]
    token = Fernet(api.MAIL_TOKEN_KEY.encode()).decrypt(ciphertext.encode()).decode()
    assert api.client.post("/auth/password-reset/confirm",
                           json={"token": token, "new_password": "a fresh pass phrase"}).status_code == 400


def test_name_conflicts_and_account_deletion_on_sqlite(sqlite_api):
    api = sqlite_api
    alice = api.user("alice")
    bob = api.user("bob")
    assert api.client.post("/orgs", headers=alice, json={"name": "Bob"}).status_code == 409
    assert api.client.post("/orgs", headers=alice, json={"name": "wonderland"}).status_code == 201
    api.client.post("/orgs/wonderland/members", headers=alice, json={"username": "bob"})
    assert api.client.post("/orgs/wonderland/teams", headers=alice, json={"name": "devs", "members": ["bob"]}) \
        .status_code == 201
    assert api.client.post("/orgs/wonderland/teams", headers=alice, json={"name": "DEVS"}).status_code == 409
    api.client.post("/me/apikey", headers=bob)
    assert api.client.delete("/me", headers=bob, json={"password": api.PASSWORD}).status_code == 200
    assert api.rows("api_keys") == [] and api.rows("team_members") == [] and len(api.rows("org_members")) == 1
    assert api.client.get("/orgs/wonderland/teams/devs", headers=alice).json["members"] == []
