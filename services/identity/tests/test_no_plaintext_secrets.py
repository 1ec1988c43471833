"""No password, API key, reset token or bearer token in clear in any table or log line of identity."""

import io
import logging

import sqlalchemy as sa
from cryptography.fernet import Fernet

from packyard.logs import JsonFormatter


def dump_every_table(engine):
    text = []
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("latin-1")
                    text.append(str(value))
    return "\n".join(text)


def test_a_full_scenario_leaves_no_secret_in_clear_in_tables_or_logs(api, identity):
    log_output = io.StringIO()
    handler = logging.StreamHandler(log_output)
    handler.setFormatter(JsonFormatter("identity"))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    secrets = {}
    try:
        secrets["first password"] = "first secret passphrase"
        secrets["second password"] = "second secret passphrase"
        secrets["third password"] = "third secret passphrase"
        secrets["wrong password"] = "wrong guess passphrase"
        secrets["bob password"] = "the other passphrase"
        api.signup("alice", password=secrets["first password"])
        api.signup("bob", password=secrets["bob password"])
        secrets["login token"] = api.login("alice", secrets["first password"])
        alice = api.as_gateway(f"Bearer {secrets['login token']}")
        secrets["api key"] = api.client.post("/me/apikey", headers=alice).json["api_key"]
        assert api.client.get("/me/apikey", headers=alice).json["api_key"] == secrets["api key"]
        basic = api.basic("alice", secrets["api key"])
        secrets["basic credentials"] = basic.split()[1]
        assert api.authn(basic).status_code == 200
        assert api.client.post("/auth/login", json={"username": "alice",
                                                    "password": secrets["wrong password"]}).status_code == 401
        secrets["password typed as a username"] = "oops my passphrase"
        assert api.client.post("/auth/login", json={"username": secrets["password typed as a username"],
                                                    "password": "oops"}).status_code == 401

        changed = api.client.put("/me/password", headers=alice, json={
            "old_password": secrets["first password"], "new_password": secrets["second password"],
            "retype_password": secrets["second password"]})
        assert changed.status_code == 200
        secrets["token after change"] = changed.json["token"]
        assert api.client.put("/me/password", headers=alice, json={
            "old_password": secrets["wrong password"], "new_password": secrets["third password"],
            "retype_password": secrets["third password"]}).status_code == 400

        assert api.client.post("/auth/password-reset", json={"email": "alice@example.com"}).status_code == 202
        ciphertext = api.event_data("identity.user.password_reset_requested")[-1]["token_ciphertext"]
        secrets["reset token"] = Fernet(api.MAIL_TOKEN_KEY.encode()).decrypt(ciphertext.encode()).decode()
        assert api.client.post("/auth/password-reset/confirm", json={
            "token": secrets["reset token"], "new_password": secrets["third password"]}).status_code == 200
        alice = api.as_gateway(f"Bearer {api.login('alice', secrets['third password'])}")

        assert api.client.patch("/me/profile", headers=alice, json={
            "email": "alice@new.example.com", "password": secrets["third password"]}).status_code == 200
        bob = api.as_gateway("Bearer " + api.login("bob", secrets["bob password"]))
        assert api.client.post("/orgs", headers=alice, json={"name": "wonderland"}).status_code == 201
        assert api.client.post("/orgs/wonderland/members", headers=alice, json={"username": "bob"}).status_code == 201
        assert api.client.post("/orgs/wonderland/teams", headers=alice,
                               json={"name": "devs", "members": ["bob"]}).status_code == 201
        assert api.client.patch("/orgs/wonderland/teams/devs", headers=alice,
                                json={"allow_repo_creation": True}).status_code == 200
        assert api.client.delete("/me", headers=bob, json={"password": secrets["wrong password"]}).status_code == 400
        assert api.client.delete("/me", headers=bob, json={"password": secrets["bob password"]}).status_code == 200
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)

    tables = dump_every_table(identity.platform.engine)
    logs = log_output.getvalue()
    assert "outbox" in sa.inspect(identity.platform.engine).get_table_names()
    assert "identity.user.password_reset_requested" in tables and "login" in logs  # both were really captured
    for name, secret in secrets.items():
        assert secret not in tables, f"the {name} is stored in clear"
        assert secret not in logs, f"the {name} is logged"
