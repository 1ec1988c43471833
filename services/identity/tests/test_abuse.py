"""Credentials under attack: login throttling that never locks the owner out, sign-up limits, bounded
password hashing, key reloads, and what a password change or reset does to other credentials."""

import dataclasses
import threading

import pytest
from cryptography.fernet import Fernet

from identity.credentials import HashingBusy, Passwords

NEW_PASSWORD = "a brand new pass phrase"


def login(api, username="alice", password=None, address="198.51.100.7", client=None):
    client = client or api.client
    return client.post("/auth/login", json={"username": username, "password": password or api.PASSWORD},
                       headers={"X-Forwarded-For": address})


def fresh_client(api):
    """Another client (no device cookie)."""
    return api.client.application.test_client()


def test_failures_slow_the_failing_source_not_the_owner_elsewhere(api):
    api.signup("alice")
    attacker = fresh_client(api)
    assert [login(api, password="wrong guess", address="203.0.113.7", client=attacker).status_code
            for _ in range(5)] == [401] * 5
    blocked = login(api, address="203.0.113.7", client=attacker)  # even the right password, from there
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "30"
    # the owner, from an address that has not been failing, gets in
    assert login(api, address="198.51.100.7", client=fresh_client(api)).status_code == 200


def test_a_client_that_logged_in_before_gets_in_even_from_a_failing_address(api):
    api.signup("alice")
    owner = fresh_client(api)
    first = login(api, address="192.0.2.10", client=owner)
    assert first.status_code == 200 and "packyard_device=" in first.headers["Set-Cookie"]
    assert "HttpOnly" in first.headers["Set-Cookie"] and "SameSite=Strict" in first.headers["Set-Cookie"]
    # an attacker behind the same address (a shared NAT) fails over and over
    attacker = fresh_client(api)
    for _ in range(25):
        login(api, password="wrong guess", address="192.0.2.10", client=attacker)
    assert login(api, address="192.0.2.10", client=attacker).status_code == 429
    assert login(api, address="192.0.2.10", client=owner).status_code == 200
    # the cookie is the account's own: shown for another account it counts for nothing
    api.signup("bob")
    for _ in range(5):
        login(api, "bob", password="wrong guess", address="192.0.2.10", client=attacker)
    assert login(api, "bob", address="192.0.2.10", client=owner).status_code == 429
    # a device's own failures slow it down too
    for _ in range(5):
        assert login(api, password="wrong guess", address="192.0.2.10", client=owner).status_code == 401
    assert login(api, address="192.0.2.10", client=owner).status_code == 429


def test_a_spread_out_attack_gives_each_new_address_one_failure_and_the_owner_still_gets_in(api):
    api.signup("alice")
    for n in range(20):  # 20 addresses, one failure each: none is blocked yet, the account is under attack
        assert login(api, password="guess", address=f"203.0.113.{n}", client=fresh_client(api)).status_code == 401
    newcomer = fresh_client(api)
    assert login(api, password="guess", address="203.0.113.200", client=newcomer).status_code == 401
    assert login(api, password="guess", address="203.0.113.200", client=newcomer).status_code == 429
    assert login(api, address="198.51.100.50", client=fresh_client(api)).status_code == 200


def test_ipv6_sources_are_counted_per_64(api):
    api.signup("alice")
    for n in range(5):
        login(api, password="guess", address=f"2001:db8:1:2::{n + 1:x}", client=fresh_client(api))
    assert login(api, address="2001:db8:1:2:ffff::1", client=fresh_client(api)).status_code == 429
    assert login(api, address="2001:db8:1:3::1", client=fresh_client(api)).status_code == 200
    # an IPv4-mapped address is its IPv4 address
    for _ in range(5):
        login(api, password="guess", address="::ffff:192.0.2.99", client=fresh_client(api))
    assert login(api, address="192.0.2.99", client=fresh_client(api)).status_code == 429


def signup(api, name, address):
    return api.client.post("/auth/signup", json={"username": name, "email": f"{name}@example.com",
                                                 "password": api.PASSWORD}, headers={"X-Forwarded-For": address})


def test_sign_ups_are_limited_per_address_and_per_64(api, clock):
    api.identity.throttle = dataclasses.replace(api.identity.throttle, max_signups_per_address=10)
    assert [signup(api, f"user{n}", f"2001:db8:5:6::{n + 1:x}").status_code for n in range(10)] == [201] * 10
    refused = signup(api, "one-more", "2001:db8:5:6::abcd")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 3600
    assert api.rows("users", username="one-more") == []
    assert signup(api, "elsewhere", "2001:db8:5:7::1").status_code == 201
    clock.shift(hours=1, seconds=1)
    assert signup(api, "one-more", "2001:db8:5:6::abcd").status_code == 201


