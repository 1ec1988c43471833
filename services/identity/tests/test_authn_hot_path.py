"""The gateway's authentication (``/internal/authn``) as a hot path: one statement per request, nothing
written, the access token minted a moment ago answered again while its claims hold — and every
revocation still refused on the very next request."""

from __future__ import annotations

import base64

import jwt
import pytest
import sqlalchemy as sa

from packyard.testing import statements


def access_token(api, authorization):
    response = api.authn(authorization)
    assert response.status_code == 200, response.json
    return response.headers["X-Packyard-Token"]


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def credentials(api):
    headers = api.user("alice")
    _, key = api.api_key_headers(headers, "alice")
    return api.basic("alice", key), f"Bearer {api.login()}"


@pytest.fixture(params=["api", "sqlite_api"])
def either(request):
    return request.getfixturevalue(request.param)


def test_an_authentication_is_one_statement_and_writes_nothing(either):
    api = either
    basic, bearer = credentials(api)
    for authorization in (basic, bearer):
        access_token(api, authorization)  # the first one mints (and may load the signing keys)
        with statements() as seen:
            access_token(api, authorization)
        assert len(seen) == 1, seen
        assert seen[0].lstrip().upper().startswith(("WITH", "SELECT")), seen
    with statements() as seen:
        assert api.authn(api.basic("alice", "0" * 40)).status_code == 401
    assert len(seen) == 1, seen


def test_a_token_minted_moments_ago_is_answered_again_while_its_claims_hold(api, clock):
    basic, bearer = credentials(api)
    alice = api.as_gateway(bearer)
    for authorization in (basic, bearer):
        first = access_token(api, authorization)
        clock.shift(seconds=5)
        assert access_token(api, authorization) == first

    # a change of the claims (an organization, so a role in it) mints a new token on the next request
    assert api.client.post("/orgs", headers=alice, json={"name": "wonderland"}).status_code == 201
    for authorization in (basic, bearer):
        token = access_token(api, authorization)
        assert claims(token)["orgs"] == {"wonderland": "owner"}
        assert access_token(api, authorization) == token

    # a token past half its lifetime is replaced, so none handed out is close to expiring
    token = access_token(api, basic)
    clock.shift(seconds=api.identity.settings.access_token_ttl / 2 + 1)
    renewed = access_token(api, basic)
    assert renewed != token and claims(renewed)["exp"] > claims(token)["exp"]


def test_revocations_are_refused_on_the_very_next_request_although_a_token_was_minted(api):
    basic, bearer = credentials(api)
    alice = api.as_gateway(bearer)
    for authorization in (basic, bearer, basic, bearer):
        access_token(api, authorization)

    # a regenerated API key: the old one is refused at once, the new one works
    new_key = api.client.put("/me/apikey", headers=alice).json["api_key"]
    assert api.authn(basic).status_code == 401
    assert api.authn(api.basic("alice", new_key)).status_code == 200
    # a revoked one likewise
    assert api.client.delete("/me/apikey", headers=alice).status_code == 200
    assert api.authn(api.basic("alice", new_key)).status_code == 401

    # a changed password: every login token issued before is refused
    other = f"Bearer {api.login()}"
    access_token(api, other)
    response = api.client.put("/me/password", headers=alice, json={
        "old_password": api.PASSWORD, "new_password": "a brand new passphrase", "retype_password":
            "a brand new passphrase"})
    assert response.status_code == 200, response.json
    assert api.authn(bearer).status_code == 401 and api.authn(other).status_code == 401

    # a logged-out login token
    fresh = f"Bearer {response.json['token']}"
    access_token(api, fresh)
    assert api.client.post("/auth/logout", headers=api.as_gateway(fresh)).status_code == 200
    assert api.authn(fresh).status_code == 401

    # a deleted user: the API key and the login tokens of a moment ago are refused
    login = f"Bearer {api.login('alice', 'a brand new passphrase')}"
    me = api.as_gateway(login)
    key = api.client.post("/me/apikey", headers=me).json["api_key"]
    for authorization in (login, api.basic("alice", key)):
        access_token(api, authorization)
    response = api.client.delete("/me", headers=me, json={"password": "a brand new passphrase"})
    assert response.status_code == 200, response.json
    assert api.authn(login).status_code == 401
    assert api.authn(api.basic("alice", key)).status_code == 401


def test_a_basic_name_that_is_not_the_keys_owner_is_refused_even_after_a_success(api):
    basic, _ = credentials(api)
    api.user("bob")
    access_token(api, basic)
    _, secret = base64.b64decode(basic.split(" ", 1)[1]).decode().split(":", 1)
    assert api.authn(api.basic("bob", secret)).status_code == 401
    assert api.authn(api.basic("Alice", secret)).status_code == 401


def test_connections_the_database_dropped_do_not_fail_an_authentication(api):
    basic, bearer = credentials(api)
    for authorization in (basic, bearer):
        access_token(api, authorization)
    database = api.identity.platform.engine.url.database
    with api.identity.platform.engine.connect() as conn:  # as a restart of the database would
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database})
    for authorization in (basic, bearer, basic, bearer):
        access_token(api, authorization)