def test_password_hashing_is_bounded_per_process(api, identity):
    passwords = identity.passwords
    taken = [passwords._slots.acquire(timeout=1) for _ in range(64) if passwords._slots.acquire(blocking=False)]
    try:
        assert taken  # every slot of this process is held by "other requests"
        response = api.client.post("/auth/signup", json={"username": "alice", "email": "alice@example.com",
                                                         "password": api.PASSWORD})
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        assert response.json == {"message": "The service is busy checking passwords: try again in a moment"}
        assert api.rows("users") == []
    finally:
        for _ in taken:
            passwords._slots.release()
    api.signup("alice")


def test_a_hash_waits_for_a_free_slot_briefly_then_gives_up():
    import argon2

    passwords = Passwords(argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1), max_concurrent=1,
                          wait=0.05)
    held, release = threading.Event(), threading.Event()

    def hold():
        with passwords._slot():
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    with pytest.raises(HashingBusy):
        passwords.hash("anything at all")
    release.set()
    thread.join()
    assert passwords.verify(passwords.hash("anything at all"), "anything at all")


def test_unknown_key_ids_reload_the_signing_keys_at_most_every_few_seconds(identity, monkeypatch):
    keyring = identity.keyring
    loads = []
    real = keyring._load
    monkeypatch.setattr(keyring, "_load", lambda session: (loads.append(1), real(session)))
    with identity.uow() as uow:
        keyring.refresh(uow.session)
        loads.clear()
        for n in range(20):
            assert keyring.public_key(uow.session, f"made-up-{n}") is None
    assert len(loads) <= 1


def test_changing_the_password_tells_the_owner(api):
    me = api.user("alice")
    response = api.client.put("/me/password", headers=me, json={
        "old_password": api.PASSWORD, "new_password": NEW_PASSWORD, "retype_password": NEW_PASSWORD})
    assert response.status_code == 200
    [event] = api.event_data("identity.user.password_changed")
    assert event["username"] == "alice" and event["email"] == "alice@example.com"
    assert event["reset"] is False and event["api_key_revoked"] is False


def reset_token(api):
    event = api.event_data("identity.user.password_reset_requested")[-1]
    return Fernet(api.MAIL_TOKEN_KEY.encode()).decrypt(event["token_ciphertext"].encode()).decode()


@pytest.mark.parametrize("revoke", [True, False])
def test_a_reset_can_revoke_the_api_key_and_tells_the_owner(api, revoke):
    me = api.user("alice")
    key_headers, key = api.api_key_headers(me, "alice")
    old_login = api.login()
    api.client.post("/auth/password-reset", json={"email": "alice@example.com"})
    body = {"token": reset_token(api), "new_password": NEW_PASSWORD, "revoke_api_key": revoke}
    assert api.client.post("/auth/password-reset/confirm", json=body).status_code == 200
    assert api.authn(f"Bearer {old_login}").status_code == 401  # login tokens issued before are refused
    assert api.authn(api.basic("alice", key)).status_code == (401 if revoke else 200)
    [event] = api.event_data("identity.user.password_changed")
    assert event["reset"] is True and event["api_key_revoked"] is revoke
    assert len(api.event_data("identity.api_key.revoked")) == (1 if revoke else 0)


def test_a_forgotten_api_key_is_regenerated_and_the_old_one_refused(api):
    me = api.user("alice")
    _headers, old_key = api.api_key_headers(me, "alice")
    response = api.client.put("/me/apikey", headers=me)
    assert response.status_code == 200
    new_key = response.json["api_key"]
    assert new_key != old_key
    assert api.authn(api.basic("alice", old_key)).status_code == 401
    assert api.authn(api.basic("alice", new_key)).status_code == 200
    issued = api.event_data("identity.api_key.issued")
    assert len(issued) == 2 and len(api.event_data("identity.api_key.revoked")) == 1
    # the notifier gets the key sealed with MAIL_TOKEN_KEY, never in clear
    sealed = issued[-1]["api_key_ciphertext"]
    assert Fernet(api.MAIL_TOKEN_KEY.encode()).decrypt(sealed.encode()).decode() == new_key
    assert new_key not in str(api.events())
    # a key alone cannot regenerate itself
    assert api.client.put("/me/apikey", headers=api.as_gateway(api.basic("alice", new_key))).status_code == 403
